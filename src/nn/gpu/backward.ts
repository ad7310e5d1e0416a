// The llama backward on the GPU: the forward (forward.ts) in reverse, written out by hand as llm.c
// does. Linear layers y = x·Wᵀ give dW += dyᵀ·x (a TN matmul accumulating into the gradient
// buffer, so micro-batches and the tied embedding add up) and dx = dy·W (NN); RMSNorm, RoPE
// (direction −1), SwiGLU, attention and the embedding have their own backward kernels; residual
// branches meet by accumulation. Gradients accumulate into `grads` (zeroed by the caller per step).

import { accumulate } from "../../tensor/webgpu/kernels/elementwise.js";
import { attentionBackward } from "../../tensor/webgpu/kernels/attention-backward.js";
import { packedLayout } from "../../tensor/webgpu/kernels/attention-common.js";
import { embeddingBackward, embeddingGradIndex } from "../../tensor/webgpu/kernels/embedding.js";
import { matmulCall } from "../../tensor/webgpu/kernels/matmul.js";
import { rmsNormBackward } from "../../tensor/webgpu/kernels/rmsnorm.js";
import { rope } from "../../tensor/webgpu/kernels/rope.js";
import { swigluBackward } from "../../tensor/webgpu/kernels/swiglu.js";
import type { ForwardResult, GpuModel } from "./forward.js";
import type { ScopedRunner } from "./scope.js";

/** Gradient buffers by parameter name (same sizes as the weights). */
export type GradBuffers<B> = ReadonlyMap<string, B>;

/**
 * Backpropagates dlogits [rows, V] through the saved forward `f` of ids, accumulating every
 * parameter's gradient into `grads`. Temporaries go through `scope`.
 */
export function backward<B>(m: GpuModel<B>, scope: ScopedRunner<B>, f: ForwardResult<B>, ids: Int32Array, dlogits: B, grads: GradBuffers<B>): void {
  const { C, H, Hkv, D, F, V } = m.dims;
  const { tuning: t, weights: w } = m;
  const r = scope;
  const N = f.rows;
  const { B: Bn, T } = f;
  const grad = (name: string): B => grads.get(name)!;
  const norm = { wg: t.rowWg, chunk: t.normChunk };
  /** dW [out, in] += dyᵀ · x */
  const weightGrad = (dy: B, x: B, name: string, outF: number, inF: number): void => {
    r.run(matmulCall(dy, x, grad(name), { transA: true, transB: false, M: outF, N: inF, K: N, beta: 1 }, t.tile));
  };
  /** dx [N, in] (=|+=) dy · W */
  const inputGrad = (dy: B, W: B, dx: B, outF: number, inF: number, beta: 0 | 1): void => {
    r.run(matmulCall(dy, W, dx, { transA: false, transB: false, M: N, N: inF, K: outF, beta }, t.tile));
  };
  const outName = w.config.tieEmbeddings ? "tok_embeddings.weight" : "output.weight";
  weightGrad(dlogits, f.xnf, outName, V, C);
  const dxnf = r.alloc(N * C);
  inputGrad(dlogits, w.outputWeight, dxnf, V, C, 0);
  const fin = rmsNormBackward(r, dxnf, f.xf, w.get("norm.weight"), f.rstdf, N, C, norm);
  accumulate(r, grad("norm.weight"), fin.dw, C);
  r.release(dxnf);
  r.release(fin.dw);
  let dx = fin.dx;
  const attDims = { B: Bn, T, S: T, Hq: H, Hkv, D, scale: 1 / Math.sqrt(D), causal: true };
  const layouts = { q: packedLayout(T, H, D), k: packedLayout(T, Hkv, D), v: packedLayout(T, Hkv, D) };
  for (let l = f.layers.length - 1; l >= 0; l--) {
    const a = f.layers[l]!;
    const p = `layers.${l}.`;
    // feed-forward: out = h + w2(swiglu(w1 hn, w3 hn))
    const ds = r.alloc(N * F);
    inputGrad(dx, w.get(`${p}feed_forward.w2.weight`), ds, C, F, 0);
    weightGrad(dx, a.s, `${p}feed_forward.w2.weight`, C, F);
    const sw = swigluBackward(r, ds, a.a, a.b, N * F);
    r.release(ds);
    weightGrad(sw.da, a.hn, `${p}feed_forward.w1.weight`, F, C);
    weightGrad(sw.db, a.hn, `${p}feed_forward.w3.weight`, F, C);
    const dhn = r.alloc(N * C);
    inputGrad(sw.da, w.get(`${p}feed_forward.w1.weight`), dhn, F, C, 0);
    inputGrad(sw.db, w.get(`${p}feed_forward.w3.weight`), dhn, F, C, 1);
    r.release(sw.da);
    r.release(sw.db);
    const ffn = rmsNormBackward(r, dhn, a.h, w.get(`${p}ffn_norm.weight`), a.rstd2, N, C, norm);
    accumulate(r, grad(`${p}ffn_norm.weight`), ffn.dw, C);
    r.release(dhn);
    r.release(ffn.dw);
    const dh = accumulate(r, ffn.dx, dx, N * C); // the residual: both branches reach h
    r.release(dx);
    // attention: h = x + wo(attention(rope(wq xn), rope(wk xn), wv xn))
    weightGrad(dh, a.att, `${p}attention.wo.weight`, C, H * D);
    const datt = r.alloc(N * H * D);
    inputGrad(dh, w.get(`${p}attention.wo.weight`), datt, C, H * D, 0);
    const g = attentionBackward(r, datt, a.att, a.lse, a.q, a.k, a.v, layouts, attDims, t.attention);
    r.release(datt);
    const dq = rope(r, g.dq, f.positions, m.ropeCos, m.ropeSin, { B: Bn, T, H, D }, -1);
    const dk = rope(r, g.dk, f.positions, m.ropeCos, m.ropeSin, { B: Bn, T, H: Hkv, D }, -1);
    r.release(g.dq);
    r.release(g.dk);
    weightGrad(dq, a.xn1, `${p}attention.wq.weight`, H * D, C);
    weightGrad(dk, a.xn1, `${p}attention.wk.weight`, Hkv * D, C);
    weightGrad(g.dv, a.xn1, `${p}attention.wv.weight`, Hkv * D, C);
    const dxn = r.alloc(N * C);
    inputGrad(dq, w.get(`${p}attention.wq.weight`), dxn, H * D, C, 0);
    inputGrad(dk, w.get(`${p}attention.wk.weight`), dxn, Hkv * D, C, 1);
    inputGrad(g.dv, w.get(`${p}attention.wv.weight`), dxn, Hkv * D, C, 1);
    r.release(dq);
    r.release(dk);
    r.release(g.dv);
    const att = rmsNormBackward(r, dxn, a.x, w.get(`${p}attention_norm.weight`), a.rstd1, N, C, norm);
    accumulate(r, grad(`${p}attention_norm.weight`), att.dw, C);
    r.release(dxn);
    r.release(att.dw);
    dx = accumulate(r, att.dx, dh, N * C);
    r.release(dh);
  }
  // the embedding: rows gathered per token id, in position order (deterministic, no atomics)
  const { start, order } = embeddingGradIndex(ids, V);
  const dEmb = embeddingBackward(r, dx, scope.track(m.runner.upload(start)), scope.track(m.runner.upload(order)), V, C);
  accumulate(r, grad("tok_embeddings.weight"), dEmb, V * C);
  r.release(dEmb);
  r.release(dx);
}
