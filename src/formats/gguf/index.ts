// GGUF v3 read/write (ggml's docs/gguf.md): the one GGUF implementation the engine, providers and tests use.
export * from "./types.js";
export { ggufValue, metaBool, metaNumber, metaNumberArray, metaString, metaStringArray } from "./metadata.js";
export { DEFAULT_GGUF_LIMITS, type GgufHeader, type GgufLimits } from "./header.js";
export { openGguf, readGgufBuffer, readGgufHeader, type GgufReader, type OpenGgufOptions } from "./reader.js";
export { encodeGguf, writeGguf, type GgufTensorInput, type GgufWriteInput, type TensorData } from "./writer.js";
export {
  DECODABLE_TYPES,
  ENCODABLE_TYPES,
  decodeTensorData,
  dequantizeQ4_0,
  dequantizeQ8_0,
  encodeTensorData,
  quantizeQ4_0,
  quantizeQ4_1,
  quantizeQ5_0,
  quantizeQ5_1,
  quantizeQ8_0,
  tensorByteSize,
  type EncodableType,
} from "./quant.js";
export { QK_K, dequantizeQ2_K, dequantizeQ3_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K, quantizeQ2_K, quantizeQ3_K, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K } from "./quant-k.js";
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.js";
export { LLAMA_GGUF_QUANTS, exportLlamaGguf, llamaGgufModelMetadata, llamaGgufTensorMap, llamaGgufTensors, llamaGgufTokenizerMetadata, parseLlamaGgufQuant, type LlamaGgufExportInput, type LlamaGgufExportResult, type LlamaGgufQuant, type LlamaGgufTensorPlan, type LlamaGgufTensorSource } from "./llama-export.js";
export { SUPPORTED_ARCHITECTURES, type SupportedArchitecture, ggufArchitecture, halvesToPairs, importFromReader, importLlamaGguf, llamaConfigFromGguf, tokenizerFromGguf, type ImportLlamaGgufOptions, type LlamaGgufImport } from "./llama-import.js";
export { vocabSpecFromGguf, vocabTokenizerFromGguf } from "./vocab-import.js";
export { inspectGguf, type GgufInspection, type Verdict } from "./inspect.js";
export { canScanFinite, firstNonFiniteStored } from "./finite-scan.js";
export { exportLoraGguf, loraGgufTensors, type LoraGgufExportInput } from "./lora-export.js";
