// Inference with Strata's own llama (src/nn) for one sequence at a time: logits for a prompt, then
// one token at a time through the per-layer KV caches, and the cross-entropy of a token stream for
// `eval lm`. Between requests the cache keeps the longest prefix the next prompt shares with what
// was evaluated (a chat's earlier turns), like llama.cpp's prompt cache, so only the new tokens run.
import { StrataError } from "../../../core/errors.js";
import type { ProgressListener } from "../../../core/events.js";
import type { Llama } from "../../../nn/llama.js";
import { type KVCache, crossEntropy, noGrad } from "../../../tensor/index.js";
import { reusablePrefix } from "./prompt-prefix.js";
import { windowedLoss, type LossTotals } from "./windowed-loss.js";

export type { LossTotals };

/**
 * What the provider drives: LlamaInference here (CPU) or GpuLlamaInference (gpu-engine.ts), whose
 * calls resolve once the GPU's logits are read back.
 */
export interface InferenceEngine {
  readonly contextLength: number;
  readonly cachedLength: number;
  readonly vocab: number;
  prefill(ids: readonly number[]): Float32Array | Promise<Float32Array>;
  step(id: number): Float32Array | Promise<Float32Array>;
  loss(ids: readonly number[], options?: { window?: number; signal?: AbortSignal; onProgress?: ProgressListener }): Promise<LossTotals>;
  release(): void;
}

export class LlamaInference implements InferenceEngine {
  readonly model: Llama;
  /** Positions the KV caches hold: the longest prompt plus generation. */
  readonly contextLength: number;
  private caches: KVCache[] | null = null;
  /** The ids whose keys and values are in the caches, in order. */
  private cached: number[] = [];

  constructor(model: Llama, options: { contextLength?: number } = {}) {
    this.model = model;
    const max = model.config.maxSeq;
    const ctx = options.contextLength ?? max;
    if (!Number.isInteger(ctx) || ctx < 1) throw new StrataError("USAGE", `context length must be a whole number ≥ 1, got ${ctx}`, "e.g. ctx=1024");
    this.contextLength = Math.min(ctx, max);
  }

  get vocab(): number {
    return this.model.config.vocab;
  }

  /** How many positions are cached now. */
  get cachedLength(): number {
    return this.cached.length;
  }

  /**
   * The next-token logits after `ids` [V]. Cached positions that `ids` starts with are reused; the
   * rest run through the model in one pass.
   */
  prefill(ids: readonly number[]): Float32Array {
    const common = reusablePrefix(this.cached, ids, this.contextLength);
    this.rewind(common);
    return this.run(ids.slice(common));
  }

  /** Appends one token to the cached sequence and returns the logits after it. */
  step(id: number): Float32Array {
    if (this.cached.length >= this.contextLength) {
      throw new StrataError("CONTEXT_OVERFLOW", `the sequence reached the context length ${this.contextLength}`, "ask for fewer tokens, or load the model with a larger context");
    }
    return this.run([id]);
  }

  /** Forgets everything cached. */
  reset(): void {
    this.rewind(0);
  }

  /** Frees the caches (they are made again when needed). */
  release(): void {
    this.caches = null;
    this.cached = [];
  }

  /**
   * Logits at every position of `ids` in one pass without the cache: [T·V], row t holding the
   * prediction after ids[0..t]. The reference the cached path is tested against.
   */
  logitsAll(ids: readonly number[]): Float32Array {
    this.checkIds(ids);
    if (ids.length > this.model.config.maxSeq) throw new StrataError("CONTEXT_OVERFLOW", `${ids.length} tokens exceed the model's maximum sequence length ${this.model.config.maxSeq}`, "evaluate shorter windows");
    return noGrad(() => Float32Array.from(this.model.forward(Int32Array.from(ids), [1, ids.length]).logits.contiguousData()));
  }

  /**
   * Next-token cross-entropy over a token stream, in windows of `window` positions that do not
   * overlap: ids[0] is context only, every later token is predicted once, from the tokens before it
   * in its window (a window starts with the last token of the one before).
   */
  async loss(ids: readonly number[], options: { window?: number; signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<LossTotals> {
    this.checkIds(ids);
    const window = Math.min(options.window ?? this.contextLength, this.model.config.maxSeq);
    return windowedLoss(ids, window, (input, targets) => noGrad(() => crossEntropy(this.model.forward(input, [1, input.length]).logits, targets).item()), options);
  }

  private checkIds(ids: readonly number[]): void {
    const V = this.vocab;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new StrataError("USAGE", `token id ${id} is outside the model's vocabulary (0–${V - 1})`, "use ids from the model's own tokenizer");
    }
  }

  private rewind(n: number): void {
    if (n === this.cached.length) return;
    for (const c of this.caches ?? []) c.truncate(n);
    this.cached.length = n;
  }

  private run(ids: readonly number[]): Float32Array {
    this.checkIds(ids);
    this.caches ??= this.model.newCaches(1, this.contextLength);
    const caches = this.caches;
    try {
      const logits = noGrad(() => this.model.forward(Int32Array.from(ids), [1, ids.length], { caches, lastOnly: true }).logits);
      this.cached.push(...ids);
      return Float32Array.from(logits.contiguousData());
    } catch (e) {
      // Some layers may have appended and others not: start over clean.
      for (const c of caches) c.reset();
      this.cached = [];
      throw e;
    }
  }
}
