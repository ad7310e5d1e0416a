// The model layer's public surface: the interfaces, model references, the provider registry,
// usage accounting, the sampler, and the OpenAI-compatible provider. The llama.cpp and builtin
// providers are reached through the registry only, so importing this file never loads node-llama-cpp
// or the training engine.
export type * from "./types.js";
export { parseModelRef, type ModelRef, type ModelScheme } from "./ref.js";
export { createLanguageModel, createEmbeddingModel, type ProviderFactories } from "./registry.js";
export { costOf, priceFor, withCost, estimateTokens, UsageMeter, meterLanguageModel, meterEmbeddingModel, type UsageTotals } from "./usage.js";
export { createOpenAiLanguageModel, createOpenAiEmbeddingModel, type OpenAiEmbeddingModel, type OpenAiProviderOptions } from "./providers/openai/index.js";
export { Sampler, StopSequenceMatcher, resolveSampling, type SamplerSettings } from "./sampling.js";
