// The model layer's public surface: the interfaces, model references, the provider registry,
// usage accounting, and the OpenAI-compatible provider. The llama.cpp provider is reached through
// the registry only, so importing this file never loads node-llama-cpp.
export type * from "./types.js";
export { parseModelRef, type ModelRef, type ModelScheme } from "./ref.js";
export { createLanguageModel, createEmbeddingModel, type ProviderFactories } from "./registry.js";
export { costOf, priceFor, withCost, estimateTokens, UsageMeter, meterLanguageModel, meterEmbeddingModel, type UsageTotals } from "./usage.js";
export { createOpenAiLanguageModel, createOpenAiEmbeddingModel, type OpenAiEmbeddingModel, type OpenAiProviderOptions } from "./providers/openai/index.js";
