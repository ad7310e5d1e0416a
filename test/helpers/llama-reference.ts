// A plain-TS forward pass of a llama model (RMSNorm, RoPE in llama.cpp's adjacent-pair "NORM" form,
// grouped-query attention, SwiGLU), in float64, to check llama.cpp's logits against. Slow and obvious
// on purpose: every shape is spelled out.
import { dequantizeQ8_0, f16ToF32, f32ToF16, quantizeQ8_0 } from "../../src/formats/gguf/index.js";
import type { TinyLlama, TinyLora } from "./tiny-llama.js";

/**
 * How llama.cpp's CPU matmul sees the activations: F32 weights use them as they are; F16 weights
 * round them to f16; Q8_0/Q4_0 weights quantize them to Q8_0 blocks first (ggml's vec_dot_type).
 */
export type ActivationRounding = "F32" | "F16" | "Q8_0";

function roundActivations(x: Float64Array, mode: ActivationRounding): Float64Array {
  if (mode === "F32") return x;
  if (mode === "F16") return x.map((v) => f16ToF32(f32ToF16(v)));
  return Float64Array.from(dequantizeQ8_0(quantizeQ8_0(Float32Array.from(x)), x.length));
}

/** y[rows] = W[rows][cols] · x[cols] */
function matvecExact(w: Float32Array, rows: number, cols: number, x: Float64Array): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += w[o + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * weight[i]!);
}

/** Rotates each adjacent pair (2i, 2i+1) of every head by pos·base^(−2i/headDim). */
function rope(v: Float64Array, heads: number, headDim: number, pos: number, base: number): void {
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      const theta = pos * Math.pow(base, (-2 * i) / headDim);
      const a = h * headDim + 2 * i;
      const x0 = v[a]!;
      const x1 = v[a + 1]!;
      v[a] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
      v[a + 1] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
    }
  }
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

/** W + scale·(alpha/r)·B·A for every weight the adapter touches. */
export function mergeLora(model: TinyLlama, lora: TinyLora, scale = 1): Map<string, Float32Array> {
  const merged = new Map(model.weights);
  for (const [name, { a, b, rows, cols }] of lora.adapters) {
    const w = Float32Array.from(model.weights.get(name)!);
    const k = (scale * lora.alpha) / lora.rank;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let s = 0;
        for (let j = 0; j < lora.rank; j++) s += b[r * lora.rank + j]! * a[j * cols + c]!;
        w[r * cols + c] = w[r * cols + c]! + k * s;
      }
    }
    merged.set(name, w);
  }
  return merged;
}

/** Logits (one Float64Array of vocabSize per position) for a token sequence. */
export function llamaForward(model: TinyLlama, tokens: number[], weights: Map<string, Float32Array> = model.weights, activations: ActivationRounding = "F32"): Float64Array[] {
  const cfg = model.config;
  const matvec = (w: Float32Array, rows: number, cols: number, x: Float64Array): Float64Array => matvecExact(w, rows, cols, roundActivations(x, activations));
  const W = (name: string): Float32Array => {
    const w = weights.get(name);
    if (!w) throw new Error(`missing weight ${name}`);
    return w;
  };
  const kvWidth = cfg.kvHeads * cfg.headDim;
  const groups = cfg.heads / cfg.kvHeads;
  const keys: Float64Array[][] = Array.from({ length: cfg.layers }, () => []);
  const values: Float64Array[][] = Array.from({ length: cfg.layers }, () => []);
  const out: Float64Array[] = [];
  const embd = W("token_embd.weight");
  tokens.forEach((token, pos) => {
    let x = Float64Array.from(embd.subarray(token * cfg.width, (token + 1) * cfg.width));
    for (let l = 0; l < cfg.layers; l++) {
      const h = rmsNorm(x, W(`blk.${l}.attn_norm.weight`), cfg.rmsEps);
      const q = matvec(W(`blk.${l}.attn_q.weight`), cfg.width, cfg.width, h);
      const k = matvec(W(`blk.${l}.attn_k.weight`), kvWidth, cfg.width, h);
      const v = matvec(W(`blk.${l}.attn_v.weight`), kvWidth, cfg.width, h);
      rope(q, cfg.heads, cfg.headDim, pos, cfg.ropeBase);
      rope(k, cfg.kvHeads, cfg.headDim, pos, cfg.ropeBase);
      keys[l]!.push(k);
      values[l]!.push(v);
      const att = new Float64Array(cfg.width);
      for (let head = 0; head < cfg.heads; head++) {
        const kvh = Math.floor(head / groups);
        const scores = keys[l]!.map((kk) => {
          let s = 0;
          for (let i = 0; i < cfg.headDim; i++) s += q[head * cfg.headDim + i]! * kk[kvh * cfg.headDim + i]!;
          return s / Math.sqrt(cfg.headDim);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        values[l]!.forEach((vv, s) => {
          for (let i = 0; i < cfg.headDim; i++) att[head * cfg.headDim + i] = att[head * cfg.headDim + i]! + (e[s]! / sum) * vv[kvh * cfg.headDim + i]!;
        });
      }
      const o = matvec(W(`blk.${l}.attn_output.weight`), cfg.width, cfg.width, att);
      x = x.map((xv, i) => xv + o[i]!);
      const h2 = rmsNorm(x, W(`blk.${l}.ffn_norm.weight`), cfg.rmsEps);
      const gate = matvec(W(`blk.${l}.ffn_gate.weight`), cfg.ffn, cfg.width, h2);
      const up = matvec(W(`blk.${l}.ffn_up.weight`), cfg.ffn, cfg.width, h2);
      const act = gate.map((g, i) => silu(g) * up[i]!);
      const down = matvec(W(`blk.${l}.ffn_down.weight`), cfg.width, cfg.ffn, act);
      x = x.map((xv, i) => xv + down[i]!);
    }
    const final = rmsNorm(x, W("output_norm.weight"), cfg.rmsEps);
    const head = cfg.tiedEmbeddings ? embd : W("output.weight");
    out.push(matvec(head, cfg.vocabSize, cfg.width, final));
  });
  return out;
}
