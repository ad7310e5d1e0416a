// Fused scaled-dot-product attention with grouped-query heads, causal masking aligned to the end
// of the keys (so a KV cache works), in the [B, T, H, D] layout the llama block produces.
//
// Per batch b and query head h (kv head g = h / (Hq/Hkv)), with Q [T×D], K, V [S×D]:
//   scores = scale · Q Kᵀ                [T×S]
//   P      = softmax(scores, masked)      query i sees keys j ≤ S − T + i when causal
//   O      = P V                          [T×D]
// Only O and each row's log-sum-exp are kept; the backward recomputes P from them (as
// FlashAttention does), so memory stays O(B·H·T) instead of O(B·H·T·S):
//   dV += Pᵀ dO,  dP = dO Vᵀ,  dS = P ∘ (dP − rowsum(dO ∘ O)),  dQ = scale · dS K,  dK += scale · dSᵀ Q
// All products go through a `Gemm`, so the same code runs on the reference GEMM and on OpenBLAS.

import type { Gemm } from "./gemm.js";

/** A [B, T, H, D] view whose last dim is contiguous: element (b, t, h, d) is at offset + b·sB + t·sT + h·sH + d. */
export interface HeadView {
  data: Float32Array;
  offset: number;
  sB: number;
  sT: number;
  sH: number;
}

export interface AttentionDims {
  B: number;
  /** Query positions. */
  T: number;
  /** Key positions (T for self-attention, cache length with a KV cache). */
  S: number;
  Hq: number;
  Hkv: number;
  D: number;
  scale: number;
  causal: boolean;
}

/** Masks, exponentiates and normalises one block of scores in place; returns nothing, writes lse. */
function softmaxBlock(p: Float32Array, T: number, S: number, causal: boolean, lse: Float32Array, lseOff: number): void {
  for (let i = 0; i < T; i++) {
    const o = i * S;
    const last = causal ? S - T + i : S - 1; // last visible key
    let m = -Infinity;
    for (let j = 0; j <= last; j++) if (p[o + j]! > m) m = p[o + j]!;
    let s = 0;
    for (let j = 0; j <= last; j++) {
      const e = Math.exp(p[o + j]! - m);
      p[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j <= last; j++) p[o + j] = p[o + j]! * inv;
    if (last + 1 < S) p.fill(0, o + last + 1, o + S);
    lse[lseOff + i] = m + Math.log(s);
  }
}

/** Recomputes P from scores and the saved log-sum-exp, in place. */
function probsFromLse(p: Float32Array, T: number, S: number, causal: boolean, lse: Float32Array, lseOff: number): void {
  for (let i = 0; i < T; i++) {
    const o = i * S;
    const last = causal ? S - T + i : S - 1;
    const l = lse[lseOff + i]!;
    for (let j = 0; j <= last; j++) p[o + j] = Math.exp(p[o + j]! - l);
    if (last + 1 < S) p.fill(0, o + last + 1, o + S);
  }
}

/** Forward: returns O as a contiguous [B, T, Hq, D] array and the log-sum-exp as [B, Hq, T]. */
export function attentionForward(gemm: Gemm, q: HeadView, k: HeadView, v: HeadView, dims: AttentionDims): { out: Float32Array; lse: Float32Array } {
  const { B, T, S, Hq, Hkv, D, scale, causal } = dims;
  const group = Hq / Hkv;
  const out = new Float32Array(B * T * Hq * D);
  const lse = new Float32Array(B * Hq * T);
  const p = new Float32Array(T * S);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      const qo = q.offset + b * q.sB + h * q.sH;
      const ko = k.offset + b * k.sB + g * k.sH;
      const vo = v.offset + b * v.sB + g * v.sH;
      gemm(false, true, T, S, D, scale, q.data, qo, q.sT, k.data, ko, k.sT, 0, p, 0, S);
      softmaxBlock(p, T, S, causal, lse, (b * Hq + h) * T);
      gemm(false, false, T, D, S, 1, p, 0, S, v.data, vo, v.sT, 0, out, (b * T * Hq + h) * D, Hq * D);
    }
  }
  return { out, lse };
}

/**
 * Backward. `dout` and `out` are contiguous [B, T, Hq, D]; returns contiguous gradients in the
 * logical shapes of q [B, T, Hq, D], k and v [B, S, Hkv, D] (null where not wanted).
 */
export function attentionBackward(
  gemm: Gemm, dout: Float32Array, out: Float32Array, lse: Float32Array, q: HeadView, k: HeadView, v: HeadView, dims: AttentionDims,
  want: { q: boolean; k: boolean; v: boolean },
): { dq: Float32Array | null; dk: Float32Array | null; dv: Float32Array | null } {
  const { B, T, S, Hq, Hkv, D, scale, causal } = dims;
  const group = Hq / Hkv;
  const dq = want.q ? new Float32Array(B * T * Hq * D) : null;
  const dk = want.k ? new Float32Array(B * S * Hkv * D) : null;
  const dv = want.v ? new Float32Array(B * S * Hkv * D) : null;
  const p = new Float32Array(T * S);
  const dp = new Float32Array(T * S);
  const rowDot = new Float32Array(T);
  const ld = Hq * D; // row stride of dout / out / dq
  const ldkv = Hkv * D; // row stride of dk / dv
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      const qo = q.offset + b * q.sB + h * q.sH;
      const ko = k.offset + b * k.sB + g * k.sH;
      const vo = v.offset + b * v.sB + g * v.sH;
      const oo = (b * T * Hq + h) * D;
      const kvo = (b * S * Hkv + g) * D;
      gemm(false, true, T, S, D, scale, q.data, qo, q.sT, k.data, ko, k.sT, 0, p, 0, S);
      probsFromLse(p, T, S, causal, lse, (b * Hq + h) * T);
      if (dv) gemm(true, false, S, D, T, 1, p, 0, S, dout, oo, ld, 1, dv, kvo, ldkv);
      if (!dq && !dk) continue;
      gemm(false, true, T, S, D, 1, dout, oo, ld, v.data, vo, v.sT, 0, dp, 0, S);
      for (let i = 0; i < T; i++) {
        let s = 0;
        const r = oo + i * ld;
        for (let d = 0; d < D; d++) s += dout[r + d]! * out[r + d]!;
        rowDot[i] = s;
      }
      // dS = P ∘ (dP − rowDot), written over dp
      for (let i = 0; i < T; i++) {
        const o = i * S;
        const rd = rowDot[i]!;
        for (let j = 0; j < S; j++) dp[o + j] = p[o + j]! * (dp[o + j]! - rd);
      }
      if (dq) gemm(false, false, T, D, S, scale, dp, 0, S, k.data, ko, k.sT, 0, dq, oo, ld);
      if (dk) gemm(true, false, S, D, T, scale, dp, 0, S, q.data, qo, q.sT, 1, dk, kvo, ldkv);
    }
  }
  return { dq, dk, dv };
}
