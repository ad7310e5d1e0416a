// The builtin: provider — Strata's own engine behind the LanguageModel interface. References:
//   builtin:<run dir>[#step=N&ctx=N&threads=N]   a training run's newest checkpoint (or step N)
//   builtin:<file.gguf>[#ctx=N&threads=N]        a llama-architecture GGUF, dequantized to float32
// `threads` (or ProviderOptions.threads) sets the native fast path's thread count, which is
// process-wide. The registry imports this module only when a builtin: reference is used.
import { z } from "zod";
import { StrataError } from "../../../core/errors.js";
import { setThreads } from "../../../tensor/index.js";
import { parseModelRef, type ModelRef } from "../../ref.js";
import type { EmbeddingModel, ProviderOptions } from "../../types.js";
import { BuiltinLanguageModel } from "./language-model.js";
import { loadBuiltinParts } from "./load.js";

export { BuiltinLanguageModel, DEFAULT_MAX_CONTEXT, type BuiltinModelOptions, type CompletionRequest } from "./language-model.js";
export { LlamaInference, type LossTotals } from "./engine.js";
export { loadBuiltinParts, llamaFromStateDict, type BuiltinModelParts } from "./load.js";

const wholeNumber = (min: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= 1 << 24, `must be a whole number from ${min}`);

const RefOptions = z.object({ step: wholeNumber(0).optional(), ctx: wholeNumber(1).optional(), threads: wholeNumber(1).optional() }).strict();
const EXAMPLE = "builtin:./runs/tiny#step=2000&ctx=256&threads=2";

export interface BuiltinRefSettings {
  ref: ModelRef;
  step?: number;
  contextSize?: number;
  threads?: number;
}

export function resolveBuiltinRef(refOrString: ModelRef | string, opts: ProviderOptions = {}): BuiltinRefSettings {
  const ref = typeof refOrString === "string" ? parseModelRef(refOrString) : refOrString;
  if (ref.scheme !== "builtin") throw new StrataError("USAGE", `"${ref.raw}" is not a builtin: reference`, `e.g. ${EXAMPLE}`);
  const parsed = RefOptions.safeParse(ref.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") throw new StrataError("USAGE", `unknown option "${issue.keys.join('", "')}" in "${ref.raw}"`, `builtin: references take step, ctx, threads, e.g. ${EXAMPLE}`);
    throw new StrataError("USAGE", `option "${issue.path.join(".")}" in "${ref.raw}" ${issue.message}`, `e.g. ${EXAMPLE}`);
  }
  const o = parsed.data;
  return { ref, step: o.step, contextSize: o.ctx ?? opts.contextSize, threads: o.threads ?? opts.threads };
}

/** Creates the language model a builtin: reference names (loads the weights now). */
export async function createBuiltinLanguageModel(ref: ModelRef | string, opts: ProviderOptions = {}): Promise<BuiltinLanguageModel> {
  const s = resolveBuiltinRef(ref, opts);
  if (s.threads !== undefined) setThreads(s.threads);
  const parts = await loadBuiltinParts(s.ref.target, s.step === undefined ? {} : { step: s.step });
  return new BuiltinLanguageModel(parts.model, parts.tokenizer, { id: s.ref.raw, name: parts.name, contextSize: s.contextSize, prices: opts.prices });
}

/** builtin: models have no embedding endpoint yet. */
export async function createBuiltinEmbeddingModel(ref: ModelRef | string): Promise<EmbeddingModel> {
  const raw = typeof ref === "string" ? ref : ref.raw;
  throw new StrataError("MODEL_UNAVAILABLE", `the builtin engine does not provide embeddings yet (${raw})`, "use a gguf:<file.gguf> or openai:<base URL>#<model> embedding model");
}
