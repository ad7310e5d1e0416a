// Loading a GGUF into llama.cpp, with llama.cpp's own log lines in the error when it refuses: its
// exceptions only say "Failed to load model".
import { StrataError } from "../../../core/errors.js";
import type { LlamaCppSettings } from "./options.js";
import { firstLine, sharedLlama, withLlamaLog, type Llama } from "./runtime.js";

export type LlamaModel = import("node-llama-cpp").LlamaModel;

export async function loadLlamaModel(settings: LlamaCppSettings): Promise<{ llama: Llama; model: LlamaModel }> {
  const llama = await sharedLlama();
  const { value: model, error, log } = await withLlamaLog(() => llama.loadModel({ modelPath: settings.modelPath, gpuLayers: 0 }));
  if (!model) throw loadError(`llama.cpp could not load ${settings.modelPath}`, error, log, "check that the file is a complete model for this llama.cpp version");
  return { llama, model };
}

/** Runs a step of loading (a context, an adapter) and turns its failure into MODEL_LOAD_FAILED with the log. */
export async function withLoadLog<T>(what: string, fn: () => Promise<T>, hint: string): Promise<T> {
  const { value, error, log } = await withLlamaLog(fn);
  if (value === undefined) throw loadError(what, error, log, hint);
  return value;
}

function loadError(what: string, error: unknown, log: string[], hint: string): StrataError {
  if (error instanceof StrataError) return error;
  return new StrataError("MODEL_LOAD_FAILED", `${what}: ${reasonFromLog(log) ?? firstLine(error)}`, hint, { cause: error });
}

/** The most specific cause in llama.cpp's log, e.g. "check_tensor_dims: tensor 'x' not found". */
export function reasonFromLog(log: string[]): string | undefined {
  const specific = log.map((l) => /error loading model(?: [a-z]+)?: (.+)$/i.exec(l)?.[1]).filter((l): l is string => !!l);
  const general = log.filter((l) => /error|failed|invalid|missing|wrong|unknown|not found|cannot/i.test(l) && !/failed to load model$/i.test(l));
  const lines = [...new Set(specific.length > 0 ? specific : general)].slice(-2);
  return lines.length > 0 ? lines.join("; ").replace(/\s+/g, " ").trim() : undefined;
}
