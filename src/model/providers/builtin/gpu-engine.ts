// Inference on the GPU for the builtin: provider: the same interface as LlamaInference (engine.ts)
// over the GPU llama forward (src/nn/gpu/forward.ts). Weights are uploaded once; the KV cache is
// a pair of GPU buffers per layer ([context, kvHeads, headDim]), so generating a token runs only
// that token through the model and reads back one row of logits — the only transfer per token.
// Loaded on demand (dynamic import) when a model is opened with device "gpu".
import { StrataError } from "../../../core/errors.js";
import type { ProgressListener } from "../../../core/events.js";
import type { Llama } from "../../../nn/llama.js";
import { countTargets, crossEntropyForward } from "../../../tensor/webgpu/kernels/cross-entropy.js";
import type { GpuContext } from "../../../nn/gpu/context.js";
import { type GpuKvCache, type GpuModel, forward, gpuModel, newKvCache, releaseKvCache, releaseModel } from "../../../nn/gpu/forward.js";
import { ScopedRunner } from "../../../nn/gpu/scope.js";
import { GpuWeights } from "../../../nn/gpu/weights.js";
import type { InferenceEngine, LossTotals } from "./engine.js";
import { reusablePrefix } from "./prompt-prefix.js";
import { windowedLoss } from "./windowed-loss.js";

export class GpuLlamaInference<B> implements InferenceEngine {
  readonly device = "gpu";
  readonly contextLength: number;
  readonly vocab: number;
  private readonly model: GpuModel<B>;
  private cache: GpuKvCache<B> | null = null;
  private cached: number[] = [];

  /** Uploads the model's weights; `ownsContext`: release() also closes the GPU. */
  constructor(cpuModel: Llama, private readonly ctx: GpuContext<B>, options: { contextLength: number; ownsContext?: boolean }) {
    this.vocab = cpuModel.config.vocab;
    this.contextLength = Math.min(options.contextLength, cpuModel.config.maxSeq);
    this.model = gpuModel(ctx.runner, new GpuWeights(ctx.runner, cpuModel.config, cpuModel), ctx.tuning);
    this.ownsContext = options.ownsContext ?? false;
  }

  private readonly ownsContext: boolean;

  get cachedLength(): number {
    return this.cached.length;
  }

  async prefill(ids: readonly number[]): Promise<Float32Array> {
    const common = reusablePrefix(this.cached, ids, this.contextLength);
    this.cached.length = common; // later positions of the cache are overwritten as they are run again
    if (this.cache) this.cache.length = common;
    return this.run(ids.slice(common));
  }

  async step(id: number): Promise<Float32Array> {
    if (this.cached.length >= this.contextLength) {
      throw new StrataError("CONTEXT_OVERFLOW", `the sequence reached the context length ${this.contextLength}`, "ask for fewer tokens, or load the model with a larger context");
    }
    return this.run([id]);
  }

  reset(): void {
    this.cached = [];
    if (this.cache) this.cache.length = 0;
  }

  /** Logits at every position of `ids` in one pass without the cache: [T·V]. */
  async logitsAll(ids: readonly number[]): Promise<Float32Array> {
    this.checkIds(ids);
    const scope = new ScopedRunner(this.ctx.runner);
    try {
      const f = forward(this.model, scope, Int32Array.from(ids), [1, ids.length]);
      return await this.ctx.runner.download(f.logits, ids.length * this.vocab);
    } finally {
      scope.releaseAll();
    }
  }

  /** Windowed next-token cross-entropy, as LlamaInference.loss (one read-back per window). */
  async loss(ids: readonly number[], options: { window?: number; signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<LossTotals> {
    this.checkIds(ids);
    const window = Math.min(options.window ?? this.contextLength, this.model.weights.config.maxSeq);
    const r = this.ctx.runner;
    return windowedLoss(ids, window, async (input, targets) => {
      const scope = new ScopedRunner(r);
      try {
        const f = forward(this.model, scope, input, [1, input.length]);
        const t = scope.track(r.upload(targets));
        const { loss } = crossEntropyForward(scope, f.logits, t, f.rows, this.vocab, -100, countTargets(targets, -100), this.ctx.tuning.rowWg);
        return (await r.download(loss, 1))[0]!;
      } finally {
        scope.releaseAll();
      }
    }, options);
  }

  release(): void {
    if (this.cache) releaseKvCache(this.model, this.cache);
    this.cache = null;
    this.cached = [];
    releaseModel(this.model);
    if (this.ownsContext) this.ctx.close();
  }

  private checkIds(ids: readonly number[]): void {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocab) throw new StrataError("USAGE", `token id ${id} is outside the model's vocabulary (0–${this.vocab - 1})`, "use ids from the model's own tokenizer");
    }
  }

  private async run(ids: readonly number[]): Promise<Float32Array> {
    this.checkIds(ids);
    this.cache ??= newKvCache(this.model, this.contextLength);
    const scope = new ScopedRunner(this.ctx.runner);
    try {
      const f = forward(this.model, scope, Int32Array.from(ids), [1, ids.length], { cache: this.cache, lastOnly: true });
      this.cached.push(...ids);
      return await this.ctx.runner.download(f.logits, this.vocab);
    } catch (e) {
      this.reset();
      throw e;
    } finally {
      scope.releaseAll();
    }
  }
}
