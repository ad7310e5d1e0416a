// The builtin: provider — a LanguageModel on Strata's own engine. A chat renders through the
// tokenizer's ChatML template (`<|im_start|>role\ncontent<|im_end|>\n…<|im_start|>assistant\n`),
// runs once through the model to fill the KV cache, and then one token at a time: src/model/
// sampling.ts picks each token, the tokenizer's stream decoder turns tokens into text (a character
// split across tokens comes out whole), and stop strings are matched on that text. Generation ends
// at EOS or <|im_end|> (finish "stop"), a stop string ("stop"), maxTokens or the end of the context
// ("length"), or the AbortSignal ("aborted", with the text so far). `generate` is `stream` collected,
// so the two always agree.
//
// Usage counts tokens: input = the prompt's ids (BOS and chat markers included), output = the
// tokens sampled (a final EOS/<|im_end|> and tokens cut by a stop string included).
//
// Besides chat, `complete`/`streamCompletion` continue raw text (no template), which is what a
// model that was only pretrained is good for, and `lossOf` scores text for `strata eval lm`. A raw
// completion may run past the context: when the cache is full, the last 3/4 of the context's tokens
// are run again from position 0 (a sliding window, as nanoGPT's sampler crops to its block size,
// though less often) and generation goes on; a prompt longer than the context keeps its end. A chat
// stops at the end of the context instead (finish "length"), so the conversation's start is never lost.
//
// Tools and response schemas are not supported by this engine yet: a request with either is a
// MODEL_UNSUPPORTED error saying so (no constrained decoding), and `capabilities` declares it.
//
// One request runs at a time (there is one KV cache); others wait their turn. Each token yields to
// the event loop, so aborts, timers and other requests' I/O keep running during a generation.
import { StrataError, throwIfAborted } from "../../../core/errors.js";
import type { ProgressListener } from "../../../core/events.js";
import type { TextTokenizer } from "../../../tokenizer/index.js";
import { LANGUAGE_MODEL_SPEC, unsupported } from "../../capabilities.js";
import { Sampler, StopSequenceMatcher } from "../../sampling.js";
import type { FinishReason, GenerateRequest, GenerateResult, LanguageModel, ModelPrice, SamplingOptions, StreamEvent } from "../../types.js";
import { priceFor, withCost } from "../../usage.js";
import { assertFiniteLogits } from "../../finite-check.js";
import { type InferenceEngine, LlamaInference, type LossTotals } from "./engine.js";
import type { Llama } from "../../../nn/index.js";

export interface BuiltinModelOptions {
  /** The model reference (LanguageModel.id); default "builtin:<name>". */
  id?: string;
  /** The model name results carry (GenerateResult.model). */
  name?: string;
  /** KV-cache positions (default: the model's maxSeq, at most 4096). */
  contextSize?: number;
  /** Price table (by id or name), for usage cost. */
  prices?: Record<string, ModelPrice>;
  /** Runs generation and scoring instead of the CPU engine (the GPU's, see gpu-engine.ts); released on close. */
  engine?: InferenceEngine;
}

/** A raw-text continuation request: no chat template. */
export interface CompletionRequest extends SamplingOptions {
  prompt: string;
  /** Start with BOS (default: the tokenizer's addBosToken, as llama.cpp does with add_bos_token). */
  addBos?: boolean;
  signal?: AbortSignal;
}

/** The context used when nobody says: the model's own, capped like the llama.cpp provider's. */
export const DEFAULT_MAX_CONTEXT = 4096;

export class BuiltinLanguageModel implements LanguageModel {
  readonly provider = "builtin";
  readonly specificationVersion = LANGUAGE_MODEL_SPEC;
  readonly capabilities = { tools: false, jsonSchema: false, streaming: true, logprobs: false } as const;
  readonly id: string;
  readonly contextLength: number;
  readonly tokenizer: TextTokenizer;
  /** The CPU engine (the reference; idle when another engine runs the requests). */
  readonly engine: LlamaInference;
  /** The engine that runs requests: `engine`, or the one given in the options. */
  readonly active: InferenceEngine;
  private readonly name: string;
  private readonly price?: ModelPrice;
  private readonly endIds: ReadonlySet<number>;
  private turn: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly closing = new AbortController();

  constructor(model: Llama, tokenizer: TextTokenizer, options: BuiltinModelOptions = {}) {
    if (tokenizer.vocabSize > model.config.vocab) {
      throw new StrataError("STATE_DICT_MISMATCH", `the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocab} embedding rows`, "use the tokenizer the model was trained with");
    }
    this.name = options.name ?? "strata-llama";
    this.id = options.id ?? `builtin:${this.name}`;
    this.tokenizer = tokenizer;
    this.engine = new LlamaInference(model, { contextLength: options.contextSize ?? Math.min(model.config.maxSeq, DEFAULT_MAX_CONTEXT) });
    this.active = options.engine ?? this.engine;
    this.contextLength = this.active.contextLength;
    this.price = priceFor(options.prices, this.id) ?? priceFor(options.prices, this.name);
    this.endIds = new Set(tokenizer.endOfGenerationIds);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    return collect(this.stream(request));
  }

  stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    return this.events(() => this.chatIds(request), request, false);
  }

  /** Continues `prompt` as raw text (no chat template). */
  async complete(request: CompletionRequest): Promise<GenerateResult> {
    return collect(this.streamCompletion(request));
  }

  streamCompletion(request: CompletionRequest): AsyncIterable<StreamEvent> {
    return this.events(() => this.completionIds(request), request, true);
  }

  /** The ids a completion prompt becomes (BOS per `addBos`). */
  completionIds(request: Pick<CompletionRequest, "prompt" | "addBos">): number[] {
    if (typeof request.prompt !== "string") throw new StrataError("USAGE", "prompt must be a string", 'e.g. { prompt: "Once upon a time" }');
    return this.tokenizer.encode(request.prompt, { addBos: request.addBos ?? this.tokenizer.addBosToken });
  }

  /** The ids a chat request becomes: ChatML with the assistant's turn opened. */
  chatIds(request: GenerateRequest): number[] {
    if (request.tools && request.tools.length > 0 && request.toolChoice !== "none") {
      throw unsupported("tools", "the builtin engine yet", "leave out tools (or set toolChoice: \"none\"), or use a gguf: or openai: model for tool calls");
    }
    if (request.responseSchema) {
      throw unsupported("jsonSchema", "the builtin engine yet", "leave out responseSchema, or use a gguf: or openai: model for structured output");
    }
    if (!Array.isArray(request.messages) || request.messages.length === 0) throw new StrataError("USAGE", "the request has no messages", 'e.g. messages: [{ role: "user", content: "Hi" }]');
    return this.tokenizer.applyChatTemplate(
      request.messages.map((m) => ({ role: m.role, content: m.content })),
      { addGenerationPrompt: true },
    );
  }

  async countTokens(text: string): Promise<number> {
    return this.tokenizer.encode(text).length;
  }

  /**
   * Next-token cross-entropy of a text (BOS first when the tokenizer adds it; only its first
   * `maxTokens` ids when given), in windows of `window` positions (default: the context length, at
   * most the model's maxSeq): summed nats, the number of tokens scored and the window used.
   */
  async lossOf(text: string, options: { window?: number; maxTokens?: number; signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<LossTotals & { window: number }> {
    const all = this.tokenizer.encode(text, { addBos: this.tokenizer.addBosToken });
    const ids = options.maxTokens === undefined ? all : all.slice(0, options.maxTokens);
    const window = Math.min(options.window ?? this.contextLength, this.engine.model.config.maxSeq);
    const totals = await this.exclusive(() => this.active.loss(ids, { window, signal: options.signal, onProgress: options.onProgress }));
    return { ...totals, window };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await this.turn.catch(() => {});
    this.engine.release();
    if (this.active !== this.engine) this.active.release();
  }

  /** Runs `fn` when no other request is running. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    const prev = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((r) => (release = r));
    try {
      await prev;
      this.checkOpen();
      return await fn();
    } finally {
      release();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StrataError("USAGE", `${this.id} is closed`, "create the model again to use it");
  }

  private async *events(prompt: () => number[], request: SamplingOptions & { signal?: AbortSignal }, slide: boolean): AsyncGenerator<StreamEvent> {
    const started = performance.now();
    throwIfAborted(request.signal);
    this.checkOpen();
    const sampler = new Sampler(request); // checks the options before waiting for a turn
    const stops = new StopSequenceMatcher(request.stop ?? []);
    const ids = prompt();
    const prev = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((r) => (release = r));
    try {
      await prev;
      this.checkOpen();
      throwIfAborted(request.signal);
      yield* this.decode(ids, sampler, stops, request, started, slide);
    } finally {
      release();
    }
  }

  private async *decode(ids: number[], sampler: Sampler, stops: StopSequenceMatcher, request: SamplingOptions & { signal?: AbortSignal }, started: number, slide: boolean): AsyncGenerator<StreamEvent> {
    const ctx = this.contextLength;
    // A sliding window keeps this many of the latest tokens when the context is full (at least one).
    const keep = Math.max(1, Math.floor((ctx * 3) / 4));
    const room = ctx - ids.length;
    if (room < 1 && !slide) {
      throw new StrataError("CONTEXT_OVERFLOW", `the prompt is ${ids.length} tokens but the context holds ${ctx}`, "shorten the prompt or conversation, or load the model with a larger context (#ctx=…)");
    }
    const maxTokens = slide ? (request.maxTokens ?? Math.max(room, keep)) : Math.min(request.maxTokens ?? room, room);
    const signal = request.signal;
    const decoder = this.tokenizer.decoder({ skipSpecial: true });
    const history = [...ids];
    let text = "";
    let outputTokens = 0;
    let finish: FinishReason = "length";
    let logits = await this.active.prefill(ids.length < ctx ? ids : ids.slice(-keep));
    for (;;) {
      if (signal?.aborted || this.closing.signal.aborted) {
        finish = "aborted";
        break;
      }
      assertFiniteLogits(logits, outputTokens);
      const id = sampler.sample(logits, history);
      history.push(id);
      outputTokens++;
      if (this.endIds.has(id)) {
        finish = "stop";
        break;
      }
      const piece = stops.push(decoder.push(id));
      if (piece.text) {
        text += piece.text;
        yield { type: "text-delta", text: piece.text };
      }
      if (piece.stopped) {
        finish = "stop";
        break;
      }
      if (outputTokens >= maxTokens) break;
      logits = this.active.cachedLength < ctx ? await this.active.step(id) : await this.active.prefill(history.slice(-keep));
      await new Promise<void>((r) => setImmediate(r));
    }
    if (!stops.stopped) {
      const tail = stops.push(decoder.end()).text + stops.end();
      if (tail) {
        text += tail;
        yield { type: "text-delta", text: tail };
      }
    }
    const result: GenerateResult = {
      text,
      toolCalls: [],
      finishReason: finish,
      usage: withCost({ inputTokens: ids.length, outputTokens }, this.price),
      model: this.name,
      latencyMs: performance.now() - started,
    };
    yield { type: "finish", result };
  }
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<GenerateResult> {
  for await (const e of events) if (e.type === "finish") return e.result;
  throw new StrataError("INTERNAL", "the generation ended without a result", "report this");
}
