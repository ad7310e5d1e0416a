// Strata's tensor library: float32 tensors with views, reverse-mode autograd, the ops a llama needs,
// and kernels with a plain-TS reference and an optional OpenBLAS fast path. Imports nothing of
// Strata but src/core.

export { Tensor, type BackwardFn, type TensorOptions, enableGrad, fromOp, full, isGradEnabled, noGrad, ones, rand, randn, scalar, tensor, zeros } from "./tensor.js";
export * from "./ops.js";
export {
  type AttentionOptions, type CrossEntropyOptions, type RopeOptions, KVCache, attention, crossEntropy, logSoftmax, rmsNorm, rope, softmax, swiglu,
} from "./fused.js";
export { layerNorm, modulate, patchify, unpatchify } from "./image.js";
export { Rng, type RngState } from "../core/random.js";
export { type Shape, broadcastShapes, contiguousStrides, numel } from "./shape.js";
export { type Backend, type BackendInfo, type BackendName, backend, backendInfo, quantizedKernel, referenceBackend, setBackend, setThreads, withBackend } from "./backend.js";
export { type Gemm, referenceGemm } from "./kernels/gemm.js";
export { type AttentionDims, type HeadView } from "./kernels/attention.js";
export { type RopeScaling } from "./kernels/rows.js";
export { type DeviceName, DEVICES, parseDevice } from "./device.js";
export { type QuantizedWeight, type QuantType, attachQuantized, detachQuantized, quantizedTwin } from "./quantized.js";
export { qmatmulReference, dequantizeRows } from "./kernels/quant.js";
export { type AdamWStep, adamwReference, scaleReference, sumSquaresReference } from "./kernels/optim.js";
