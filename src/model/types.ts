// The model layer's contract: one small interface for language models and one for embedding
// models. Providers (builtin engine, llama.cpp, OpenAI-compatible servers) are plain functions
// returning these; everything above (knowledge, agents, server) depends only on this file.

/** A JSON Schema object (draft 2020-12 subset as used by tools and structured output). */
export type JsonSchema = { [key: string]: unknown };

export type Role = "system" | "user" | "assistant" | "tool";

export interface ToolCall {
  /** Provider-assigned id, echoed back in the tool message that answers it. */
  id: string;
  name: string;
  /** Arguments parsed from the model's JSON; `rawArguments` keeps the exact text. */
  arguments: Record<string, unknown>;
  rawArguments: string;
}

export interface ChatMessage {
  role: Role;
  content: string;
  /** Tool calls an assistant message made. */
  toolCalls?: ToolCall[];
  /** For role "tool": the call this message answers. */
  toolCallId?: string;
  /** For role "tool": the tool's name. */
  name?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
}

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
  maxTokens?: number;
  /** Generation ends before any of these strings; they are not part of the text. */
  stop?: string[];
}

export interface GenerateRequest extends SamplingOptions {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: "auto" | "none" | "required" | { name: string };
  /** Constrain the answer to JSON matching this schema; the parsed value is in `result.json`. */
  responseSchema?: JsonSchema;
  signal?: AbortSignal;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "aborted";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** In US dollars, when the model has a price in the price table; absent otherwise. */
  costUsd?: number;
}

export interface GenerateResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  /** The model that answered (provider's own id where it reports one). */
  model: string;
  /** The parsed JSON when the request had a responseSchema. */
  json?: unknown;
  latencyMs: number;
}

export type StreamEvent =
  | { type: "text-delta"; text: string }
  | { type: "tool-call"; call: ToolCall }
  | { type: "finish"; result: GenerateResult };

/** The version of this contract (capabilities.ts LANGUAGE_MODEL_SPEC); bumped on a breaking change. */
export type LanguageModelSpec = "strata.language-model.v1";

/** Whether a model can do something; "maybe" when the provider cannot know before asking (a remote server). */
export type Support = boolean | "maybe";

/** What a language model declares it can do, so callers choose a path before sending a request. */
export interface ModelCapabilities {
  /** Native tool calls (`request.tools`, `result.toolCalls`). */
  tools: Support;
  /** Output constrained to a JSON schema (`request.responseSchema`, `result.json`). */
  jsonSchema: Support;
  /** Incremental text from `stream()` (without it, the whole text arrives as one delta). */
  streaming: Support;
  /** Per-token log-probabilities (no field of contract v1's results carries them yet). */
  logprobs: Support;
}

export interface LanguageModel {
  /** The contract version implemented; absent means v1. */
  readonly specificationVersion?: LanguageModelSpec;
  /** What the model can do (capabilities.ts); absent means UNDECLARED: try, and read MODEL_UNSUPPORTED. */
  readonly capabilities?: ModelCapabilities;
  /** The model reference it was created from, e.g. "gguf:./models/x.gguf". */
  readonly id: string;
  readonly provider: string;
  /** Context window in tokens, when known. */
  readonly contextLength?: number;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  stream(request: GenerateRequest): AsyncIterable<StreamEvent>;
  /** Tokens the model's tokenizer makes of a text (for context budgeting); estimated where unknown. */
  countTokens(text: string): Promise<number>;
  close(): Promise<void>;
}

export interface EmbeddingModel {
  /** Stable identity of the vector space: vectors of different ids never mix. */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[], opts?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Price of a model per million tokens, from the config's price table. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Options every provider factory takes; the CLI and server fill them from env and config. */
export interface ProviderOptions {
  /** API key for remote providers; never logged. */
  apiKey?: string;
  timeoutMs?: number;
  /** Retries on 429/5xx/network errors, with exponential backoff. */
  maxRetries?: number;
  /** Price table: model id (or reference) → price. */
  prices?: Record<string, ModelPrice>;
  /** CPU threads for local inference (node-llama-cpp defaults to 4, far too many on 2 cores). */
  threads?: number;
  /** Context size for local models. */
  contextSize?: number;
  /** Diagnostic lines from the provider (llama.cpp's log), for errors. */
  onLog?: (line: string) => void;
  /** Inject fetch (tests, proxies). */
  fetch?: typeof fetch;
}
