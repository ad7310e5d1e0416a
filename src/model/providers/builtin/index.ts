// The builtin: provider — Strata's own engine behind the LanguageModel interface. References:
//   builtin:<run dir>[#step=N&ctx=N&threads=N&device=gpu]   a training run's newest checkpoint (or step N)
//   builtin:<file.gguf>[#ctx=N&threads=N&device=gpu]        a llama-architecture GGUF, dequantized to float32
// `threads` (or ProviderOptions.threads) sets the native fast path's thread count, which is
// process-wide. `device=gpu` (or the `gpu` argument of createBuiltinLanguageModel, which the CLI's
// --device fills) runs generation and scoring on the GPU (WebGPU; gpu-engine.ts, loaded only then).
// The registry imports this module only when a builtin: reference is used.
import { z } from "zod";
import { StrataError } from "../../../core/errors.js";
import { type DeviceName, setThreads } from "../../../tensor/index.js";
import type { GpuOptions } from "../../../nn/gpu/context.js";
import { parseModelRef, type ModelRef } from "../../ref.js";
import type { EmbeddingModel, ProviderOptions } from "../../types.js";
import { BuiltinLanguageModel, DEFAULT_MAX_CONTEXT } from "./language-model.js";
import type { InferenceEngine } from "./engine.js";
import { loadBuiltinParts } from "./load.js";

export { BuiltinLanguageModel, DEFAULT_MAX_CONTEXT, type BuiltinModelOptions, type CompletionRequest } from "./language-model.js";
export { type InferenceEngine, LlamaInference, type LossTotals } from "./engine.js";
export { loadBuiltinParts, llamaFromStateDict, type BuiltinModelParts } from "./load.js";

const wholeNumber = (min: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= 1 << 24, `must be a whole number from ${min}`);

const RefOptions = z.object({ step: wholeNumber(0).optional(), ctx: wholeNumber(1).optional(), threads: wholeNumber(1).optional(), device: z.enum(["cpu", "gpu"]).optional() }).strict();
const EXAMPLE = "builtin:./runs/tiny#step=2000&ctx=256&threads=2";

export interface BuiltinRefSettings {
  ref: ModelRef;
  step?: number;
  contextSize?: number;
  threads?: number;
  device?: DeviceName;
}

export function resolveBuiltinRef(refOrString: ModelRef | string, opts: ProviderOptions = {}): BuiltinRefSettings {
  const ref = typeof refOrString === "string" ? parseModelRef(refOrString) : refOrString;
  if (ref.scheme !== "builtin") throw new StrataError("USAGE", `"${ref.raw}" is not a builtin: reference`, `e.g. ${EXAMPLE}`);
  const parsed = RefOptions.safeParse(ref.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") throw new StrataError("USAGE", `unknown option "${issue.keys.join('", "')}" in "${ref.raw}"`, `builtin: references take step, ctx, threads, device, e.g. ${EXAMPLE}`);
    throw new StrataError("USAGE", `option "${issue.path.join(".")}" in "${ref.raw}" ${issue.message}`, `e.g. ${EXAMPLE}`);
  }
  const o = parsed.data;
  return { ref, step: o.step, contextSize: o.ctx ?? opts.contextSize, threads: o.threads ?? opts.threads, device: o.device };
}

/** Where the model runs: `device` overrides the reference's own `#device=`; `open`/`env` as in GpuOptions. */
export interface BuiltinDeviceOptions extends GpuOptions {
  device?: DeviceName;
}

/** Creates the language model a builtin: reference names (loads the weights now; on the GPU, uploads them). */
export async function createBuiltinLanguageModel(ref: ModelRef | string, opts: ProviderOptions = {}, placement: BuiltinDeviceOptions = {}): Promise<BuiltinLanguageModel> {
  const s = resolveBuiltinRef(ref, opts);
  if (s.threads !== undefined) setThreads(s.threads);
  const device = placement.device ?? s.device ?? "cpu";
  const parts = await loadBuiltinParts(s.ref.target, s.step === undefined ? {} : { step: s.step });
  const contextSize = Math.min(s.contextSize ?? Math.min(parts.model.config.maxSeq, DEFAULT_MAX_CONTEXT), parts.model.config.maxSeq);
  let engine: InferenceEngine | undefined;
  if (device === "gpu") {
    const [{ checkGpuSupport, gpuOpener }, { GpuLlamaInference }] = await Promise.all([import("../../../nn/gpu/index.js"), import("./gpu-engine.js")]);
    const c = parts.model.config;
    const extra = [c.qkvBias ? "Q/K/V biases" : "", c.ropeFreqFactors ? "per-frequency RoPE factors" : "", c.ropeScale ? "RoPE scaling" : ""].filter(Boolean);
    if (extra.length > 0) throw new StrataError("UNSUPPORTED_TYPE", `the GPU path does not implement ${extra.join(", ")} yet (this model has them)`, "run it on the CPU (--device cpu), or with llama.cpp (gguf:)");
    checkGpuSupport(c);
    const ctx = await gpuOpener(placement)();
    try {
      engine = new GpuLlamaInference(parts.model, ctx, { contextLength: contextSize, ownsContext: true });
    } catch (e) {
      ctx.close();
      throw e;
    }
  }
  return new BuiltinLanguageModel(parts.model, parts.tokenizer, { id: s.ref.raw, name: parts.name, contextSize, prices: opts.prices, engine });
}

/** builtin: models have no embedding endpoint yet. */
export async function createBuiltinEmbeddingModel(ref: ModelRef | string): Promise<EmbeddingModel> {
  const raw = typeof ref === "string" ? ref : ref.raw;
  throw new StrataError("MODEL_UNAVAILABLE", `the builtin engine does not provide embeddings yet (${raw})`, "use a gguf:<file.gguf> or openai:<base URL>#<model> embedding model");
}
