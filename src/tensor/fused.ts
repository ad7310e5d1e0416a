// Fused ops with hand-written backwards, where composing primitives would cost time or memory:
// softmax, log-softmax, RMSNorm, RoPE, SwiGLU, cross-entropy and causal grouped-query attention
// (with an optional KV cache). Each is checked against finite differences, and the ones that have
// a natural composite form (softmax, RMSNorm, attention) against that composite, in the tests.

import { StrataError } from "../core/errors.js";
import { backend } from "./backend.js";
import { type AttentionDims, type HeadView } from "./kernels/attention.js";
import { type RopeScaling, logSoftmaxRows, logSoftmaxRowsBackward, rope as ropeKernel, softmaxRows, softmaxRowsBackward } from "./kernels/rows.js";
import { type IndexLike, permute } from "./ops.js";
import { fmtShape, normAxis, shapeEquals, shapeError } from "./shape.js";
import { Tensor, fromOp, isGradEnabled } from "./tensor.js";

/** Applies a last-axis row op along any axis by moving that axis last and back (two views + one copy). */
function alongAxis(x: Tensor, axis: number, op: string, f: (t: Tensor) => Tensor): Tensor {
  const ax = normAxis(axis, x.ndim, op);
  if (ax === x.ndim - 1) return f(x);
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[ax] = x.ndim - 1;
  dims[x.ndim - 1] = ax;
  return permute(f(permute(x, dims)), dims);
}

/** softmax(x) along `axis` (default: last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  if (x.ndim === 0) throw shapeError("softmax of a scalar");
  return alongAxis(x, axis, "softmax", (t) => {
    const n = t.shape[t.ndim - 1]!;
    const rows = n === 0 ? 0 : t.size / n;
    const y = softmaxRows(t.contiguousData(), rows, n);
    return fromOp(y, t.shape, "softmax", [t], (g) => [softmaxRowsBackward(g, y, rows, n)]);
  });
}

/** log(softmax(x)) along `axis` (default: last), computed stably as x − logsumexp(x). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  if (x.ndim === 0) throw shapeError("logSoftmax of a scalar");
  return alongAxis(x, axis, "logSoftmax", (t) => {
    const n = t.shape[t.ndim - 1]!;
    const rows = n === 0 ? 0 : t.size / n;
    const y = logSoftmaxRows(t.contiguousData(), rows, n);
    return fromOp(y, t.shape, "logSoftmax", [t], (g) => [logSoftmaxRowsBackward(g, y, rows, n)]);
  });
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight, weight of shape [dim]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const n = x.shape[x.ndim - 1]!;
  if (weight.ndim !== 1 || weight.shape[0] !== n) throw shapeError(`rmsNorm: weight ${fmtShape(weight.shape)} does not match the last dim of ${fmtShape(x.shape)}`);
  const rows = n === 0 ? 0 : x.size / n;
  const xd = x.contiguousData();
  const wd = weight.contiguousData();
  const { y, rstd } = backend().rmsNorm(xd, wd, rows, n, eps);
  return fromOp(y, x.shape, "rmsNorm", [x, weight], (g) => {
    const { dx, dw } = backend().rmsNormBackward(g, xd, wd, rstd, rows, n, x.requiresGrad, weight.requiresGrad);
    return [dx, dw];
  });
}

export interface RopeOptions {
  /** Position of the first row along T (with a KV cache: the number of cached positions). Default 0. */
  startPos?: number;
  /** Explicit position of every row along T (overrides startPos). */
  positions?: Int32Array;
  /** θ base (llama: 10000). */
  base?: number;
  /** Per-frequency divisors (D/2 of them) and a position scale (scaled RoPE). */
  scaling?: RopeScaling;
}

/**
 * Rotary position embedding, llama's interleaved adjacent-pair form, on x [B, T, H, D]: each pair
 * (x[2i], x[2i+1]) at position p is rotated by θ_i = p · base^(−2i/D). Exported weights need no
 * permutation for llama.cpp's `llama` architecture.
 */
export function rope(x: Tensor, options: RopeOptions = {}): Tensor {
  if (x.ndim !== 4) throw shapeError(`rope expects [batch, seq, heads, headDim], got ${fmtShape(x.shape)}`);
  const [B, T, H, D] = x.shape as [number, number, number, number];
  if (D % 2 !== 0) throw shapeError(`rope: the head dim ${D} must be even`);
  const base = options.base ?? 10000;
  let positions = options.positions;
  if (positions) {
    if (positions.length !== T) throw shapeError(`rope: ${positions.length} positions for a sequence of ${T}`);
  } else {
    const start = options.startPos ?? 0;
    positions = new Int32Array(T);
    for (let t = 0; t < T; t++) positions[t] = start + t;
  }
  const pos = positions;
  const scaling = options.scaling ?? {};
  const y = ropeKernel(x.contiguousData(), B, T, H, D, pos, base, 1, scaling);
  return fromOp(y, x.shape, "rope", [x], (g) => [ropeKernel(g, B, T, H, D, pos, base, -1, scaling)]);
}

/** SwiGLU's gate: silu(a) ∘ b (a, b of the same shape). */
export function swiglu(a: Tensor, b: Tensor): Tensor {
  if (!shapeEquals(a.shape, b.shape)) throw shapeError(`swiglu: ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
  const ad = a.contiguousData();
  const bd = b.contiguousData();
  return fromOp(backend().swiglu(ad, bd), a.shape, "swiglu", [a, b], (g) => {
    const { da, db } = backend().swigluBackward(g, ad, bd, a.requiresGrad, b.requiresGrad);
    return [da, db];
  });
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (not counted in the mean). Default −100, as in PyTorch. */
  ignoreIndex?: number;
}

/**
 * Mean cross-entropy of logits [..., V] against integer targets (one per row), skipping targets
 * equal to `ignoreIndex`. The loss is 0 when every target is ignored.
 */
export function crossEntropy(logits: Tensor, targets: IndexLike, options: CrossEntropyOptions = {}): Tensor {
  const V = logits.shape[logits.ndim - 1]!;
  const rows = V === 0 ? 0 : logits.size / V;
  const t = targets instanceof Int32Array ? targets : Int32Array.from(targets);
  if (t.length !== rows) throw shapeError(`crossEntropy: ${t.length} targets for ${rows} rows of logits ${fmtShape(logits.shape)}`);
  const ignore = options.ignoreIndex ?? -100;
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (v !== ignore && (v < 0 || v >= V)) {
      throw new StrataError("INDEX_OUT_OF_RANGE", `crossEntropy: target ${v} at row ${i} is outside [0, ${V})`, `targets are class ids below ${V}, or the ignore index ${ignore}`);
    }
  }
  const xd = logits.contiguousData();
  const { loss, count, lse } = backend().crossEntropy(xd, t, rows, V, ignore);
  return fromOp(Float32Array.of(loss), [], "crossEntropy", [logits], (g) => [backend().crossEntropyBackward(g[0]!, xd, t, lse, rows, V, ignore, count)]);
}

/**
 * Keys and values of past positions for incremental decoding, stored [B, maxSeq, Hkv, D]. Appending
 * copies the new positions in; the views returned cover every cached position. Inference only: it
 * records no gradients.
 */
export class KVCache {
  readonly batch: number;
  readonly maxSeq: number;
  readonly kvHeads: number;
  readonly headDim: number;
  private readonly k: Float32Array;
  private readonly v: Float32Array;
  private len = 0;

  constructor(batch: number, maxSeq: number, kvHeads: number, headDim: number) {
    this.batch = batch;
    this.maxSeq = maxSeq;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.k = new Float32Array(batch * maxSeq * kvHeads * headDim);
    this.v = new Float32Array(batch * maxSeq * kvHeads * headDim);
  }

  /** Number of cached positions (the position of the next one). */
  get length(): number {
    return this.len;
  }

  reset(): void {
    this.len = 0;
  }

  /** Drops cached positions from `n` on (to rewind a generation). */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.len) throw shapeError(`KVCache.truncate(${n}) with ${this.len} cached positions`);
    this.len = n;
  }

  /** Appends k, v [B, T, Hkv, D] and returns views of all cached keys and values [B, length, Hkv, D]. */
  append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const { batch: B, kvHeads: H, headDim: D } = this;
    for (const [name, t] of [["k", k], ["v", v]] as const) {
      if (t.ndim !== 4 || t.shape[0] !== B || t.shape[2] !== H || t.shape[3] !== D) {
        throw shapeError(`KVCache.append: ${name} ${fmtShape(t.shape)} does not match [${B}, T, ${H}, ${D}]`);
      }
    }
    if (isGradEnabled() && (k.requiresGrad || v.requiresGrad)) {
      throw new StrataError("USAGE", "the KV cache is for inference: it cannot carry gradients", "run decoding inside noGrad(() => ...)");
    }
    const T = k.shape[1]!;
    if (v.shape[1] !== T) throw shapeError(`KVCache.append: k has ${T} positions, v ${v.shape[1]}`);
    if (this.len + T > this.maxSeq) {
      throw new StrataError("CONTEXT_OVERFLOW", `the KV cache holds ${this.maxSeq} positions; ${this.len} are used and ${T} more were given`, "shorten the prompt or the generation, or use a model with a longer context");
    }
    const row = H * D;
    const kd = k.contiguousData();
    const vd = v.contiguousData();
    for (let b = 0; b < B; b++) {
      const dst = (b * this.maxSeq + this.len) * row;
      this.k.set(kd.subarray(b * T * row, (b + 1) * T * row), dst);
      this.v.set(vd.subarray(b * T * row, (b + 1) * T * row), dst);
    }
    this.len += T;
    const shape = [B, this.len, H, D];
    const strides = [this.maxSeq * row, row, D, 1];
    return { k: new Tensor(this.k, shape, strides, 0), v: new Tensor(this.v, shape, strides, 0) };
  }
}

export interface AttentionOptions {
  /** Query i sees keys j ≤ S − T + i (aligned to the end of the keys). Default true. */
  causal?: boolean;
  /** Default 1/sqrt(headDim). */
  scale?: number;
  /** Appends k and v to this cache first and attends over everything cached. */
  cache?: KVCache;
}

function headView(t: Tensor): HeadView {
  return { data: t.data, offset: t.offset, sB: t.strides[0]!, sT: t.strides[1]!, sH: t.strides[2]! };
}

/**
 * Scaled-dot-product attention with grouped-query heads in the [B, T, H, D] layout: q [B, T, Hq, D],
 * k and v [B, S, Hkv, D] with Hq a multiple of Hkv (query head h uses kv head ⌊h / (Hq/Hkv)⌋).
 * Returns [B, T, Hq, D]. Strided views (a cache, a slice of a fused QKV projection) are read in place
 * as long as the head dim is contiguous.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  if (options.cache) ({ k, v } = options.cache.append(k, v));
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    throw shapeError(`attention expects [batch, seq, heads, headDim] tensors, got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  }
  const [B, T, Hq, D] = q.shape as [number, number, number, number];
  const [Bk, S, Hkv, Dk] = k.shape as [number, number, number, number];
  if (Bk !== B || Dk !== D || !shapeEquals(k.shape, v.shape)) {
    throw shapeError(`attention: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} do not agree`);
  }
  if (Hkv === 0 || Hq % Hkv !== 0) throw shapeError(`attention: ${Hq} query heads are not a multiple of ${Hkv} key/value heads`);
  const causal = options.causal ?? true;
  if (causal && T > S) throw shapeError(`attention: ${T} queries but only ${S} keys; a causal query needs its own key`);
  // The kernels read rows in place but need the head dim contiguous.
  const q1 = q.strides[3] === 1 || D === 1 ? q : q.contiguous();
  const k1 = k.strides[3] === 1 || D === 1 ? k : k.contiguous();
  const v1 = v.strides[3] === 1 || D === 1 ? v : v.contiguous();
  const dims: AttentionDims = { B, T, S, Hq, Hkv, D, scale: options.scale ?? 1 / Math.sqrt(D), causal };
  const qv = headView(q1);
  const kv = headView(k1);
  const vv = headView(v1);
  const { out, lse } = backend().attention(qv, kv, vv, dims);
  return fromOp(out, q.shape, "attention", [q1, k1, v1], (g) => {
    const { dq, dk, dv } = backend().attentionBackward(g, out, lse, qv, kv, vv, dims, { q: q1.requiresGrad, k: k1.requiresGrad, v: v1.requiresGrad });
    return [dq, dk, dv];
  });
}
