// A LoRA adapter as the GGUF llama.cpp loads beside its base (`--lora`, node-llama-cpp's
// `lora.adapters`): general.type = adapter, adapter.type = lora, adapter.lora.alpha, the base's
// general.architecture, and per adapted weight `<gguf weight>.lora_a` (ggml ne [in, r]) and
// `.lora_b` (ne [r, out]), F32. llama.cpp computes W·x + scale · (alpha / r) · B (A x), with r read
// from lora_a's second dim — the same update Strata trains. Strata's A [r, in] and B [out, r] are
// row-major, which is exactly those ne orders, so the data go out untransposed.
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import type { LlamaConfig } from "../../nn/llama.js";
import type { StateDict } from "../../nn/module.js";
import { llamaGgufTensorMap } from "./llama-export.js";
import { ggufValue } from "./metadata.js";
import type { GgufValue } from "./types.js";
import { type GgufTensorInput, writeGguf } from "./writer.js";

export interface LoraGgufExportInput {
  config: LlamaConfig;
  /** `<strata linear>.lora_a` [r, in] and `.lora_b` [out, r]. */
  adapter: StateDict;
  alpha: number;
  name?: string;
  extraMetadata?: Array<[string, GgufValue]>;
}

/** The adapter's GGUF tensors, in the base file's tensor order. */
export function loraGgufTensors(config: LlamaConfig, adapter: StateDict): GgufTensorInput[] {
  const out: GgufTensorInput[] = [];
  const used = new Set<string>();
  for (const t of llamaGgufTensorMap(config)) {
    const src = t.sources[0]!;
    if (t.sources.length !== 1 || !src.endsWith(".weight")) continue;
    const prefix = src.slice(0, -".weight".length);
    const a = adapter[`${prefix}.lora_a`];
    const b = adapter[`${prefix}.lora_b`];
    if (!a && !b) continue;
    if (!a || !b) throw new StrataError("STATE_DICT_MISMATCH", `the adapter has only one of ${prefix}.lora_a and .lora_b`, "export an adapter written by Strata");
    const [outF, inF] = t.shape as [number, number];
    const r = a.shape[0]!;
    if (a.shape[1] !== inF || b.shape[0] !== outF || b.shape[1] !== r) {
      throw new StrataError("STATE_DICT_MISMATCH", `adapter ${prefix}: lora_a [${a.shape.join(", ")}] and lora_b [${b.shape.join(", ")}] do not fit the base weight [${outF}, ${inF}]`, "export the adapter with the base it was trained on");
    }
    out.push({ name: `${t.gguf}.lora_a`, dims: [inF, r], type: "F32", data: a.data });
    out.push({ name: `${t.gguf}.lora_b`, dims: [r, outF], type: "F32", data: b.data });
    used.add(`${prefix}.lora_a`).add(`${prefix}.lora_b`);
  }
  const unknown = Object.keys(adapter).filter((n) => !used.has(n));
  if (unknown.length > 0) throw new StrataError("STATE_DICT_MISMATCH", `adapter tensors without a base weight: ${unknown.slice(0, 3).join(", ")}`, "export the adapter with the base it was trained on");
  if (out.length === 0) throw new StrataError("STATE_DICT_MISMATCH", "the adapter holds no tensors", "train a LoRA run first (strata train sft --method lora)");
  return out;
}

/** Writes the adapter GGUF atomically; returns its size and tensor count. */
export async function exportLoraGguf(path: string, input: LoraGgufExportInput, opts: LongOperationOptions = {}): Promise<{ path: string; bytes: number; tensors: number }> {
  throwIfAborted(opts.signal);
  if (!(input.alpha > 0)) throw new StrataError("INVALID_CONFIG", `LoRA alpha must be positive, got ${input.alpha}`, "the run's adapter metadata is damaged");
  const tensors = loraGgufTensors(input.config, input.adapter);
  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", ggufValue.str("llama")],
    ["general.type", ggufValue.str("adapter")],
    ["general.name", ggufValue.str(input.name ?? "strata-lora")],
    ["adapter.type", ggufValue.str("lora")],
    ["adapter.lora.alpha", ggufValue.f32(input.alpha)],
    ...(input.extraMetadata ?? []),
  ];
  const bytes = await writeGguf(path, { metadata, tensors }, opts);
  return { path, bytes, tensors: tensors.length };
}
