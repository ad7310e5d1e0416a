// Training and running a llama on the GPU (WebGPU kernels over any HostRunner). Loaded on demand
// (`await import(...)`) by src/train/pretrain.ts and the builtin provider when asked for "gpu".
export { DEFAULT_TUNING, type GpuContext, type GpuOpener, type GpuOptions, type KernelTuning, gpuOpener, openGpuContext } from "./context.js";
export { GpuTrainer, type StepResult } from "./trainer.js";
export { type GpuKvCache, type GpuModel, forward, gpuModel, newKvCache, releaseKvCache, releaseModel } from "./forward.js";
export { backward } from "./backward.js";
export { GpuWeights, checkGpuSupport } from "./weights.js";
export { ScopedRunner } from "./scope.js";
