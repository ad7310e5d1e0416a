// The llama architecture: token embedding → L × (RMSNorm → grouped-query attention with RoPE →
// residual; RMSNorm → SwiGLU or mixture-of-experts feed-forward → residual) → RMSNorm → output
// projection (optionally tied to the embedding). Shapes in the comments: B batch, T positions,
// C = dim, H query heads, Hkv key/value heads, D = C/H head dim, V vocabulary.
//
// Parameter names follow Meta's llama checkpoints (tok_embeddings, layers.N.attention.wq, …,
// feed_forward.w1/w2/w3, attention_norm, ffn_norm, norm, output), and RoPE is the interleaved
// adjacent-pair form, so llama.cpp's `llama` architecture runs exported weights without permutation.

import { StrataError } from "../core/errors.js";
import { type IndexLike, KVCache, Rng, type RopeScaling, type Tensor, add, attention, crossEntropy, linear, mul, reshape, rope, slice } from "../tensor/index.js";
import { Embedding, FeedForward, Linear, MoEFeedForward, RMSNorm } from "./layers.js";
import { type LlamaConfig, validateConfig } from "./llama-config.js";

export { type LlamaConfig, type ModelShape, countParameters, validateConfig } from "./llama-config.js";
import { Module, ModuleList } from "./module.js";

/** Multi-head attention with grouped-query heads, RoPE on q and k, and an optional KV cache. */
export class Attention extends Module {
  readonly wq: Linear;
  readonly wk: Linear;
  readonly wv: Linear;
  readonly wo: Linear;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly ropeBase: number;
  private readonly ropeScaling: RopeScaling;

  constructor(c: LlamaConfig, rng: Rng, outStd: number) {
    super();
    this.heads = c.heads;
    this.kvHeads = c.kvHeads;
    this.headDim = c.dim / c.heads;
    this.ropeBase = c.ropeBase;
    this.ropeScaling = { ...(c.ropeFreqFactors ? { freqFactors: Float32Array.from(c.ropeFreqFactors) } : {}), ...(c.ropeScale ? { scale: c.ropeScale } : {}) };
    const bias = c.qkvBias ?? false;
    this.wq = this.registerModule("wq", new Linear(c.dim, c.heads * this.headDim, { rng, bias }));
    this.wk = this.registerModule("wk", new Linear(c.dim, c.kvHeads * this.headDim, { rng, bias }));
    this.wv = this.registerModule("wv", new Linear(c.dim, c.kvHeads * this.headDim, { rng, bias }));
    this.wo = this.registerModule("wo", new Linear(c.heads * this.headDim, c.dim, { rng, std: outStd }));
  }

  /** x [B, T, C] → [B, T, C]. With a cache, x holds the positions after the cached ones. */
  forward(x: Tensor, cache?: KVCache): Tensor {
    const [B, T] = x.shape as [number, number];
    const { heads: H, kvHeads: Hkv, headDim: D } = this;
    const startPos = cache ? cache.length : 0;
    const r = { startPos, base: this.ropeBase, scaling: this.ropeScaling };
    const q = rope(reshape(this.wq.forward(x), [B, T, H, D]), r); // [B, T, H, D]
    const k = rope(reshape(this.wk.forward(x), [B, T, Hkv, D]), r); // [B, T, Hkv, D]
    const v = reshape(this.wv.forward(x), [B, T, Hkv, D]); // [B, T, Hkv, D]
    const o = attention(q, k, v, cache ? { cache } : {}); // [B, T, H, D]
    return this.wo.forward(reshape(o, [B, T, H * D]));
  }
}

/** One decoder block: pre-norm attention and pre-norm feed-forward, each with a residual. */
export class TransformerBlock extends Module {
  readonly attentionNorm: RMSNorm;
  readonly attention: Attention;
  readonly ffnNorm: RMSNorm;
  readonly feedForward: FeedForward | MoEFeedForward;

  constructor(c: LlamaConfig, rng: Rng) {
    super();
    const outStd = 0.02 / Math.sqrt(2 * c.layers); // residual projections scaled down with depth (GPT-2)
    this.attentionNorm = this.registerModule("attention_norm", new RMSNorm(c.dim, c.normEps));
    this.attention = this.registerModule("attention", new Attention(c, rng, outStd));
    this.ffnNorm = this.registerModule("ffn_norm", new RMSNorm(c.dim, c.normEps));
    this.feedForward = this.registerModule(
      "feed_forward",
      c.moe ? new MoEFeedForward(c.dim, c.ffnDim, c.moe, { rng, outStd }) : new FeedForward(c.dim, c.ffnDim, { rng, outStd }),
    );
  }

  /** x [B, T, C] → [B, T, C], plus the MoE load-balancing loss of this block (null without MoE). */
  forward(x: Tensor, cache?: KVCache): { x: Tensor; auxLoss: Tensor | null } {
    const h = add(x, this.attention.forward(this.attentionNorm.forward(x), cache));
    const normed = this.ffnNorm.forward(h);
    if (this.feedForward instanceof MoEFeedForward) {
      const { out, auxLoss } = this.feedForward.forward(normed);
      return { x: add(h, out), auxLoss };
    }
    return { x: add(h, this.feedForward.forward(normed)), auxLoss: null };
  }
}

export interface ForwardOptions {
  /** One KV cache per layer (from `newCaches`); the ids continue the cached sequence. */
  caches?: readonly KVCache[];
  /** Compute logits for the last position only: [B, 1, V] (generation). */
  lastOnly?: boolean;
}

export interface LossOptions {
  /** Targets equal to this are not scored (default −100). */
  ignoreIndex?: number;
}

export class Llama extends Module {
  readonly config: LlamaConfig;
  readonly tokEmbeddings: Embedding;
  readonly layers: readonly TransformerBlock[];
  readonly norm: RMSNorm;
  /** Null when the embedding is tied. */
  readonly output: Linear | null;

  /** Builds a model with seeded random weights (normal, std 0.02; residual projections 0.02/√(2L); norms 1). */
  constructor(config: LlamaConfig, options: { seed: number }) {
    super();
    validateConfig(config);
    this.config = { ...config, moe: config.moe ? { ...config.moe } : undefined };
    const rng = new Rng(options.seed);
    this.tokEmbeddings = this.registerModule("tok_embeddings", new Embedding(config.vocab, config.dim, { rng }));
    const layers = Array.from({ length: config.layers }, () => new TransformerBlock(config, rng));
    this.layers = this.registerModule("layers", new ModuleList(layers)).items;
    this.norm = this.registerModule("norm", new RMSNorm(config.dim, config.normEps));
    this.output = config.tieEmbeddings ? null : this.registerModule("output", new Linear(config.dim, config.vocab, { rng }));
  }

  /** Fresh KV caches, one per layer, for `batch` sequences of up to maxSeq positions. */
  newCaches(batch: number, maxSeq = this.config.maxSeq): KVCache[] {
    const c = this.config;
    return this.layers.map(() => new KVCache(batch, Math.min(maxSeq, c.maxSeq), c.kvHeads, c.dim / c.heads));
  }

  /**
   * Token ids [B, T] (row-major) → logits [B, T, V] (or [B, 1, V] with lastOnly), and the summed
   * load-balancing loss of the MoE layers (null without MoE).
   */
  forward(ids: IndexLike, shape: readonly [number, number], options: ForwardOptions = {}): { logits: Tensor; auxLoss: Tensor | null } {
    const [B, T] = shape;
    const caches = options.caches;
    if (caches && caches.length !== this.layers.length) {
      throw new StrataError("USAGE", `${caches.length} KV caches for ${this.layers.length} layers`, "create them with model.newCaches(batch)");
    }
    const start = caches?.[0]?.length ?? 0;
    if (start + T > this.config.maxSeq) {
      throw new StrataError("CONTEXT_OVERFLOW", `${start + T} positions exceed the model's maximum sequence length ${this.config.maxSeq}`, "shorten the input or the generation");
    }
    let x = this.tokEmbeddings.forward(ids, [B, T]); // [B, T, C]
    let aux: Tensor | null = null;
    for (let i = 0; i < this.layers.length; i++) {
      const r = this.layers[i]!.forward(x, caches?.[i]);
      x = r.x;
      if (r.auxLoss) aux = aux ? add(aux, r.auxLoss) : r.auxLoss;
    }
    if (options.lastOnly) x = slice(x, 1, T - 1, T);
    x = this.norm.forward(x);
    const logits = this.output ? this.output.forward(x) : linear(x, this.tokEmbeddings.weight); // [B, T, V]
    return { logits, auxLoss: aux };
  }

  /**
   * Next-token cross-entropy of ids [B, T] against targets [B, T] (targets equal to ignoreIndex are
   * skipped). `loss` adds moe.auxLossWeight × the load-balancing loss when the model has experts.
   */
  loss(ids: IndexLike, targets: IndexLike, shape: readonly [number, number], options: LossOptions = {}): { loss: Tensor; crossEntropy: Tensor; auxLoss: Tensor | null; logits: Tensor } {
    const { logits, auxLoss } = this.forward(ids, shape);
    const ce = crossEntropy(logits, targets, options.ignoreIndex === undefined ? {} : { ignoreIndex: options.ignoreIndex });
    const w = this.config.moe?.auxLossWeight ?? 0.01;
    const loss = auxLoss && w > 0 ? add(ce, mul(auxLoss, w)) : ce;
    return { loss, crossEntropy: ce, auxLoss, logits };
  }
}
