// Strata's WebGPU path (WGSL kernels through Dawn). Load it on demand — `await import(".../webgpu/index.js")`
// — never from the CPU path at startup. Kernels are plain functions over a `Runner`, so they run on
// a GpuDevice or, in the tests, in a WGSL interpreter.

export { type GpuInfo, GpuDevice, type OpenGpuOptions, openGpu } from "./device.js";
export { type GpuBuffer, BufferPool, bucketBytes } from "./buffer-pool.js";
export { type HostRunner, type KernelCall, type Runner, grid } from "./kernel-call.js";
export { DEFAULT_TILE, type GemmArgs, type MatmulTile, checkTile, matmulCall, matmulShader } from "./kernels/matmul.js";
export { accumulate, add, fill, scale } from "./kernels/elementwise.js";
export { copy } from "./kernels/copy.js";
export { swigluBackward, swigluForward } from "./kernels/swiglu.js";
export { rope, ropeTables } from "./kernels/rope.js";
export { rmsNormBackward, rmsNormForward } from "./kernels/rmsnorm.js";
export { embeddingBackward, embeddingForward, embeddingGradIndex } from "./kernels/embedding.js";
export { countTargets, crossEntropyBackward, crossEntropyForward } from "./kernels/cross-entropy.js";
export { type AdamWStep, adamwScalars, adamwUpdate } from "./kernels/adamw.js";
export { clipGradNorm, colSum, sumAll } from "./kernels/reduce.js";
export { attentionForward } from "./kernels/attention.js";
export { attentionBackward } from "./kernels/attention-backward.js";
export { type AttentionTiles, type ViewLayout, DEFAULT_ATTENTION_TILES, packedLayout } from "./kernels/attention-common.js";
