// The llama model's hyper-parameters in one place: the LlamaConfig type, its zod schemas (run.json
// and config files read the same field rules), its semantic validation (divisibility, RoPE pairs)
// and its parameter count. Checkpoints, the CLI, the server and the GGUF importer all use these.

import { z } from "zod";
import { StrataError } from "../core/errors.js";
import type { MoEOptions } from "./layers.js";

export interface LlamaConfig {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention); equal to heads for plain multi-head attention. */
  kvHeads: number;
  /** Hidden width of the SwiGLU feed-forward (of each expert with MoE). */
  ffnDim: number;
  /** Longest sequence (RoPE positions and KV cache size). */
  maxSeq: number;
  ropeBase: number;
  normEps: number;
  /** The output projection reuses the token embedding matrix. */
  tieEmbeddings: boolean;
  /** Q, K and V projections carry a bias (Qwen2). */
  qkvBias?: boolean;
  /** Per-frequency RoPE divisors, headDim/2 of them (Llama 3.1's rope_freqs). */
  ropeFreqFactors?: number[];
  /** Linear RoPE scaling: positions are multiplied by this (1 / rope.scaling.factor). */
  ropeScale?: number;
  /** Replace every feed-forward by a mixture of experts. */
  moe?: MoEOptions & {
    /** Weight of the load-balancing loss in `loss()` (default 0.01). */
    auxLossWeight?: number;
  };
}

export type ModelShape = Omit<LlamaConfig, "vocab">;

/** Values a config file may leave out (the llama 2 defaults). */
export const LLAMA_SHAPE_DEFAULTS = { ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false } as const;

const positiveInt = z.number().int().positive();
const moeSchema = z.object({ experts: positiveInt, topK: positiveInt, auxLossWeight: z.number().nonnegative().optional() }).strict();
const shapeFields = {
  dim: positiveInt,
  layers: positiveInt,
  heads: positiveInt,
  kvHeads: positiveInt,
  ffnDim: positiveInt,
  maxSeq: positiveInt,
  ropeBase: z.number().positive(),
  normEps: z.number().positive(),
  tieEmbeddings: z.boolean(),
  qkvBias: z.boolean().optional(),
  ropeFreqFactors: z.array(z.number().positive()).optional(),
  ropeScale: z.number().positive().optional(),
  moe: moeSchema.optional(),
};

/** A complete LlamaConfig as stored (run.json): every field, nothing else. */
export const llamaConfigSchema = z.object({ vocab: positiveInt, ...shapeFields }).strict();

/** A model in a config file: the vocabulary may come from the tokenizer, kvHeads and the RoPE/norm settings have defaults. */
export const modelShapeFileSchema = z
  .object({
    ...shapeFields,
    vocab: positiveInt.optional(),
    kvHeads: positiveInt.optional(),
    ropeBase: shapeFields.ropeBase.optional(),
    normEps: shapeFields.normEps.optional(),
    tieEmbeddings: shapeFields.tieEmbeddings.optional(),
  })
  .strict();

/** A config file's model with its defaults filled in (kvHeads = heads). */
export function shapeWithDefaults(shape: Omit<z.infer<typeof modelShapeFileSchema>, "vocab">): ModelShape {
  return { kvHeads: shape.heads, ...LLAMA_SHAPE_DEFAULTS, ...shape } as ModelShape;
}

/** Checks a configuration; every problem is an INVALID_CONFIG StrataError naming the field. */
export function validateConfig(c: LlamaConfig): void {
  const bad = (field: string, why: string, hint: string): never => {
    throw new StrataError("INVALID_CONFIG", `model config: ${field} ${why}`, hint);
  };
  for (const f of ["vocab", "dim", "layers", "heads", "kvHeads", "ffnDim", "maxSeq"] as const) {
    const v = c[f];
    if (!Number.isInteger(v) || v < 1) bad(f, `must be a positive integer, got ${String(v)}`, `set ${f} to a whole number ≥ 1`);
  }
  if (c.dim % c.heads !== 0) bad("dim", `${c.dim} is not divisible by heads ${c.heads}`, "choose dim as a multiple of heads");
  if ((c.dim / c.heads) % 2 !== 0) bad("dim", `gives an odd head dimension ${c.dim / c.heads}; RoPE rotates pairs`, "choose dim/heads even");
  if (c.heads % c.kvHeads !== 0) bad("kvHeads", `${c.kvHeads} does not divide heads ${c.heads}`, "choose kvHeads as a divisor of heads");
  if (!(c.ropeBase > 0)) bad("ropeBase", `must be positive, got ${c.ropeBase}`, "llama uses 10000 (500000 for llama 3)");
  if (!(c.normEps > 0)) bad("normEps", `must be positive, got ${c.normEps}`, "llama uses 1e-5 or 1e-6");
  const f = c.ropeFreqFactors;
  if (f && (f.length !== c.dim / c.heads / 2 || !f.every((v) => v > 0 && Number.isFinite(v)))) {
    bad("ropeFreqFactors", `must hold ${c.dim / c.heads / 2} positive numbers (one per rotated pair), got ${f.length}`, "take them from the model's rope_freqs tensor");
  }
  if (c.ropeScale !== undefined && !(c.ropeScale > 0 && Number.isFinite(c.ropeScale))) bad("ropeScale", `must be positive, got ${c.ropeScale}`, "use 1 / rope.scaling.factor");
  if (c.moe) {
    const { experts, topK, auxLossWeight } = c.moe;
    if (!Number.isInteger(experts) || experts < 1) bad("moe.experts", `must be a positive integer, got ${experts}`, "use e.g. 4 or 8 experts");
    if (!Number.isInteger(topK) || topK < 1 || topK > experts) bad("moe.topK", `must be between 1 and ${experts}, got ${topK}`, "use 1 or 2");
    if (auxLossWeight !== undefined && !(auxLossWeight >= 0)) bad("moe.auxLossWeight", `must be ≥ 0, got ${auxLossWeight}`, "use e.g. 0.01");
  }
}

/** Number of parameters a configuration has, without building it (e.g. to refuse one that does not fit). */
export function countParameters(c: LlamaConfig): number {
  const D = c.dim / c.heads;
  const attn = c.dim * c.heads * D * 2 + c.dim * c.kvHeads * D * 2; // wq, wo, wk, wv
  const bias = c.qkvBias ? (c.heads + 2 * c.kvHeads) * D : 0;
  const ffn = 3 * c.dim * c.ffnDim;
  const ff = c.moe ? c.moe.experts * ffn + c.dim * c.moe.experts : ffn;
  const perLayer = attn + bias + ff + 2 * c.dim;
  return c.vocab * c.dim + c.layers * perLayer + c.dim + (c.tieEmbeddings ? 0 : c.vocab * c.dim);
}
