// Training the image model (src/nn/diffusion) on Fashion-MNIST.
export { type DiffusionEvent, type DiffusionStepper, type DiffusionTrainOptions, type DiffusionTrainResult, cpuDiffusionStepper, trainDiffusion } from "./train.js";
export { DIFFUSION_PRESETS, type DiffusionPreset, type DiffusionPresetName, type DiffusionSettings, type DitShape, isDiffusionPreset, resolveDiffusionSettings } from "./settings.js";
export { type BatchSource, type DiffusionBatch, drawBatch, rowsByClass } from "./data.js";
