// The llama.cpp provider: gguf: references run locally through node-llama-cpp. The registry imports
// this module dynamically and calls these two factories by name.
export { createLlamaCppLanguageModel } from "./language-model.js";
export { createLlamaCppEmbeddingModel } from "./embedding-model.js";
export { defaultThreads, type LlamaCppSettings } from "./options.js";
export { checkModelFile, checkLoraFile, type ModelFacts } from "./preflight.js";
