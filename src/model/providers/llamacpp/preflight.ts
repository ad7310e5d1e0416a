// Checks a model (and LoRA adapter) file with Strata's own GGUF reader before llama.cpp sees it.
// llama.cpp only says "Failed to load model" — or, for some bad headers (e.g. zero layers), aborts the
// whole process on an assertion — so everything that can be checked from the header is checked here,
// and the error names exactly what is wrong.
import { StrataError } from "../../../core/errors.js";
import { canScanFinite, firstNonFiniteStored, metaNumber, metaString, metaStringArray, openGguf, type GgufHeader, type GgufMetadata } from "../../../formats/gguf/index.js";
import { nodeLlamaCpp } from "./runtime.js";

export interface ModelFacts {
  architecture: string;
  name?: string;
  /** `<arch>.context_length`: the context the model was trained with. */
  trainedContext?: number;
  /** `<arch>.embedding_length`: the width of hidden states (and of embeddings). */
  embeddingLength?: number;
  vocabSize?: number;
  hasChatTemplate: boolean;
  header: GgufHeader;
}

/** llama.cpp's LLAMA_MAX_LAYERS: more (or zero) layers trip an assertion that kills the process. */
const MAX_LAYERS = 512;

export async function checkModelFile(path: string): Promise<ModelFacts> {
  const header = await readHeader(path, "model file");
  const meta = header.metadata;
  const arch = metaString(meta, "general.architecture", path);
  if (!arch) throw invalid(path, "has no general.architecture key, so llama.cpp cannot tell what model it is");
  if (metaString(meta, "general.type", path) === "adapter") {
    throw new StrataError("USAGE", `${path} is a LoRA adapter, not a model`, "load its base model and add the adapter: gguf:./base.gguf#lora=./adapter.gguf");
  }
  // A const enum in the typings, a plain object at run time: the architectures this llama.cpp knows.
  const { GgufArchitectureType } = (await nodeLlamaCpp()) as unknown as { GgufArchitectureType: Record<string, string> };
  const known = Object.values(GgufArchitectureType);
  if (!known.includes(arch)) {
    throw new StrataError("UNSUPPORTED_TYPE", `${path} is a "${arch}" model, an architecture llama.cpp does not support`, `llama.cpp here supports ${known.length} architectures, e.g. ${known.slice(0, 8).join(", ")}`);
  }
  const layers = metaNumber(meta, `${arch}.block_count`, path);
  if (layers === undefined) throw invalid(path, `has no ${arch}.block_count (number of layers)`);
  if (!Number.isInteger(layers) || layers < 1 || layers > MAX_LAYERS) throw invalid(path, `says it has ${layers} layers (${arch}.block_count); llama.cpp needs 1 to ${MAX_LAYERS}`);
  const tokens = metaStringArray(meta, "tokenizer.ggml.tokens", path);
  checkTokenizer(path, meta, tokens);
  if (arch === "llama") checkLlamaShapes(path, header, layers, tokens?.length);
  await checkFiniteWeights(path, "model file");
  return {
    architecture: arch,
    name: metaString(meta, "general.name", path),
    trainedContext: positiveOrUndefined(metaNumber(meta, `${arch}.context_length`, path)),
    embeddingLength: positiveOrUndefined(metaNumber(meta, `${arch}.embedding_length`, path)),
    vocabSize: tokens?.length,
    hasChatTemplate: metaString(meta, "tokenizer.chat_template", path) !== undefined,
    header,
  };
}

/** A LoRA adapter must be a GGUF adapter for the same architecture whose tensors fit the base model's. */
export async function checkLoraFile(path: string, base: ModelFacts): Promise<void> {
  const header = await readHeader(path, "LoRA adapter");
  const meta = header.metadata;
  const type = metaString(meta, "general.type", path);
  const adapterType = metaString(meta, "adapter.type", path);
  if (type !== "adapter" || adapterType !== "lora") {
    throw new StrataError("USAGE", `${path} is not a LoRA adapter (general.type is ${type ?? "missing"}, adapter.type is ${adapterType ?? "missing"})`, "pass a LoRA adapter GGUF (llama.cpp's convert_lora_to_gguf.py writes them)");
  }
  const arch = metaString(meta, "general.architecture", path);
  if (arch !== base.architecture) {
    throw new StrataError("USAGE", `${path} adapts a "${arch ?? "unknown"}" model but the base model is "${base.architecture}"`, "use an adapter trained for this base model");
  }
  const baseTensors = new Map(base.header.tensors.map((t) => [t.name, t]));
  const pairs = new Map<string, { a?: number[]; b?: number[] }>();
  for (const t of header.tensors) {
    const m = /^(.*)\.lora_([ab])$/.exec(t.name);
    if (!m) continue;
    const entry = pairs.get(m[1]!) ?? {};
    entry[m[2] as "a" | "b"] = t.dims;
    pairs.set(m[1]!, entry);
  }
  if (pairs.size === 0) throw invalid(path, "holds no .lora_a/.lora_b tensors");
  await checkFiniteWeights(path, "LoRA adapter");
  for (const [name, { a, b }] of pairs) {
    const w = baseTensors.get(name);
    if (!w) throw new StrataError("USAGE", `${path} adapts tensor "${name}", which the base model does not have`, "use an adapter trained for this base model");
    if (!a || !b) throw invalid(path, `has only one of ${name}.lora_a and ${name}.lora_b`);
    // A: [in, r], B: [r, out] against the base weight [in, out].
    if (a[0] !== w.dims[0] || b[1] !== w.dims[1] || a[1] !== b[0]) {
      throw new StrataError("USAGE", `${path}: ${name}.lora_a [${a.join(", ")}] and .lora_b [${b.join(", ")}] do not fit the base weight [${w.dims.join(", ")}]`, "use an adapter trained for this base model");
    }
  }
}

/**
 * llama.cpp computes with NaN or infinite weights and prints garbage: such a file is refused, naming
 * the tensor. Read from the stored bytes (float values, or the scales of quantized blocks).
 */
async function checkFiniteWeights(path: string, what: string): Promise<void> {
  const reader = await openGguf(path);
  try {
    for (const t of reader.tensors) {
      if (!canScanFinite(t.type.name)) continue;
      const at = firstNonFiniteStored(t, await reader.readTensorBytes(t));
      if (at < 0) continue;
      throw new StrataError(
        "GGUF_INVALID",
        `weight tensor ${t.name} of ${what} ${path} holds NaN or infinity (at element ${at} of ${t.elementCount})`,
        "the weights are corrupt or training diverged: re-export or re-download the file, or export an earlier checkpoint",
      );
    }
  } finally {
    await reader.close();
  }
}

async function readHeader(path: string, what: string): Promise<GgufHeader> {
  let reader;
  try {
    reader = await openGguf(path);
  } catch (e) {
    if (e instanceof StrataError && e.code === "NOT_FOUND") throw new StrataError("NOT_FOUND", `${what} ${path} does not exist`, "check the path (relative paths start at " + process.cwd() + ")");
    throw e;
  }
  await reader.close();
  return reader;
}

function checkTokenizer(path: string, meta: GgufMetadata, tokens: string[] | undefined): void {
  if (!tokens) return; // llama.cpp then runs without a vocabulary (embedding-only models)
  if (tokens.length === 0) throw invalid(path, "has an empty tokenizer.ggml.tokens list");
  for (const key of ["tokenizer.ggml.token_type", "tokenizer.ggml.scores"]) {
    const v = meta.get(key);
    if (v && (v.type !== "array" || v.value.length !== tokens.length)) {
      throw invalid(path, `${key} has ${v.type === "array" ? v.value.length : "no"} entries for ${tokens.length} tokens`);
    }
  }
  for (const key of ["bos", "eos", "eot", "unknown", "padding", "seperator", "separator"]) {
    const id = metaNumber(meta, `tokenizer.ggml.${key}_token_id`, path);
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= tokens.length)) {
      throw invalid(path, `tokenizer.ggml.${key}_token_id is ${id}, outside the vocabulary of ${tokens.length} tokens`);
    }
  }
}

/** Shapes llama.cpp expects for arch "llama" (ggml order: [in, out]). */
function checkLlamaShapes(path: string, header: GgufHeader, layers: number, vocab: number | undefined): void {
  const meta = header.metadata;
  // Per-layer arrays (variable heads or FFN widths) are valid GGUF; those files are left to llama.cpp.
  const keys = ["embedding_length", "attention.head_count", "attention.head_count_kv", "feed_forward_length", "context_length"];
  if (keys.some((k) => meta.get(`llama.${k}`)?.type === "array")) return;
  const num = (key: string, fallback?: number): number => {
    const v = metaNumber(meta, `llama.${key}`, path) ?? fallback;
    if (v === undefined || !Number.isInteger(v) || v < 1) throw invalid(path, `llama.${key} is ${v ?? "missing"}; it must be a positive whole number`);
    return v;
  };
  const width = num("embedding_length");
  const heads = num("attention.head_count");
  const kvHeads = num("attention.head_count_kv", heads);
  const ffn = num("feed_forward_length");
  num("context_length");
  if (heads % kvHeads !== 0) throw invalid(path, `${heads} attention heads cannot be grouped over ${kvHeads} KV heads`);
  if (!meta.has("llama.attention.key_length") && width % heads !== 0) throw invalid(path, `embedding_length ${width} is not divisible by ${heads} attention heads`);
  const headDimK = num("attention.key_length", width / heads);
  const headDimV = num("attention.value_length", width / heads);
  const tensors = new Map(header.tensors.map((t) => [t.name, t.dims]));
  const expect = (name: string, dims: number[], optional = false): void => {
    const got = tensors.get(name);
    if (!got) {
      if (optional) return;
      throw invalid(path, `is missing tensor "${name}"`);
    }
    if (got.length !== dims.length || got.some((d, i) => d !== dims[i])) {
      throw invalid(path, `tensor "${name}" has shape [${got.join(", ")}]; a llama model of this size needs [${dims.join(", ")}]`);
    }
  };
  const nVocab = vocab ?? tensors.get("token_embd.weight")?.[1] ?? 0;
  expect("token_embd.weight", [width, nVocab]);
  expect("output_norm.weight", [width]);
  expect("output.weight", [width, nVocab], true);
  for (let l = 0; l < layers; l++) {
    expect(`blk.${l}.attn_norm.weight`, [width]);
    expect(`blk.${l}.attn_q.weight`, [width, heads * headDimK]);
    expect(`blk.${l}.attn_k.weight`, [width, kvHeads * headDimK]);
    expect(`blk.${l}.attn_v.weight`, [width, kvHeads * headDimV]);
    expect(`blk.${l}.attn_output.weight`, [heads * headDimV, width]);
    expect(`blk.${l}.ffn_norm.weight`, [width]);
    // Mixture-of-experts llama files keep their FFN in *_exps tensors instead.
    if (!tensors.has(`blk.${l}.ffn_gate_exps.weight`)) {
      expect(`blk.${l}.ffn_gate.weight`, [width, ffn]);
      expect(`blk.${l}.ffn_up.weight`, [width, ffn]);
      expect(`blk.${l}.ffn_down.weight`, [ffn, width]);
    }
  }
}

function positiveOrUndefined(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

function invalid(path: string, message: string): StrataError {
  return new StrataError("GGUF_INVALID", `${path} ${message}`, "the model file is damaged or was converted wrongly: convert or download it again");
}
