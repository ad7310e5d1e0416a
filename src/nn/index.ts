// Neural-network modules for the llama architecture, built on src/tensor.
export { Module, ModuleList, type StateDict, type TensorData } from "./module.js";
export { Embedding, FeedForward, type InitOptions, Linear, type LinearAdapter, type MoEOptions, MoEFeedForward, RMSNorm, topKIndices } from "./layers.js";
export { Attention, type ForwardOptions, Llama, type LossOptions, TransformerBlock } from "./llama.js";
export { LLAMA_SHAPE_DEFAULTS, type LlamaConfig, type ModelShape, countParameters, llamaConfigSchema, modelShapeFileSchema, shapeWithDefaults, validateConfig } from "./llama-config.js";
export { DEFAULT_LORA, LORA_TARGETS, LoraAdapter, LoraModel, type LoraOptions, type LoraTarget, attachLora, loadLora, loraShapeFromStateDict, parseLoraTargets } from "./lora.js";
