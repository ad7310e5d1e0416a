// A GGUF file of llama.cpp's `llama` or `qwen2` architecture into Strata: the hyper-parameters as a
// LlamaConfig (GQA, tied output, Qwen2's Q/K/V biases, linear RoPE scaling, Llama 3.1's rope_freqs),
// every weight dequantized to float32 under Strata's parameter names (the inverse of
// llama-export.ts's table), and the tokenizer: Strata's own when the vocabulary is laid out as
// Strata exports it, else the file's SentencePiece or GPT-2 BPE vocabulary (vocab-import.ts).
// `llama` files already hold Q and K in the adjacent-pair RoPE order Strata uses (llama.cpp's
// converter permutes Hugging Face weights into it); `qwen2` files rotate half-split heads, so their
// Q/K rows (and biases) are permuted into pairs here — attention scores are unchanged by it.
//
// Refused with a clear error: another architecture, a LoRA adapter, per-layer hyper-parameters,
// partial RoPE (rope.dimension_count ≠ head dim), YaRN/LongRoPE scaling, tensor types Strata cannot
// dequantize, and tensors whose shapes disagree with the header.
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import { validateConfig, type LlamaConfig } from "../../nn/llama.js";
import type { StateDict } from "../../nn/module.js";
import { BYTE_TO_CHAR } from "../../tokenizer/bytes.js";
import { GGUF_TOKEN_TYPE } from "../../tokenizer/gguf.js";
import { SPECIAL_TOKEN_KINDS, type SpecialTokens } from "../../tokenizer/special.js";
import type { TextTokenizer } from "../../tokenizer/text-tokenizer.js";
import { Tokenizer } from "../../tokenizer/tokenizer.js";
import { vocabTokenizerFromGguf } from "./vocab-import.js";
import { ggufInvalid } from "./errors.js";
import type { GgufHeader } from "./header.js";
import { llamaGgufTensorMap } from "./llama-export.js";
import { metaBool, metaNumber, metaNumberArray, metaString, metaStringArray } from "./metadata.js";
import { DECODABLE_TYPES, decodeTensorData } from "./quant.js";
import { openGguf, type GgufReader } from "./reader.js";
import type { GgmlTypeName, GgufMetadata } from "./types.js";

export interface LlamaGgufImport {
  config: LlamaConfig;
  /** Strata parameter names → float32 values, as `Llama.loadStateDict` takes them. */
  stateDict: StateDict;
  architecture: SupportedArchitecture;
  /** Strata's own tokenizer when the vocabulary is laid out as Strata exports it, else null. */
  tokenizer: Tokenizer | null;
  /** The tokenizer to run the model with: Strata's, or the file's SentencePiece/BPE vocabulary; null only with tokenizer "optional" (see `tokenizerError`). */
  textTokenizer: TextTokenizer | null;
  tokenizerError?: StrataError;
  /** general.name, when present. */
  name?: string;
  /** How each GGUF tensor was stored. */
  tensorTypes: Record<string, GgmlTypeName>;
  /** Tensors of the file that no Strata parameter reads (left out). */
  ignoredTensors: string[];
  /** With `keepQuantized`: the Q8_0/Q4_0 blocks of each such matrix, by Strata name, rows in Strata's order (see tensor/quantized.ts). */
  quantized?: Record<string, { type: "Q8_0" | "Q4_0"; bytes: Uint8Array }>;
}

export interface ImportLlamaGgufOptions extends LongOperationOptions {
  /** "required" (default): a vocabulary Strata cannot read is an error; "optional": tokenizer null. */
  tokenizer?: "required" | "optional";
  /** Also return the Q8_0/Q4_0 matrices' blocks (`quantized`), for inference straight from them. */
  keepQuantized?: boolean;
}

const ENGINE_HINT = "run this file with llama.cpp instead (a gguf: model reference)";

/** Architectures the engine runs: llama (Llama 2/3.x, TinyLlama, Mistral, SmolLM2) and qwen2 (Qwen2.5). */
export const SUPPORTED_ARCHITECTURES = ["llama", "qwen2"] as const;
export type SupportedArchitecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** llama.cpp rotates qwen2's heads in halves (NEOX); the engine rotates adjacent pairs, so import permutes Q and K. */
export function rotatesHalves(arch: SupportedArchitecture): boolean {
  return arch === "qwen2";
}

/** The architecture of a model file, or a clear error naming the supported ones. */
export function ggufArchitecture(meta: GgufMetadata, source: string): SupportedArchitecture {
  const arch = metaString(meta, "general.architecture", source);
  if (metaString(meta, "general.type", source) === "adapter") {
    throw new StrataError("USAGE", `${source} is a LoRA adapter, not a model`, "import its base model; adapters are not merged by the importer");
  }
  if (!(SUPPORTED_ARCHITECTURES as readonly (string | undefined)[]).includes(arch)) {
    throw new StrataError("UNSUPPORTED_TYPE", `${source} is ${arch ? `a "${arch}" model` : "a GGUF without general.architecture"}; Strata's engine runs the ${SUPPORTED_ARCHITECTURES.map((a) => `"${a}"`).join(" and ")} architectures`, ENGINE_HINT);
  }
  return arch as SupportedArchitecture;
}

/** The LlamaConfig a GGUF header describes; errors name the key that is wrong. */
export function llamaConfigFromGguf(header: Pick<GgufHeader, "metadata" | "tensors">, source: string, ropeFreqs?: Float32Array): LlamaConfig {
  const meta = header.metadata;
  const arch = ggufArchitecture(meta, source);
  const perLayer = ["embedding_length", "block_count", "feed_forward_length", "attention.head_count", "attention.head_count_kv"].find((k) => meta.get(`${arch}.${k}`)?.type === "array");
  if (perLayer) throw new StrataError("UNSUPPORTED_TYPE", `${source} sets ${arch}.${perLayer} per layer; Strata's engine needs one value for all layers`, ENGINE_HINT);
  const num = (key: string, fallback?: number): number => {
    const v = metaNumber(meta, `${arch}.${key}`, source) ?? fallback;
    if (v === undefined) throw ggufInvalid(source, `has no ${arch}.${key}`);
    if (!Number.isFinite(v)) throw ggufInvalid(source, `${arch}.${key} is ${v}`);
    return v;
  };
  const dim = num("embedding_length");
  const heads = num("attention.head_count");
  const kvHeads = num("attention.head_count_kv", heads);
  const headDim = heads > 0 ? dim / heads : 0;
  for (const key of ["attention.key_length", "attention.value_length", "rope.dimension_count"]) {
    const v = metaNumber(meta, `${arch}.${key}`, source);
    if (v !== undefined && v !== headDim) {
      throw new StrataError("UNSUPPORTED_TYPE", `${source} has ${arch}.${key} = ${v}, not the head dimension ${headDim} (embedding_length / head_count)`, `Strata's engine rotates and attends over whole heads; ${ENGINE_HINT}`);
    }
  }
  // llama.cpp: the scaling type defaults to linear, and rope.scaling.factor (or the older rope.scale_linear) divides positions.
  const scaling = metaString(meta, `${arch}.rope.scaling.type`, source) ?? "linear";
  const factor = metaNumber(meta, `${arch}.rope.scaling.factor`, source) ?? metaNumber(meta, `${arch}.rope.scale_linear`, source) ?? 0;
  if (scaling !== "linear" && scaling !== "none") {
    throw new StrataError("UNSUPPORTED_TYPE", `${source} uses ${scaling} RoPE scaling, which Strata's engine does not implement (it does linear scaling and Llama 3.1's rope_freqs)`, ENGINE_HINT);
  }
  const embd = header.tensors.find((t) => t.name === "token_embd.weight");
  if (!embd) throw ggufInvalid(source, `is missing tensor "token_embd.weight"`);
  if (embd.dims.length !== 2 || embd.dims[0] !== dim) throw ggufInvalid(source, `tensor "token_embd.weight" has shape [${embd.dims.join(", ")}]; it must be [${dim}, vocabulary]`);
  const experts = metaNumber(meta, `${arch}.expert_count`, source) ?? 0;
  const config: LlamaConfig = {
    vocab: embd.dims[1]!,
    dim,
    layers: num("block_count"),
    heads,
    kvHeads,
    ffnDim: num("feed_forward_length"),
    maxSeq: num("context_length"),
    ropeBase: shortestF32(num("rope.freq_base", 10000)),
    normEps: shortestF32(num("attention.layer_norm_rms_epsilon")),
    tieEmbeddings: !header.tensors.some((t) => t.name === "output.weight"),
  };
  if (arch === "qwen2" || header.tensors.some((t) => t.name === "blk.0.attn_q.bias")) config.qkvBias = true;
  if (scaling === "linear" && factor !== 0 && factor !== 1) config.ropeScale = 1 / factor;
  if (ropeFreqs) config.ropeFreqFactors = Array.from(ropeFreqs);
  if (experts > 0) config.moe = { experts, topK: num("expert_used_count") };
  try {
    validateConfig(config);
  } catch (e) {
    if (e instanceof StrataError) throw ggufInvalid(source, `describes an impossible model: ${e.message}`);
    throw e;
  }
  return config;
}

/** Q or K rows [heads·D, in] from llama.cpp's half-split rotation order to adjacent pairs (row h·D+i → h·D+2i, h·D+D/2+i → h·D+2i+1). */
export function halvesToPairs<A extends Float32Array | Uint8Array>(values: A, heads: number, D: number): A {
  const cols = values.length / (heads * D); // a row's values (or bytes)
  const out = new (values.constructor as new (n: number) => A)(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < D / 2; i++) {
      out.set(values.subarray((h * D + i) * cols, (h * D + i + 1) * cols), (h * D + 2 * i) * cols);
      out.set(values.subarray((h * D + D / 2 + i) * cols, (h * D + D / 2 + i + 1) * cols), (h * D + 2 * i + 1) * cols);
    }
  }
  return out;
}

/**
 * The shortest decimal that is the same float32 as `v`: a config's 1e-5 is stored as the float32
 * 9.99999975e-6 and comes back as 1e-5, not as that float32's exact double value.
 */
function shortestF32(v: number): number {
  const f = Math.fround(v);
  if (f !== v) return v; // not a float32 (stored as float64): keep it
  for (let p = 1; p <= 9; p++) {
    const c = Number(v.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return v;
}

/**
 * A Strata Tokenizer from a GGUF's `gpt2` vocabulary, when it is laid out as Strata's are: the 256
 * bytes first (ids = byte values), then the tokens the merges make in merge order, then the special
 * tokens (bos, eos, pad, im_start, im_end, extras; type control), then optionally unused padding.
 * Every other vocabulary is TOKENIZER_INVALID, saying what differs.
 */
export function tokenizerFromGguf(meta: GgufMetadata, source: string): Tokenizer {
  const fail = (what: string): StrataError =>
    new StrataError("TOKENIZER_INVALID", `${source}: the vocabulary cannot be read as a Strata tokenizer: ${what}`, `Strata's engine reads the byte-level BPE vocabularies it exports; ${ENGINE_HINT}`);
  const model = metaString(meta, "tokenizer.ggml.model", source);
  if (model !== "gpt2") throw fail(model ? `tokenizer.ggml.model is "${model}", not "gpt2" (byte-level BPE)` : "the file has no tokenizer.ggml.model");
  const pre = metaString(meta, "tokenizer.ggml.pre", source);
  if (pre !== "trillion" && pre !== "gpt-2") throw fail(`its pre-tokenizer "${pre ?? "default"}" splits text differently from GPT-2's (Strata's: "trillion" or "gpt-2")`);
  const tokens = metaStringArray(meta, "tokenizer.ggml.tokens", source);
  const merges = metaStringArray(meta, "tokenizer.ggml.merges", source);
  if (!tokens || !merges) throw fail("tokenizer.ggml.tokens or tokenizer.ggml.merges is missing");
  const types = metaNumberArray(meta, "tokenizer.ggml.token_type", source) ?? tokens.map(() => GGUF_TOKEN_TYPE.normal);
  if (types.length !== tokens.length) throw fail(`${types.length} token types for ${tokens.length} tokens`);
  for (let b = 0; b < 256; b++) {
    if (tokens[b] !== BYTE_TO_CHAR[b]) throw fail(`token ${b} is ${JSON.stringify(tokens[b])}, not byte ${b} (${JSON.stringify(BYTE_TO_CHAR[b])})`);
  }
  const firstSpecial = types.findIndex((t) => t === GGUF_TOKEN_TYPE.control);
  if (firstSpecial < 0) throw fail("it has no special (control) tokens");
  let end = firstSpecial;
  while (end < tokens.length && types[end] === GGUF_TOKEN_TYPE.control) end++;
  for (let i = end; i < tokens.length; i++) {
    if (types[i] !== GGUF_TOKEN_TYPE.unused) throw fail(`token ${i} (${JSON.stringify(tokens[i])}) comes after the special tokens but is not unused padding`);
  }
  const specials = tokens.slice(firstSpecial, end);
  if (specials.length < SPECIAL_TOKEN_KINDS.length) throw fail(`it has ${specials.length} special tokens; Strata's have ${SPECIAL_TOKEN_KINDS.length} (${SPECIAL_TOKEN_KINDS.join(", ")})`);
  const expectId = (key: string, index: number): void => {
    const id = metaNumber(meta, `tokenizer.ggml.${key}_token_id`, source);
    if (id !== undefined && id !== firstSpecial + index) throw fail(`tokenizer.ggml.${key}_token_id is ${id}, but Strata's layout puts it at ${firstSpecial + index}`);
  };
  expectId("bos", 0);
  expectId("eos", 1);
  expectId("padding", 2);
  expectId("eot", 4);
  const idOf = new Map<string, number>();
  for (let i = 0; i < firstSpecial; i++) idOf.set(tokens[i]!, i);
  const pairs: Array<[number, number]> = merges.map((m, r) => {
    const parts = m.split(" ");
    const a = parts.length === 2 ? idOf.get(parts[0]!) : undefined;
    const b = parts.length === 2 ? idOf.get(parts[1]!) : undefined;
    if (a === undefined || b === undefined) throw fail(`merge ${r} ${JSON.stringify(m)} does not join two tokens of the vocabulary`);
    return [a, b];
  });
  const specialTokens = Object.fromEntries(SPECIAL_TOKEN_KINDS.map((k, i) => [k, specials[i]!])) as unknown as SpecialTokens;
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer({
      merges: pairs,
      specialTokens,
      extraSpecialTokens: specials.slice(SPECIAL_TOKEN_KINDS.length),
      addBosToken: metaBool(meta, "tokenizer.ggml.add_bos_token", source) ?? false,
    });
  } catch (e) {
    if (e instanceof StrataError) throw fail(e.message);
    throw e;
  }
  if (tokenizer.normalVocabSize !== firstSpecial) throw fail(`its merges make ${tokenizer.normalVocabSize} tokens but ${firstSpecial} come before the special tokens`);
  for (let i = 0; i < tokenizer.vocabSize; i++) {
    if (tokenizer.tokenText(i) !== tokens[i]) throw fail(`token ${i} is ${JSON.stringify(tokens[i])} but the merges make ${JSON.stringify(tokenizer.tokenText(i))} there`);
  }
  return tokenizer;
}

/**
 * Reads a llama-architecture GGUF into a config, float32 weights under Strata's names, and the
 * tokenizer. Progress: `import-gguf`, one unit per tensor.
 */
export async function importLlamaGguf(path: string, opts: ImportLlamaGgufOptions = {}): Promise<LlamaGgufImport> {
  const reader = await openGguf(path, { signal: opts.signal });
  try {
    return await importFromReader(reader, opts);
  } finally {
    await reader.close();
  }
}

/** `importLlamaGguf` over an already open reader (e.g. a file held in memory). */
export async function importFromReader(reader: GgufReader, opts: ImportLlamaGgufOptions = {}): Promise<LlamaGgufImport> {
  const source = reader.source;
  const arch = ggufArchitecture(reader.metadata, source);
  const freqs = reader.tensor("rope_freqs.weight");
  const config = llamaConfigFromGguf(reader, source, freqs ? await reader.readTensor(freqs, { signal: opts.signal }) : undefined);
  let tokenizer: Tokenizer | null = null;
  let textTokenizer: TextTokenizer | null = null;
  let tokenizerError: StrataError | undefined;
  try {
    try {
      tokenizer = tokenizerFromGguf(reader.metadata, source);
      textTokenizer = tokenizer;
    } catch (e) {
      if (!(e instanceof StrataError)) throw e;
      textTokenizer = vocabTokenizerFromGguf(reader.metadata, source);
    }
    if (textTokenizer!.vocabSize > config.vocab) throw new StrataError("TOKENIZER_INVALID", `${source}: the vocabulary has ${textTokenizer!.vocabSize} tokens but token_embd.weight only ${config.vocab} rows`, "the file is damaged: export it again");
  } catch (e) {
    if (!(e instanceof StrataError) || (opts.tokenizer ?? "required") === "required") throw e;
    tokenizer = null;
    textTokenizer = null;
    tokenizerError = e;
  }
  const D = config.dim / config.heads;
  const plan = llamaGgufTensorMap(config);
  const wanted = new Set(plan.map((t) => t.gguf));
  const stateDict: StateDict = {};
  const tensorTypes: Record<string, GgmlTypeName> = {};
  let quantized: LlamaGgufImport["quantized"];
  for (let i = 0; i < plan.length; i++) {
    throwIfAborted(opts.signal);
    const t = plan[i]!;
    const info = reader.tensor(t.gguf);
    if (!info) throw ggufInvalid(source, `is missing tensor "${t.gguf}"`);
    const dims = t.shape.length === 1 ? [t.shape[0]!] : [t.shape[1]!, t.shape[0]!];
    if (t.sources.length > 1) dims.push(t.sources.length);
    if (info.dims.length !== dims.length || info.dims.some((d, k) => d !== dims[k])) {
      throw ggufInvalid(source, `tensor "${t.gguf}" has shape [${info.dims.join(", ")}]; this model's header says it must be [${dims.join(", ")}]`);
    }
    if (!DECODABLE_TYPES.includes(info.type.name)) {
      throw new StrataError("UNSUPPORTED_TYPE", `${source}: tensor "${t.gguf}" is ${info.type.name}, which Strata cannot dequantize`, `Strata reads ${DECODABLE_TYPES.join(", ")}; requantize the model with llama.cpp's llama-quantize (e.g. to Q8_0 or Q4_K_M)`);
    }
    tensorTypes[t.gguf] = info.type.name;
    const permute = rotatesHalves(arch) && /\.attn_[qk]\.(weight|bias)$/.test(t.gguf);
    const heads = t.gguf.includes(".attn_q.") ? config.heads : config.kvHeads;
    let values: Float32Array;
    if (opts.keepQuantized && (info.type.name === "Q8_0" || info.type.name === "Q4_0") && t.shape.length === 2 && t.sources.length === 1) {
      let bytes = await reader.readTensorBytes(info, { signal: opts.signal });
      values = decodeTensorData(info.type, bytes, info.elementCount);
      if (permute) bytes = halvesToPairs(bytes, heads, D);
      (quantized ??= {})[t.sources[0]!] = { type: info.type.name, bytes };
    } else values = await reader.readTensor(info, { signal: opts.signal });
    if (permute) values = halvesToPairs(values, heads, D);
    const per = values.length / t.sources.length;
    t.sources.forEach((name, k) => {
      stateDict[name] = { shape: [...t.shape], data: t.sources.length === 1 ? values : values.slice(k * per, (k + 1) * per) };
    });
    opts.onProgress?.({ phase: "import-gguf", done: i + 1, total: plan.length, item: t.gguf });
  }
  const ignoredTensors = reader.tensors.map((t) => t.name).filter((n) => !wanted.has(n) && n !== "rope_freqs.weight");
  const out: LlamaGgufImport = { config, architecture: arch, stateDict, tokenizer, textTokenizer, name: metaString(reader.metadata, "general.name", source), tensorTypes, ignoredTensors };
  if (tokenizerError) out.tokenizerError = tokenizerError;
  if (quantized) out.quantized = quantized;
  return out;
}
