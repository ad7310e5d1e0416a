// Where a builtin: model comes from: a training run directory (its newest checkpoint, or the one
// `#step=` names), read through src/formats/checkpoint.ts, or a llama/qwen2-architecture GGUF file,
// imported through src/formats/gguf (float32 weights, plus the Q8_0/Q4_0 blocks of quantized
// matrices, which inference multiplies by directly). Either way the result is a Strata `Llama` with
// its tokenizer; a LoRA run's adapter rides on its base unmerged.
import { open, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { StrataError, throwIfAborted } from "../../../core/errors.js";
import type { ProgressListener } from "../../../core/events.js";
import { readCheckpoint } from "../../../formats/checkpoint.js";
import { importLlamaGguf } from "../../../formats/gguf/index.js";
import { Llama, type LlamaConfig, type StateDict, loadLora } from "../../../nn/index.js";
import { attachQuantized } from "../../../tensor/index.js";
import type { TextTokenizer } from "../../../tokenizer/index.js";
import { assertFiniteWeights } from "../../finite-check.js";

export interface BuiltinModelParts {
  model: Llama;
  tokenizer: TextTokenizer;
  /** A name for results: the run directory's name and step, or the GGUF's general.name. */
  name: string;
  /** Where it was read from: "checkpoint" (with its step) or "gguf". */
  origin: { kind: "checkpoint"; runDir: string; step: number } | { kind: "gguf"; path: string };
}

/** A Llama with the given weights (the constructor's random initialisation is overwritten). */
export function llamaFromStateDict(config: LlamaConfig, stateDict: StateDict): Llama {
  const model = new Llama(config, { seed: 0 });
  model.loadStateDict(stateDict);
  return model;
}

async function isGgufFile(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && String.fromCharCode(...head) === "GGUF";
  } finally {
    await fh.close();
  }
}

/** Reads a run directory's checkpoint or a GGUF file into a model and its tokenizer. */
export async function loadBuiltinParts(target: string, options: { step?: number; signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<BuiltinModelParts> {
  throwIfAborted(options.signal);
  const path = resolve(target);
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new StrataError("NOT_FOUND", `${path} does not exist`, `builtin: takes a training run directory (strata train pretrain --out <dir>) or a .gguf file; relative paths start at ${process.cwd()}`);
  }
  if (st.isDirectory()) {
    const ckpt = await readCheckpoint(path, options.step === undefined ? {} : { step: options.step });
    assertFiniteWeights(ckpt.stateDict, `the checkpoint ${basename(path)}@step-${ckpt.step}`);
    const model = llamaFromStateDict(ckpt.run.model, ckpt.stateDict);
    // A LoRA run: the frozen base with its adapter attached, unmerged (W x + alpha/r · B A x).
    if (ckpt.adapter) {
      assertFiniteWeights(ckpt.adapter.tensors, `the adapter of ${basename(path)}@step-${ckpt.step}`);
      loadLora(model, ckpt.adapter.tensors, Number(ckpt.adapter.metadata["lora.alpha"]));
    }
    return {
      model,
      tokenizer: ckpt.tokenizer,
      name: `${basename(path)}@step-${ckpt.step}`,
      origin: { kind: "checkpoint", runDir: path, step: ckpt.step },
    };
  }
  if (options.step !== undefined) throw new StrataError("USAGE", `step=${options.step} names a checkpoint, but ${path} is a file`, "use #step= only with a run directory");
  if (!(await isGgufFile(path))) {
    throw new StrataError("UNSUPPORTED_TYPE", `${path} is neither a run directory nor a GGUF file`, "builtin: takes a training run directory (strata train pretrain --out <dir>) or a .gguf file");
  }
  const imported = await importLlamaGguf(path, { signal: options.signal, onProgress: options.onProgress, keepQuantized: true });
  assertFiniteWeights(imported.stateDict, basename(path), "GGUF_INVALID");
  const model = llamaFromStateDict(imported.config, imported.stateDict);
  // Q8_0/Q4_0 matrices keep their blocks beside the float32 values: decoding multiplies by them.
  for (const [name, tensor] of model.namedParameters()) {
    const q = imported.quantized?.[name];
    if (q) attachQuantized(tensor, q);
  }
  return {
    model,
    tokenizer: imported.textTokenizer!,
    name: imported.name ?? basename(path),
    origin: { kind: "gguf", path },
  };
}
