// The OpenAI-compatible provider: language and embedding models over HTTP, plus the message
// mapping the OpenAI-compatible server reuses.
export { createOpenAiLanguageModel } from "./language-model.js";
export { createOpenAiEmbeddingModel, type OpenAiEmbeddingModel } from "./embedding-model.js";
export type { OpenAiProviderOptions } from "./config.js";
export { fromWireMessages, toWireMessages, fromWireToolCall, toWireToolCall, toWireTools } from "./messages.js";
export { schemaProblem, parseJsonOutput } from "./json-output.js";
export { SseParser, readSse, type SseEvent } from "./sse.js";
