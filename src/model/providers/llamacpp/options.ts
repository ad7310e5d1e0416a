// What a gguf: reference may say after '#' (ctx, threads, lora, loraScale), checked with Zod, and
// merged with the provider options into the settings a model is loaded with.
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { StrataError } from "../../../core/errors.js";
import type { GgufHeader } from "../../../formats/gguf/index.js";
import { parseModelRef, type ModelRef } from "../../ref.js";
import type { ProviderOptions } from "../../types.js";

export interface LlamaCppSettings {
  ref: ModelRef;
  /** Absolute path of the model file. */
  modelPath: string;
  /** Context size asked for; undefined = the model's own, capped at DEFAULT_MAX_CONTEXT. */
  contextSize?: number;
  threads: number;
  lora?: { path: string; scale: number };
}

/** A model's trained context is used up to this size unless asked for more (memory grows with it). */
export const DEFAULT_MAX_CONTEXT = 4096;

/** The context size used: asked for, else the model's trained context capped at DEFAULT_MAX_CONTEXT. */
export function contextSizeFor(settings: LlamaCppSettings, trainedContext: number | undefined): number {
  return settings.contextSize ?? Math.min(trainedContext ?? DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT);
}

const positiveInt = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .refine((n) => n >= 1 && n <= 1 << 24, "must be between 1 and 16777216");

const RefOptions = z
  .object({
    ctx: positiveInt.optional(),
    threads: positiveInt.optional(),
    lora: z.string().min(1).optional(),
    loraScale: z
      .string()
      .transform(Number)
      .refine((n) => Number.isFinite(n), "must be a number")
      .optional(),
  })
  .strict();

const KNOWN = "ctx, threads, lora, loraScale";
const EXAMPLE = "gguf:./model.gguf#ctx=4096&threads=2&lora=./adapter.gguf&loraScale=0.5";

/**
 * Threads for llama.cpp when nobody says: all cores but one, at most 4. node-llama-cpp's own default
 * (4) oversubscribes small machines badly — 15 to 400× slower on 2 cores.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * KV cache type for a file: F32 when every weight is F32, so an f32 export computes attention in the
 * precision Strata's engine uses (llama.cpp's default F16 cache made greedy text part after ~76
 * characters); quantized and F16 files keep llama.cpp's F16 cache.
 */
export function kvCacheTypeFor(header: GgufHeader): "F32" | undefined {
  return header.tensors.length > 0 && header.tensors.every((t) => t.type.name === "F32") ? "F32" : undefined;
}

/** The context options every llama.cpp context of a model shares: threads, and the KV cache type. */
export function contextOptions(settings: LlamaCppSettings, header: GgufHeader): { threads: number; experimentalKvCacheKeyType?: "F32"; experimentalKvCacheValueType?: "F32" } {
  const kv = kvCacheTypeFor(header);
  return { threads: settings.threads, ...(kv ? { experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv } : {}) };
}

export function resolveSettings(refOrString: ModelRef | string, opts: ProviderOptions): LlamaCppSettings {
  const ref = typeof refOrString === "string" ? parseModelRef(refOrString) : refOrString;
  if (ref.scheme !== "gguf") throw new StrataError("USAGE", `"${ref.raw}" is not a gguf: reference`, `the llama.cpp provider takes references like ${EXAMPLE}`);
  const parsed = RefOptions.safeParse(ref.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      throw new StrataError("USAGE", `unknown option "${issue.keys.join('", "')}" in "${ref.raw}"`, `gguf: references take ${KNOWN}, e.g. ${EXAMPLE}`);
    }
    throw new StrataError("USAGE", `option "${issue.path.join(".")}" in "${ref.raw}" ${issue.message}`, `e.g. ${EXAMPLE}`);
  }
  const o = parsed.data;
  if (o.loraScale !== undefined && o.lora === undefined) throw new StrataError("USAGE", `"${ref.raw}" sets loraScale without lora`, `name the adapter too, e.g. ${EXAMPLE}`);
  const threads = o.threads ?? opts.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new StrataError("USAGE", `threads must be a positive whole number, not ${threads}`, "e.g. threads: 2");
  const contextSize = o.ctx ?? opts.contextSize;
  if (contextSize !== undefined && (!Number.isInteger(contextSize) || contextSize < 1)) throw new StrataError("USAGE", `contextSize must be a positive whole number, not ${contextSize}`, "e.g. contextSize: 4096");
  return {
    ref,
    modelPath: resolve(ref.target),
    contextSize,
    threads,
    lora: o.lora === undefined ? undefined : { path: resolve(o.lora), scale: o.loraScale ?? 1 },
  };
}
