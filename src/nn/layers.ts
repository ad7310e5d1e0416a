// The basic layers of a llama: Linear (weight [out, in], optional bias), Embedding, RMSNorm, the SwiGLU
// feed-forward and a mixture-of-experts feed-forward with top-k routing.

import { StrataError } from "../core/errors.js";
import {
  type IndexLike, type Rng, type Shape, Tensor, add, embedding, indexAdd, indexSelect, linear, mean, mul, noGrad, ones, randn, reshape, rmsNorm,
  softmax, sum, swiglu, takeAlong, tensor, zeros,
} from "../tensor/index.js";
import { Module, ModuleList } from "./module.js";

export interface InitOptions {
  rng: Rng;
  /** Standard deviation of the normal initialisation (default 0.02). */
  std?: number;
}

/** Something added to a Linear's output (a LoRA adapter, src/nn/lora.ts); null when switched off. */
export interface LinearAdapter {
  delta(x: Tensor): Tensor | null;
  /** The whole product x Wᵀ + delta in one op, when the adapter can fuse it (else null: `delta` is added). */
  fused?(x: Tensor, weight: Tensor): Tensor | null;
}

/**
 * y = x Wᵀ (+ b) with W [out, in]; llama's projections have no bias, Qwen2's Q/K/V have one. An
 * attached adapter adds its delta; it is not a registered child, so state dicts stay the base's.
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  adapter: LinearAdapter | null = null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, init: InitOptions & { bias?: boolean }) {
    super();
    this.weight = this.registerParameter("weight", randn([outFeatures, inFeatures], init.rng, { std: init.std ?? 0.02 }));
    this.bias = init.bias ? this.registerParameter("bias", zeros([outFeatures])) : null;
  }

  forward(x: Tensor): Tensor {
    const fused = this.adapter?.fused?.(x, this.weight);
    if (fused) return this.bias ? add(fused, this.bias) : fused;
    const y = linear(x, this.weight);
    const out = this.bias ? add(y, this.bias) : y;
    const d = this.adapter?.delta(x);
    return d ? add(out, d) : out;
  }
}

/** Rows of a [vocab, dim] table looked up by token id. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly vocab: number, readonly dim: number, init: InitOptions) {
    super();
    this.weight = this.registerParameter("weight", randn([vocab, dim], init.rng, { std: init.std ?? 0.02 }));
  }

  /** ids of shape `shape` → [...shape, dim]. */
  forward(ids: IndexLike, shape?: Shape): Tensor {
    return embedding(this.weight, ids, shape);
  }
}

/** x / sqrt(mean(x²) + eps) · weight over the last dim; weight starts at 1. */
export class RMSNorm extends Module {
  readonly weight: Tensor;

  constructor(readonly dim: number, readonly eps: number) {
    super();
    this.weight = this.registerParameter("weight", ones([dim]));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** SwiGLU: w2(silu(w1 x) ∘ w3 x) — w1 the gate, w3 the up projection, w2 the down projection. */
export class FeedForward extends Module {
  readonly w1: Linear;
  readonly w2: Linear;
  readonly w3: Linear;

  constructor(dim: number, hidden: number, init: InitOptions & { outStd?: number }) {
    super();
    this.w1 = this.registerModule("w1", new Linear(dim, hidden, init));
    this.w2 = this.registerModule("w2", new Linear(hidden, dim, { rng: init.rng, std: init.outStd ?? init.std }));
    this.w3 = this.registerModule("w3", new Linear(dim, hidden, init));
  }

  forward(x: Tensor): Tensor {
    return this.w2.forward(swiglu(this.w1.forward(x), this.w3.forward(x)));
  }
}

export interface MoEOptions {
  experts: number;
  /** Experts per token. */
  topK: number;
}

/**
 * Mixture of SwiGLU experts. A linear router scores the experts per token; each token goes to its
 * top-k experts, weighted by the softmax of those k scores (as in Mixtral), and the outputs are summed.
 * The load-balancing loss (Switch Transformer) is E · Σ_e f_e · P_e, where f_e is the share of the
 * N·k routing slots that went to expert e (a constant) and P_e the mean router probability of e over
 * the tokens: 1 for perfectly balanced routing, up to E when one expert takes everything.
 */
export class MoEFeedForward extends Module {
  readonly gate: Linear;
  readonly experts: readonly FeedForward[];
  readonly topK: number;

  constructor(dim: number, hidden: number, moe: MoEOptions, init: InitOptions & { outStd?: number }) {
    super();
    if (!Number.isInteger(moe.experts) || moe.experts < 1 || !Number.isInteger(moe.topK) || moe.topK < 1 || moe.topK > moe.experts) {
      throw new StrataError("INVALID_CONFIG", `mixture of experts: topK ${moe.topK} must be between 1 and the number of experts ${moe.experts}`, "set moe.topK to 1 or 2 and moe.experts ≥ topK");
    }
    this.topK = moe.topK;
    this.gate = this.registerModule("gate", new Linear(dim, moe.experts, init));
    const experts = Array.from({ length: moe.experts }, () => new FeedForward(dim, hidden, init));
    this.experts = this.registerModule("experts", new ModuleList(experts)).items;
  }

  /** x [..., dim] → the mixed output (same shape) and the load-balancing loss (a scalar). */
  forward(x: Tensor): { out: Tensor; auxLoss: Tensor } {
    const dim = x.shape[x.ndim - 1]!;
    const N = x.size / dim;
    const E = this.experts.length;
    const k = this.topK;
    const x2 = reshape(x, [N, dim]);
    const logits = this.gate.forward(x2); // [N, E]
    // Top-k experts per token (ties go to the lower index); a discrete choice, no gradient.
    const top = noGrad(() => topKIndices(logits.contiguousData(), N, E, k));
    const weights = reshape(softmax(takeAlong(logits, top, k)), [N * k, 1]); // [N·k, 1]
    let out = zeros([N, dim]);
    const counts = new Float32Array(E);
    for (let e = 0; e < E; e++) {
      const rows: number[] = [];
      const slots: number[] = [];
      for (let i = 0; i < N * k; i++) {
        if (top[i] === e) {
          rows.push(Math.floor(i / k));
          slots.push(i);
        }
      }
      counts[e] = rows.length;
      if (rows.length === 0) continue;
      const y = this.experts[e]!.forward(indexSelect(x2, rows)); // [n_e, dim]
      out = indexAdd(out, rows, mul(y, indexSelect(weights, slots)));
    }
    const f = tensor(counts.map((c) => c / (N * k)), [E]);
    const p = mean(softmax(logits), 0); // [E]
    const auxLoss = mul(sum(mul(p, f)), E);
    return { out: reshape(out, x.shape), auxLoss };
  }
}

/** Indices of the k largest entries of each row of x [rows, n], in decreasing order (ties: lower index first). */
export function topKIndices(x: Float32Array, rows: number, n: number, k: number): Int32Array {
  const out = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < k; j++) {
      let best = -1;
      for (let c = 0; c < n; c++) {
        let taken = false;
        for (let p = 0; p < j; p++) if (out[r * k + p] === c) taken = true;
        if (taken) continue;
        if (best < 0 || x[o + c]! > x[o + best]!) best = c;
      }
      out[r * k + j] = best;
    }
  }
  return out;
}
