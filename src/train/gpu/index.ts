// Training a llama on the GPU: the step (src/train/gpu/trainer.ts) over the GPU llama of src/nn/gpu.
// Loaded on demand (`await import(...)`) by src/train/pretrain.ts when asked for "gpu".
export { DEFAULT_TUNING, type GpuContext, type GpuOpener, type GpuOptions, type KernelTuning, gpuOpener, openGpuContext } from "../../nn/gpu/index.js";
export { GpuTrainer } from "./trainer.js";
