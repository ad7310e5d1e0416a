// What a GGUF model file is, from its header alone (no weights read): architecture, size, context,
// tensor types, tokenizer and chat template, and whether Strata's engine can run and fine-tune it —
// with the reason when not. `strata models inspect` prints it.
import { StrataError } from "../../core/errors.js";
import type { LlamaConfig } from "../../nn/llama-config.js";
import { VocabTokenizer } from "../../tokenizer/vocab-tokenizer.js";
import { llamaConfigFromGguf, tokenizerFromGguf } from "./llama-import.js";
import { metaBool, metaNumber, metaString, metaStringArray } from "./metadata.js";
import { DECODABLE_TYPES } from "./quant.js";
import { readGgufHeader } from "./reader.js";
import { vocabSpecFromGguf } from "./vocab-import.js";

export interface Verdict {
  ok: boolean;
  /** Why not (or what to know) — one sentence. */
  reason: string;
}

export interface GgufInspection {
  path: string;
  bytes: number;
  ggufVersion: number;
  name?: string;
  architecture?: string;
  parameters: number;
  contextLength?: number;
  layers?: number;
  width?: number;
  heads?: number;
  kvHeads?: number;
  feedForward?: number;
  rope: { base?: number; scaling?: string; factor?: number; perFrequencyFactors: boolean };
  slidingWindow?: number;
  /** Tensor type → number of tensors and their bytes. */
  tensorTypes: Record<string, { tensors: number; bytes: number }>;
  tokenizer: { model?: string; pre?: string; tokens: number; bos?: string; eos?: string; addBos?: boolean; kind?: string };
  chatTemplate?: string;
  run: Verdict;
  fineTune: Verdict;
  /** The engine's config when it can run the file. */
  config?: LlamaConfig;
}

const size = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
const message = (e: unknown): string => (e instanceof StrataError ? `${e.message} (${e.hint})` : String(e));

export async function inspectGguf(path: string): Promise<GgufInspection> {
  const h = await readGgufHeader(path);
  const meta = h.metadata;
  const arch = metaString(meta, "general.architecture", path);
  const num = (k: string): number | undefined => (arch ? metaNumber(meta, `${arch}.${k}`, path) : undefined);
  const tensorTypes: GgufInspection["tensorTypes"] = {};
  let parameters = 0;
  for (const t of h.tensors) {
    const e = (tensorTypes[t.type.name] ??= { tensors: 0, bytes: 0 });
    e.tensors++;
    e.bytes += t.byteSize;
    parameters += t.elementCount;
  }
  const tokens = metaStringArray(meta, "tokenizer.ggml.tokens", path) ?? [];
  const tokenText = (key: string): string | undefined => {
    const id = metaNumber(meta, `tokenizer.ggml.${key}`, path);
    return id === undefined ? undefined : tokens[id];
  };
  const out: GgufInspection = {
    path,
    bytes: h.fileSize,
    ggufVersion: h.version,
    parameters,
    rope: { perFrequencyFactors: h.tensors.some((t) => t.name === "rope_freqs.weight") },
    tensorTypes,
    tokenizer: { tokens: tokens.length },
    run: { ok: false, reason: "" },
    fineTune: { ok: false, reason: "" },
  };
  const set = <K extends keyof GgufInspection>(k: K, v: GgufInspection[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set("name", metaString(meta, "general.name", path));
  set("architecture", arch);
  set("contextLength", num("context_length"));
  set("layers", num("block_count"));
  set("width", num("embedding_length"));
  set("heads", num("attention.head_count"));
  set("kvHeads", num("attention.head_count_kv"));
  set("feedForward", num("feed_forward_length"));
  set("slidingWindow", num("attention.sliding_window"));
  const base = num("rope.freq_base");
  if (base !== undefined) out.rope.base = base;
  const scaling = arch ? metaString(meta, `${arch}.rope.scaling.type`, path) : undefined;
  if (scaling !== undefined) out.rope.scaling = scaling;
  const factor = num("rope.scaling.factor");
  if (factor !== undefined) out.rope.factor = factor;
  const tk = out.tokenizer;
  const model = metaString(meta, "tokenizer.ggml.model", path);
  if (model !== undefined) tk.model = model;
  const pre = metaString(meta, "tokenizer.ggml.pre", path);
  if (pre !== undefined) tk.pre = pre;
  const bos = tokenText("bos_token_id");
  if (bos !== undefined) tk.bos = bos;
  const eos = tokenText("eos_token_id");
  if (eos !== undefined) tk.eos = eos;
  const addBos = metaBool(meta, "tokenizer.ggml.add_bos_token", path);
  if (addBos !== undefined) tk.addBos = addBos;
  set("chatTemplate", metaString(meta, "tokenizer.chat_template", path));

  try {
    const config = llamaConfigFromGguf(h, path, out.rope.perFrequencyFactors ? new Float32Array(h.tensors.find((t) => t.name === "rope_freqs.weight")!.elementCount).fill(1) : undefined);
    const bad = h.tensors.find((t) => !DECODABLE_TYPES.includes(t.type.name));
    if (bad) throw new StrataError("UNSUPPORTED_TYPE", `tensor "${bad.name}" is ${bad.type.name}, which Strata cannot dequantize`, `Strata reads ${DECODABLE_TYPES.join(", ")}`);
    try {
      tokenizerFromGguf(meta, path);
      tk.kind = "Strata byte-level BPE";
    } catch {
      tk.kind = new VocabTokenizer(vocabSpecFromGguf(meta, path)).kind;
    }
    if (config.ropeFreqFactors) delete config.ropeFreqFactors; // read with the weights; the header only says they exist
    out.config = config;
    out.run = { ok: true, reason: `builtin: dequantizes every weight to float32 (${size(parameters * 4)} in memory)` };
    out.fineTune = { ok: true, reason: `full fine-tuning holds weights, gradients and AdamW state in float32 (about ${size(parameters * 16)}); LoRA needs the weights plus the adapters` };
  } catch (e) {
    out.run = { ok: false, reason: message(e) };
    out.fineTune = { ok: false, reason: "the engine cannot run it, so it cannot train it either" };
  }
  return out;
}
