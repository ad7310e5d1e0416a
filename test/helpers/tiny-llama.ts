// A tiny llama-architecture GGUF with seeded random weights and a real GPT-2-style byte-level BPE
// vocabulary, for tests that need a model llama.cpp can load. The weights are returned too (as
// llama.cpp will see them, i.e. after quantization), so a plain-TS forward pass can check the logits.
import { writeGguf, ggufValue, type GgmlTypeName, type GgufTensorInput, type GgufValue } from "../../src/formats/gguf/index.js";
import { decodeTensorData, dequantizeQ4_0, dequantizeQ8_0, f16ToF32, f32ToF16, ggmlTypeByName, quantizeQ4_0, quantizeQ8_0 } from "../../src/formats/gguf/index.js";
import { normalSource } from "../../src/core/random.js";

export type TinyWeightType = "F32" | "F16" | "Q8_0" | "Q4_0";

export interface TinyLlamaOptions {
  seed?: number;
  weightType?: TinyWeightType;
  layers?: number;
  width?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  context?: number;
  /** Leave out output.weight: llama.cpp then uses token_embd for the output projection. */
  tiedEmbeddings?: boolean;
  /** A Jinja chat template; null leaves the key out. Defaults to ChatML. */
  chatTemplate?: string | null;
  /** Extra metadata, written after the standard keys (e.g. to break a model on purpose). */
  extraMetadata?: Array<[string, GgufValue]>;
  /** Tensors to leave out (to break a model on purpose). */
  omitTensors?: string[];
  /**
   * Store token_embd as random K-quant blocks (width must be a multiple of 256). llama.cpp's row
   * lookup dequantizes them exactly, so matching logits check Strata's Q4_K/Q6_K decoders.
   */
  embeddingType?: "Q4_K" | "Q6_K";
}

export interface TinyLlamaConfig {
  vocabSize: number;
  layers: number;
  width: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  context: number;
  rmsEps: number;
  ropeBase: number;
  tiedEmbeddings: boolean;
}

export interface TinyLlama {
  path: string;
  config: TinyLlamaConfig;
  /** Row-major `[out][in]` values (ggml dims [in, out]) exactly as llama.cpp sees them. */
  weights: Map<string, Float32Array>;
  tokens: string[];
  merges: string[];
  special: { bos: number; eos: number; imStart: number; imEnd: number };
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// A handful of merges of frequent English pairs: enough for llama.cpp to exercise real BPE merging.
const MERGES = [
  "Ġ t", "h e", "Ġt he", "Ġ a", "i n", "e r", "o n", "Ġ s", "r e", "a n", "Ġ w", "o r", "e n", "Ġ o",
  "i s", "Ġ i", "in g", "Ġ c", "a t", "e d", "Ġ b", "Ġ f", "o u", "Ġ m", "l l", "Ġa n", "Ġan d",
];
const SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/** GPT-2's byte → printable character table: printable Latin-1 bytes map to themselves, the rest to U+0100…. */
export function byteToUnicode(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : next++);
  }
  return table;
}

export function tinyVocabulary(): { tokens: string[]; merges: string[]; tokenTypes: number[] } {
  const tokens = byteToUnicode();
  for (const m of MERGES) tokens.push(m.replace(" ", ""));
  const tokenTypes = tokens.map(() => 1); // normal
  for (const s of SPECIALS) {
    tokens.push(s);
    tokenTypes.push(3); // control
  }
  return { tokens, merges: [...MERGES], tokenTypes };
}

/** Deterministic normal(0, 1) numbers from the repository's one seeded generator. */
export const seededNormal = normalSource;

function randomTensor(n: number, std: number, normal: () => number, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * normal();
  return out;
}

/** What llama.cpp will read back for values stored as `type`. */
function asStored(type: TinyWeightType, x: Float32Array): Float32Array {
  switch (type) {
    case "F32":
      return x;
    case "F16":
      return x.map((v) => f16ToF32(f32ToF16(v)));
    case "Q8_0":
      return dequantizeQ8_0(quantizeQ8_0(x), x.length);
    case "Q4_0":
      return dequantizeQ4_0(quantizeQ4_0(x), x.length);
  }
}

export function tinyLlamaConfig(opts: TinyLlamaOptions = {}): TinyLlamaConfig {
  const heads = opts.heads ?? 4;
  const width = opts.width ?? 64;
  return {
    vocabSize: tinyVocabulary().tokens.length,
    layers: opts.layers ?? 2,
    width,
    heads,
    kvHeads: opts.kvHeads ?? 2,
    headDim: width / heads,
    ffn: opts.ffn ?? 128,
    context: opts.context ?? 1024,
    rmsEps: 1e-5,
    ropeBase: 10000,
    tiedEmbeddings: opts.tiedEmbeddings ?? false,
  };
}

export async function writeTinyLlamaGguf(path: string, opts: TinyLlamaOptions = {}): Promise<TinyLlama> {
  const cfg = tinyLlamaConfig(opts);
  const weightType = opts.weightType ?? "F32";
  const normal = seededNormal(opts.seed ?? 1);
  const { tokens, merges, tokenTypes } = tinyVocabulary();
  const special = { bos: tokens.indexOf("<|endoftext|>"), eos: tokens.indexOf("<|im_end|>"), imStart: tokens.indexOf("<|im_start|>"), imEnd: tokens.indexOf("<|im_end|>") };

  const weights = new Map<string, Float32Array>();
  const tensors: GgufTensorInput[] = [];
  const omit = new Set(opts.omitTensors ?? []);
  // rows × cols row-major = ggml dims [cols, rows]
  const matrix = (name: string, rows: number, cols: number, std: number): void => {
    const values = randomTensor(rows * cols, std, normal);
    weights.set(name, asStored(weightType, values));
    if (!omit.has(name)) tensors.push({ name, dims: [cols, rows], type: weightType as GgmlTypeName, data: values });
  };
  const norm = (name: string, n: number): void => {
    const values = randomTensor(n, 0.1, normal, 1);
    weights.set(name, values);
    if (!omit.has(name)) tensors.push({ name, dims: [n], type: "F32", data: values });
  };
  const kvWidth = cfg.kvHeads * cfg.headDim;
  if (opts.embeddingType) {
    const bytes = randomKQuantBlocks(opts.embeddingType, cfg.vocabSize * cfg.width, normal);
    const type = ggmlTypeByName(opts.embeddingType);
    weights.set("token_embd.weight", decodeTensorData(type, bytes, cfg.vocabSize * cfg.width));
    tensors.push({ name: "token_embd.weight", dims: [cfg.width, cfg.vocabSize], type: opts.embeddingType, data: bytes });
  } else {
    matrix("token_embd.weight", cfg.vocabSize, cfg.width, 1);
  }
  for (let l = 0; l < cfg.layers; l++) {
    norm(`blk.${l}.attn_norm.weight`, cfg.width);
    matrix(`blk.${l}.attn_q.weight`, cfg.width, cfg.width, 0.15);
    matrix(`blk.${l}.attn_k.weight`, kvWidth, cfg.width, 0.15);
    matrix(`blk.${l}.attn_v.weight`, kvWidth, cfg.width, 0.15);
    matrix(`blk.${l}.attn_output.weight`, cfg.width, cfg.width, 0.15);
    norm(`blk.${l}.ffn_norm.weight`, cfg.width);
    matrix(`blk.${l}.ffn_gate.weight`, cfg.ffn, cfg.width, 0.15);
    matrix(`blk.${l}.ffn_up.weight`, cfg.ffn, cfg.width, 0.15);
    matrix(`blk.${l}.ffn_down.weight`, cfg.width, cfg.ffn, 0.1);
  }
  norm("output_norm.weight", cfg.width);
  if (!cfg.tiedEmbeddings) matrix("output.weight", cfg.vocabSize, cfg.width, 0.15);

  const fileType: Record<TinyWeightType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7 };
  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", ggufValue.str("llama")],
    ["general.name", ggufValue.str("strata-tiny-llama")],
    ["general.file_type", ggufValue.u32(fileType[weightType])],
    ["llama.context_length", ggufValue.u32(cfg.context)],
    ["llama.embedding_length", ggufValue.u32(cfg.width)],
    ["llama.block_count", ggufValue.u32(cfg.layers)],
    ["llama.feed_forward_length", ggufValue.u32(cfg.ffn)],
    ["llama.attention.head_count", ggufValue.u32(cfg.heads)],
    ["llama.attention.head_count_kv", ggufValue.u32(cfg.kvHeads)],
    ["llama.attention.layer_norm_rms_epsilon", ggufValue.f32(cfg.rmsEps)],
    ["llama.rope.freq_base", ggufValue.f32(cfg.ropeBase)],
    ["llama.rope.dimension_count", ggufValue.u32(cfg.headDim)],
    ["llama.vocab_size", ggufValue.u32(cfg.vocabSize)],
    ["tokenizer.ggml.model", ggufValue.str("gpt2")],
    ["tokenizer.ggml.pre", ggufValue.str("gpt-2")],
    ["tokenizer.ggml.tokens", ggufValue.strings(tokens)],
    ["tokenizer.ggml.token_type", ggufValue.numbers("int32", tokenTypes)],
    ["tokenizer.ggml.scores", ggufValue.numbers("float32", tokens.map((_, i) => -i))],
    ["tokenizer.ggml.merges", ggufValue.strings(merges)],
    ["tokenizer.ggml.bos_token_id", ggufValue.u32(special.bos)],
    ["tokenizer.ggml.eos_token_id", ggufValue.u32(special.eos)],
    ["tokenizer.ggml.eot_token_id", ggufValue.u32(special.imEnd)],
    ["tokenizer.ggml.padding_token_id", ggufValue.u32(special.bos)],
    ["tokenizer.ggml.add_bos_token", ggufValue.bool(false)],
  ];
  const template = opts.chatTemplate === undefined ? CHATML_TEMPLATE : opts.chatTemplate;
  if (template !== null) metadata.push(["tokenizer.chat_template", ggufValue.str(template)]);
  metadata.push(...(opts.extraMetadata ?? []));
  // Later entries win, so extraMetadata can replace a standard key.
  await writeGguf(path, { metadata: new Map(metadata), tensors });
  return { path, config: cfg, weights, tokens, merges, special };
}

/** Random K-quant blocks with sane scales (random bytes elsewhere are all valid quants). */
function randomKQuantBlocks(type: "Q4_K" | "Q6_K", count: number, normal: () => number): Uint8Array {
  const blockBytes = type === "Q4_K" ? 144 : 210;
  const out = new Uint8Array((count / 256) * blockBytes);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(Math.abs(normal()) * 1e6) & 0xff;
  const dv = new DataView(out.buffer);
  for (let o = 0; o < out.length; o += blockBytes) {
    if (type === "Q4_K") {
      dv.setUint16(o, f32ToF16(0.01 + 0.01 * Math.abs(normal())), true); // d
      dv.setUint16(o + 2, f32ToF16(0.02 * Math.abs(normal())), true); // dmin
    } else {
      dv.setUint16(o + 208, f32ToF16(0.002 + 0.002 * Math.abs(normal())), true); // d
    }
  }
  return out;
}

export interface TinyLora {
  path: string;
  rank: number;
  alpha: number;
  /** Per adapted weight: A row-major [rank][in], B row-major [out][rank]. */
  adapters: Map<string, { a: Float32Array; b: Float32Array; rows: number; cols: number }>;
}

/**
 * A LoRA adapter GGUF for a tiny llama: `<weight>.lora_a` (ggml dims [in, r]) and `<weight>.lora_b`
 * (dims [r, out]); llama.cpp adds scale·(alpha/r)·B·A to each adapted weight.
 */
export async function writeTinyLoraGguf(
  path: string,
  base: TinyLlama,
  opts: { rank?: number; alpha?: number; seed?: number; targets?: string[]; architecture?: string } = {},
): Promise<TinyLora> {
  const rank = opts.rank ?? 4;
  const alpha = opts.alpha ?? 8;
  const normal = seededNormal(opts.seed ?? 7);
  const cfg = base.config;
  const kvWidth = cfg.kvHeads * cfg.headDim;
  const shapes: Record<string, [rows: number, cols: number]> = {
    attn_q: [cfg.width, cfg.width],
    attn_k: [kvWidth, cfg.width],
    attn_v: [kvWidth, cfg.width],
    attn_output: [cfg.width, cfg.width],
    ffn_up: [cfg.ffn, cfg.width],
    ffn_gate: [cfg.ffn, cfg.width],
    ffn_down: [cfg.width, cfg.ffn],
  };
  const adapters: TinyLora["adapters"] = new Map();
  const tensors: GgufTensorInput[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    for (const target of opts.targets ?? ["attn_q", "attn_v", "ffn_up"]) {
      const [rows, cols] = shapes[target]!;
      const name = `blk.${l}.${target}.weight`;
      const a = randomTensor(rank * cols, 0.3, normal);
      const b = randomTensor(rows * rank, 0.3, normal);
      adapters.set(name, { a, b, rows, cols });
      tensors.push({ name: `${name}.lora_a`, dims: [cols, rank], type: "F32", data: a });
      tensors.push({ name: `${name}.lora_b`, dims: [rank, rows], type: "F32", data: b });
    }
  }
  await writeGguf(path, {
    metadata: [
      ["general.architecture", ggufValue.str(opts.architecture ?? "llama")],
      ["general.type", ggufValue.str("adapter")],
      ["adapter.type", ggufValue.str("lora")],
      ["adapter.lora.alpha", ggufValue.f32(alpha)],
    ],
    tensors,
  });
  return { path, rank, alpha, adapters };
}
