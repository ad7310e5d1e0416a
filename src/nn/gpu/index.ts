// The llama on the GPU: the same model as src/nn/llama.ts, written as explicit WebGPU kernel calls
// (forward with an optional KV cache, and its backward), over any HostRunner. Loaded on demand
// (`await import(...)`) by the training loop (src/train/gpu) and the builtin provider.
export { DEFAULT_TUNING, type GpuContext, type GpuOpener, type GpuOptions, type KernelTuning, gpuOpener, openGpuContext } from "./context.js";
export { type GpuKvCache, type GpuModel, forward, gpuModel, newKvCache, releaseKvCache, releaseModel } from "./forward.js";
export { backward } from "./backward.js";
export { GpuWeights, checkGpuSupport } from "./weights.js";
export { ScopedRunner } from "./scope.js";
