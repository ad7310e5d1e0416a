// A Strata llama (config + state dict + tokenizer) as a GGUF file for llama.cpp's `llama`
// architecture. Nothing is permuted: Strata's RoPE is already the adjacent-pair form llama.cpp uses
// for `llama`, and its Linear weights are row-major [out][in], which is ggml's ne = [in, out].
//
//   Strata (Meta names)                      GGUF (llama.cpp names)            ggml dims
//   tok_embeddings.weight       [V, C]        token_embd.weight                 [C, V]
//   layers.N.attention_norm.weight [C]        blk.N.attn_norm.weight            [C]
//   layers.N.attention.wq.weight [H·D, C]     blk.N.attn_q.weight               [C, H·D]
//   layers.N.attention.wk.weight [Hkv·D, C]   blk.N.attn_k.weight               [C, Hkv·D]
//   layers.N.attention.wv.weight [Hkv·D, C]   blk.N.attn_v.weight               [C, Hkv·D]
//   layers.N.attention.wo.weight [C, H·D]     blk.N.attn_output.weight          [H·D, C]
//   layers.N.ffn_norm.weight    [C]           blk.N.ffn_norm.weight             [C]
//   layers.N.feed_forward.w1.weight [F, C]    blk.N.ffn_gate.weight             [C, F]
//   layers.N.feed_forward.w3.weight [F, C]    blk.N.ffn_up.weight               [C, F]
//   layers.N.feed_forward.w2.weight [C, F]    blk.N.ffn_down.weight             [F, C]
//   norm.weight                 [C]           output_norm.weight                [C]
//   output.weight               [V, C]        output.weight (left out when tied) [C, V]
// Mixture of experts (Mixtral's layout in llama.cpp): feed_forward.gate.weight [E, C] →
// blk.N.ffn_gate_inp.weight [C, E]; the experts' w1/w3/w2 stacked into blk.N.ffn_gate_exps /
// ffn_up_exps [C, F, E] and ffn_down_exps [F, C, E]; llama.expert_count / expert_used_count.
// llama.cpp's llama MoE gate (softmax over all experts, top-k, weights renormalised) equals
// Strata's softmax over the top-k scores.
//
// Quantization: norms stay F32 (llama.cpp's rule); every matrix takes the asked type. Q8_0 and
// Q4_0 store rows in blocks of 32, so a matrix whose rows are not a multiple of 32 long is written
// as F16 instead, and the result lists it.
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import type { LlamaConfig } from "../../nn/llama.js";
import type { StateDict } from "../../nn/module.js";
import { GGUF_TOKEN_TYPE, GGUF_TOKENIZER_VALUE_TYPES, type GgufTokenizerMetadata } from "../../tokenizer/gguf.js";
import type { Tokenizer } from "../../tokenizer/tokenizer.js";
import { ggufValue } from "./metadata.js";
import type { GgmlTypeName, GgufValue } from "./types.js";
import { writeGguf, type GgufTensorInput } from "./writer.js";

/** The weight types `exportLlamaGguf` writes, by their CLI names. */
export const LLAMA_GGUF_QUANTS = ["f32", "f16", "q8_0", "q4_0"] as const;
export type LlamaGgufQuant = (typeof LLAMA_GGUF_QUANTS)[number];

const QUANT_TYPE: Record<LlamaGgufQuant, GgmlTypeName> = { f32: "F32", f16: "F16", q8_0: "Q8_0", q4_0: "Q4_0" };
/** llama.cpp's llama_ftype: what most of the weights are. */
const FILE_TYPE: Record<LlamaGgufQuant, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/** Checks a quantization name (any case): one of f32, f16, q8_0, q4_0. */
export function parseLlamaGgufQuant(name: string): LlamaGgufQuant {
  const q = name.trim().toLowerCase();
  if ((LLAMA_GGUF_QUANTS as readonly string[]).includes(q)) return q as LlamaGgufQuant;
  throw new StrataError("USAGE", `unsupported quantization "${name}"`, `use one of ${LLAMA_GGUF_QUANTS.join(", ")} (q4_k, q6_k and others can be made from the f32 or f16 file with llama.cpp's llama-quantize)`);
}

export interface LlamaGgufExportInput {
  config: LlamaConfig;
  stateDict: StateDict;
  tokenizer: Tokenizer;
  /** Default f32. */
  quant?: LlamaGgufQuant;
  /** general.name (default "strata-llama"). */
  name?: string;
  /** More metadata, written after the standard keys (e.g. provenance: the run and step). */
  extraMetadata?: Iterable<[string, GgufValue]>;
}

export interface LlamaGgufTensorPlan {
  name: string;
  /** ggml order: dims[0] is the row length. */
  dims: number[];
  type: GgmlTypeName;
}

export interface LlamaGgufExportResult {
  path: string;
  bytes: number;
  quant: LlamaGgufQuant;
  tensors: LlamaGgufTensorPlan[];
  /** Matrices written as F16 because their rows do not fill whole blocks of the asked type. */
  fallbacks: string[];
}

/** The `llama.*` and `general.*` keys for a config (no tokenizer). */
export function llamaGgufModelMetadata(config: LlamaConfig, options: { name?: string; quant?: LlamaGgufQuant } = {}): Array<[string, GgufValue]> {
  const quant = options.quant ?? "f32";
  const headDim = config.dim / config.heads;
  const out: Array<[string, GgufValue]> = [
    ["general.architecture", ggufValue.str("llama")],
    ["general.name", ggufValue.str(options.name ?? "strata-llama")],
    ["general.file_type", ggufValue.u32(FILE_TYPE[quant])],
  ];
  if (quant === "q8_0" || quant === "q4_0") out.push(["general.quantization_version", ggufValue.u32(2)]);
  out.push(
    ["llama.context_length", ggufValue.u32(config.maxSeq)],
    ["llama.embedding_length", ggufValue.u32(config.dim)],
    ["llama.block_count", ggufValue.u32(config.layers)],
    ["llama.feed_forward_length", ggufValue.u32(config.ffnDim)],
    ["llama.attention.head_count", ggufValue.u32(config.heads)],
    ["llama.attention.head_count_kv", ggufValue.u32(config.kvHeads)],
    ["llama.attention.layer_norm_rms_epsilon", ggufValue.f32(config.normEps)],
    ["llama.rope.freq_base", ggufValue.f32(config.ropeBase)],
    ["llama.rope.dimension_count", ggufValue.u32(headDim)],
    ["llama.vocab_size", ggufValue.u32(config.vocab)],
  );
  if (config.ropeScale !== undefined && config.ropeScale !== 1) {
    out.push(["llama.rope.scaling.type", ggufValue.str("linear")], ["llama.rope.scaling.factor", ggufValue.f32(1 / config.ropeScale)]);
  }
  if (config.moe) {
    out.push(["llama.expert_count", ggufValue.u32(config.moe.experts)], ["llama.expert_used_count", ggufValue.u32(config.moe.topK)]);
  }
  return out;
}

/**
 * The `tokenizer.*` keys for a tokenizer, its vocabulary padded to `vocab` entries with unused
 * tokens `<|unused_N|>` when the model's embedding has more rows than the tokenizer has tokens.
 */
export function llamaGgufTokenizerMetadata(tokenizer: Tokenizer, vocab: number): Array<[string, GgufValue]> {
  if (vocab < tokenizer.vocabSize) {
    throw new StrataError("STATE_DICT_MISMATCH", `the model has ${vocab} embedding rows but its tokenizer ${tokenizer.vocabSize} tokens`, "export the tokenizer the model was trained with");
  }
  const md: GgufTokenizerMetadata = tokenizer.toGgufTokenizerMetadata();
  const tokens = [...md["tokenizer.ggml.tokens"]];
  const types = [...md["tokenizer.ggml.token_type"]];
  for (let i = tokens.length; i < vocab; i++) {
    tokens.push(`<|unused_${i}|>`);
    types.push(GGUF_TOKEN_TYPE.unused);
  }
  const padded: GgufTokenizerMetadata = { ...md, "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.token_type": types };
  return (Object.keys(GGUF_TOKENIZER_VALUE_TYPES) as (keyof GgufTokenizerMetadata)[]).map((key): [string, GgufValue] => {
    const v = padded[key];
    switch (GGUF_TOKENIZER_VALUE_TYPES[key]) {
      case "string":
        return [key, ggufValue.str(v as string)];
      case "uint32":
        return [key, ggufValue.u32(v as number)];
      case "bool":
        return [key, ggufValue.bool(v as boolean)];
      case "array:string":
        return [key, ggufValue.strings(v as string[])];
      case "array:int32":
        return [key, ggufValue.numbers("int32", v as number[])];
    }
  });
}

/** One GGUF tensor and the Strata parameters it is made of. */
export interface LlamaGgufTensorSource {
  gguf: string;
  /** Strata names whose data are concatenated (one, or one per expert). */
  sources: string[];
  /** Each source's Strata shape ([out, in] for matrices, [n] for norms). */
  shape: number[];
  norm: boolean;
}

/** Which Strata parameters make which GGUF tensor, in file order (export writes it, import reads it back). */
export function llamaGgufTensorMap(c: LlamaConfig): LlamaGgufTensorSource[] {
  const D = c.dim / c.heads;
  const out: LlamaGgufTensorSource[] = [];
  const one = (gguf: string, source: string, shape: number[], norm = false): void => {
    out.push({ gguf, sources: [source], shape, norm });
  };
  one("token_embd.weight", "tok_embeddings.weight", [c.vocab, c.dim]);
  for (let l = 0; l < c.layers; l++) {
    const p = `layers.${l}`;
    const b = `blk.${l}`;
    one(`${b}.attn_norm.weight`, `${p}.attention_norm.weight`, [c.dim], true);
    one(`${b}.attn_q.weight`, `${p}.attention.wq.weight`, [c.heads * D, c.dim]);
    one(`${b}.attn_k.weight`, `${p}.attention.wk.weight`, [c.kvHeads * D, c.dim]);
    one(`${b}.attn_v.weight`, `${p}.attention.wv.weight`, [c.kvHeads * D, c.dim]);
    if (c.qkvBias) {
      one(`${b}.attn_q.bias`, `${p}.attention.wq.bias`, [c.heads * D], true);
      one(`${b}.attn_k.bias`, `${p}.attention.wk.bias`, [c.kvHeads * D], true);
      one(`${b}.attn_v.bias`, `${p}.attention.wv.bias`, [c.kvHeads * D], true);
    }
    one(`${b}.attn_output.weight`, `${p}.attention.wo.weight`, [c.dim, c.heads * D]);
    one(`${b}.ffn_norm.weight`, `${p}.ffn_norm.weight`, [c.dim], true);
    if (c.moe) {
      const experts = Array.from({ length: c.moe.experts }, (_, e) => `${p}.feed_forward.experts.${e}`);
      one(`${b}.ffn_gate_inp.weight`, `${p}.feed_forward.gate.weight`, [c.moe.experts, c.dim]);
      out.push({ gguf: `${b}.ffn_gate_exps.weight`, sources: experts.map((e) => `${e}.w1.weight`), shape: [c.ffnDim, c.dim], norm: false });
      out.push({ gguf: `${b}.ffn_down_exps.weight`, sources: experts.map((e) => `${e}.w2.weight`), shape: [c.dim, c.ffnDim], norm: false });
      out.push({ gguf: `${b}.ffn_up_exps.weight`, sources: experts.map((e) => `${e}.w3.weight`), shape: [c.ffnDim, c.dim], norm: false });
    } else {
      one(`${b}.ffn_gate.weight`, `${p}.feed_forward.w1.weight`, [c.ffnDim, c.dim]);
      one(`${b}.ffn_up.weight`, `${p}.feed_forward.w3.weight`, [c.ffnDim, c.dim]);
      one(`${b}.ffn_down.weight`, `${p}.feed_forward.w2.weight`, [c.dim, c.ffnDim]);
    }
  }
  one("output_norm.weight", "norm.weight", [c.dim], true);
  if (!c.tieEmbeddings) one("output.weight", "output.weight", [c.vocab, c.dim]);
  return out;
}

/** The GGUF tensors of a model, each with its ggml dims, type and (lazily concatenated) data. */
export function llamaGgufTensors(config: LlamaConfig, stateDict: StateDict, quant: LlamaGgufQuant = "f32"): { tensors: GgufTensorInput[]; fallbacks: string[] } {
  const want = QUANT_TYPE[quant];
  const fallbacks: string[] = [];
  const tensors = llamaGgufTensorMap(config).map((t): GgufTensorInput => {
    for (const s of t.sources) {
      const e = stateDict[s];
      if (!e) throw new StrataError("STATE_DICT_MISMATCH", `the weights lack parameter ${s}`, "export weights saved from a model with this configuration");
      const same = e.shape.length === t.shape.length && e.shape.every((d, i) => d === t.shape[i]) && e.data.length === t.shape.reduce((a, b) => a * b, 1);
      if (!same) throw new StrataError("STATE_DICT_MISMATCH", `parameter ${s} has shape [${e.shape.join(", ")}] but the config needs [${t.shape.join(", ")}]`, "export weights saved from a model with this configuration");
    }
    // Strata [out, in] (or [n]) → ggml [in, out] (or [n]); experts add a last dim.
    const dims = t.shape.length === 1 ? [t.shape[0]!] : [t.shape[1]!, t.shape[0]!];
    if (t.sources.length > 1) dims.push(t.sources.length);
    let type: GgmlTypeName = t.norm ? "F32" : want;
    if ((type === "Q8_0" || type === "Q4_0") && dims[0]! % 32 !== 0) {
      type = "F16";
      fallbacks.push(t.gguf);
    }
    const sources = t.sources.map((s) => stateDict[s]!.data);
    const data = sources.length === 1 ? sources[0]! : (): Float32Array => {
      const joined = new Float32Array(sources.reduce((n, s) => n + s.length, 0));
      let at = 0;
      for (const s of sources) {
        joined.set(s, at);
        at += s.length;
      }
      return joined;
    };
    return { name: t.gguf, dims, type, data };
  });
  // Llama 3.1's per-frequency RoPE factors travel in the config and go back as the tensor llama.cpp reads.
  if (config.ropeFreqFactors) tensors.splice(1, 0, { name: "rope_freqs.weight", dims: [config.ropeFreqFactors.length], type: "F32", data: Float32Array.from(config.ropeFreqFactors) });
  return { tensors, fallbacks };
}

/**
 * Writes a model with its tokenizer and hyper-parameters as a GGUF v3 file llama.cpp loads
 * (atomically: a temporary file renamed into place). Progress: `write-gguf`, one unit per tensor.
 */
export async function exportLlamaGguf(path: string, input: LlamaGgufExportInput, opts: LongOperationOptions = {}): Promise<LlamaGgufExportResult> {
  throwIfAborted(opts.signal);
  const quant = input.quant ?? "f32";
  if (!(LLAMA_GGUF_QUANTS as readonly string[]).includes(quant)) parseLlamaGgufQuant(String(quant));
  const { config, tokenizer } = input;
  const { tensors, fallbacks } = llamaGgufTensors(config, input.stateDict, quant);
  const metadata = new Map<string, GgufValue>([
    ...llamaGgufModelMetadata(config, { name: input.name, quant }),
    ...llamaGgufTokenizerMetadata(tokenizer, config.vocab),
    ...(input.extraMetadata ?? []),
  ]);
  const bytes = await writeGguf(path, { metadata, tensors }, opts);
  return { path, bytes, quant, tensors: tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type })), fallbacks };
}
