// The llama forward on the GPU, composed from the WGSL kernel library, in src/nn/llama.ts's order:
// embedding → L × (RMSNorm → q, k, v projections → RoPE on q and k → causal GQA attention → wo →
// residual; RMSNorm → w1, w3 → SwiGLU → w2 → residual) → RMSNorm → output projection (the embedding
// when tied). Activations stay in GPU buffers; with `save` the ones the backward needs are kept
// (llm.c's layout: per layer the norm inputs and rstd, q/k after RoPE, v, the attention output and
// its log-sum-exp, the SwiGLU inputs and output), otherwise each is released once used.
// With a KV cache (inference, batch 1) the new keys and values are appended to per-layer cache
// buffers and attention reads the whole cached prefix.

import { StrataError } from "../../core/errors.js";
import type { LlamaConfig } from "../llama.js";
import { ropeTable } from "../../tensor/kernels/rows.js";
import type { HostRunner, Runner } from "../../tensor/webgpu/kernel-call.js";
import { type ViewLayout, packedLayout } from "../../tensor/webgpu/kernels/attention-common.js";
import { attentionForward } from "../../tensor/webgpu/kernels/attention.js";
import { copy } from "../../tensor/webgpu/kernels/copy.js";
import { add } from "../../tensor/webgpu/kernels/elementwise.js";
import { embeddingForward } from "../../tensor/webgpu/kernels/embedding.js";
import { matmulCall } from "../../tensor/webgpu/kernels/matmul.js";
import { rmsNormForward } from "../../tensor/webgpu/kernels/rmsnorm.js";
import { rope } from "../../tensor/webgpu/kernels/rope.js";
import { swigluForward } from "../../tensor/webgpu/kernels/swiglu.js";
import type { KernelTuning } from "./context.js";
import { ScopedRunner } from "./scope.js";
import type { GpuWeights } from "./weights.js";

/** The sizes every kernel call of the model needs. */
export interface Dims {
  C: number;
  H: number;
  Hkv: number;
  D: number;
  F: number;
  V: number;
  eps: number;
}

export function dimsOf(c: LlamaConfig): Dims {
  return { C: c.dim, H: c.heads, Hkv: c.kvHeads, D: c.dim / c.heads, F: c.ffnDim, V: c.vocab, eps: c.normEps };
}

/** What forward and backward share: the weights, the RoPE tables (uploaded once) and the tuning. */
export interface GpuModel<B> {
  runner: HostRunner<B>;
  weights: GpuWeights<B>;
  tuning: KernelTuning;
  dims: Dims;
  ropeCos: B;
  ropeSin: B;
}

/** Uploads the engine's RoPE tables for every position up to maxSeq. */
export function gpuModel<B>(runner: HostRunner<B>, weights: GpuWeights<B>, tuning: KernelTuning): GpuModel<B> {
  const dims = dimsOf(weights.config);
  const { cos, sin } = ropeTable(dims.D, weights.config.ropeBase, weights.config.maxSeq);
  return { runner, weights, tuning, dims, ropeCos: runner.upload(cos), ropeSin: runner.upload(sin) };
}

export function releaseModel<B>(m: GpuModel<B>): void {
  m.runner.release(m.ropeCos);
  m.runner.release(m.ropeSin);
  m.weights.release();
}

/** Per-layer keys and values of one sequence: [capacity, Hkv, D] each. */
export interface GpuKvCache<B> {
  k: B[];
  v: B[];
  capacity: number;
  /** Positions held. */
  length: number;
}

export function newKvCache<B>(m: GpuModel<B>, capacity: number): GpuKvCache<B> {
  const n = capacity * m.dims.Hkv * m.dims.D;
  const layers = m.weights.config.layers;
  return { k: Array.from({ length: layers }, () => m.runner.alloc(n)), v: Array.from({ length: layers }, () => m.runner.alloc(n)), capacity, length: 0 };
}

export function releaseKvCache<B>(m: GpuModel<B>, cache: GpuKvCache<B>): void {
  for (const b of [...cache.k, ...cache.v]) m.runner.release(b);
}

export interface LayerActivations<B> {
  x: B;
  xn1: B;
  rstd1: B;
  q: B;
  k: B;
  v: B;
  att: B;
  lse: B;
  h: B;
  hn: B;
  rstd2: B;
  a: B;
  b: B;
  s: B;
}

export interface ForwardResult<B> {
  /** [rows, V] */
  logits: B;
  rows: number;
  B: number;
  T: number;
  positions: B;
  /** Saved activations (empty without `save`). */
  layers: LayerActivations<B>[];
  /** The final norm's input, output and rstd (saved only with `save`). */
  xf: B;
  xnf: B;
  rstdf: B;
}

/** y [rows, out] = x [rows, in] · Wᵀ (W [out, in], the engine's `linear`). */
export function linear<B>(r: Runner<B>, t: KernelTuning, x: B, W: B, rows: number, inF: number, outF: number): B {
  const y = r.alloc(rows * outF);
  r.run(matmulCall(x, W, y, { transA: false, transB: true, M: rows, N: outF, K: inF }, t.tile));
  return y;
}

/**
 * Logits for ids [B, T] (row-major). Buffers are allocated through `scope` (the caller frees them
 * with scope.releaseAll once done); with `save` the activations are kept for `backward`.
 */
export function forward<B>(
  m: GpuModel<B>, scope: ScopedRunner<B>, ids: Int32Array, shape: readonly [number, number],
  options: { save?: boolean; cache?: GpuKvCache<B>; lastOnly?: boolean } = {},
): ForwardResult<B> {
  const [Bn, T] = shape;
  const { C, H, Hkv, D, F, V, eps } = m.dims;
  const { tuning: t, weights: w } = m;
  const r = scope;
  const N = Bn * T;
  const cache = options.cache;
  const save = options.save ?? false;
  const start = cache?.length ?? 0;
  if (cache && Bn !== 1) throw new StrataError("INTERNAL", "the GPU KV cache holds one sequence");
  if (start + T > (cache?.capacity ?? w.config.maxSeq)) {
    throw new StrataError("CONTEXT_OVERFLOW", `${start + T} positions exceed the ${cache ? "cache's" : "model's maximum"} length ${cache?.capacity ?? w.config.maxSeq}`, "shorten the input or the generation");
  }
  for (const id of ids) {
    if (!(id >= 0 && id < V)) throw new StrataError("INDEX_OUT_OF_RANGE", `token id ${id} is outside the vocabulary (0–${V - 1})`, "use ids from the model's own tokenizer");
  }
  const idsBuf = scope.track(m.runner.upload(ids));
  const positions = scope.track(m.runner.upload(Int32Array.from({ length: T }, (_, i) => start + i)));
  let x = embeddingForward(r, w.get("tok_embeddings.weight"), idsBuf, N, C);
  const layers: LayerActivations<B>[] = [];
  const attDims = { B: Bn, T, S: start + T, Hq: H, Hkv, D, scale: 1 / Math.sqrt(D), causal: true };
  for (let l = 0; l < w.config.layers; l++) {
    const p = `layers.${l}.`;
    const { y: xn1, rstd: rstd1 } = rmsNormForward(r, x, w.get(`${p}attention_norm.weight`), N, C, eps, t.rowWg);
    const q0 = linear(r, t, xn1, w.get(`${p}attention.wq.weight`), N, C, H * D);
    const k0 = linear(r, t, xn1, w.get(`${p}attention.wk.weight`), N, C, Hkv * D);
    const v = linear(r, t, xn1, w.get(`${p}attention.wv.weight`), N, C, Hkv * D);
    const q = rope(r, q0, positions, m.ropeCos, m.ropeSin, { B: Bn, T, H, D }, 1);
    const k = rope(r, k0, positions, m.ropeCos, m.ropeSin, { B: Bn, T, H: Hkv, D }, 1);
    r.release(q0);
    r.release(k0);
    let kv: { k: B; v: B; layout: ViewLayout } = { k, v, layout: packedLayout(T, Hkv, D) };
    if (cache) {
      copy(r, k, 0, cache.k[l]!, start * Hkv * D, T * Hkv * D);
      copy(r, v, 0, cache.v[l]!, start * Hkv * D, T * Hkv * D);
      kv = { k: cache.k[l]!, v: cache.v[l]!, layout: { offset: 0, sB: cache.capacity * Hkv * D, sT: Hkv * D, sH: D } };
    }
    const { out: att, lse } = attentionForward(r, q, kv.k, kv.v, { q: packedLayout(T, H, D), k: kv.layout, v: kv.layout }, attDims, t.attention);
    const o = linear(r, t, att, w.get(`${p}attention.wo.weight`), N, H * D, C);
    const h = add(r, x, o, N * C);
    r.release(o);
    const { y: hn, rstd: rstd2 } = rmsNormForward(r, h, w.get(`${p}ffn_norm.weight`), N, C, eps, t.rowWg);
    const a = linear(r, t, hn, w.get(`${p}feed_forward.w1.weight`), N, C, F);
    const b = linear(r, t, hn, w.get(`${p}feed_forward.w3.weight`), N, C, F);
    const s = swigluForward(r, a, b, N * F);
    const f = linear(r, t, s, w.get(`${p}feed_forward.w2.weight`), N, F, C);
    const next = add(r, h, f, N * C);
    r.release(f);
    if (save) layers.push({ x, xn1, rstd1, q, k, v, att, lse, h, hn, rstd2, a, b, s });
    else for (const buf of [x, xn1, rstd1, q, k, v, att, lse, h, hn, rstd2, a, b, s]) r.release(buf);
    x = next;
  }
  let rows = N;
  if (options.lastOnly) {
    rows = Bn;
    const last = r.alloc(Bn * C);
    for (let b = 0; b < Bn; b++) copy(r, x, (b * T + T - 1) * C, last, b * C, C);
    r.release(x);
    x = last;
  }
  const { y: xnf, rstd: rstdf } = rmsNormForward(r, x, w.get("norm.weight"), rows, C, eps, t.rowWg);
  const logits = linear(r, t, xnf, w.outputWeight, rows, C, V);
  if (cache) cache.length = start + T;
  if (!save) {
    r.release(x);
    r.release(xnf);
    r.release(rstdf);
  }
  return { logits, rows, B: Bn, T, positions, layers, xf: x, xnf, rstdf };
}
