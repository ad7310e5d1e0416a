// From a model reference to a model: parse it, then hand it to the provider registered for its
// scheme. Providers are data (scheme → factories), so a new one is one line in PROVIDERS.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { StrataError } from "../core/errors.js";
import { createOpenAiEmbeddingModel, createOpenAiLanguageModel } from "./providers/openai/index.js";
import { parseModelRef, type ModelRef, type ModelScheme } from "./ref.js";
import type { EmbeddingModel, LanguageModel, ProviderOptions } from "./types.js";

export interface ProviderFactories {
  language(ref: string, opts: ProviderOptions): Promise<LanguageModel>;
  embedding(ref: string, opts: ProviderOptions): Promise<EmbeddingModel>;
}

type Factory<T> = (ref: string, opts: ProviderOptions) => Promise<T>;

// Kept as a variable so TypeScript does not resolve it: the llama.cpp provider loads
// node-llama-cpp, which only gguf: users should pay for, and it may be absent from a build.
const LLAMACPP_MODULE = "./providers/llamacpp/index.js";

/**
 * Imports `specifier` and returns its export `name` as a factory; a module that cannot be loaded
 * or lacks the export is a MODEL_UNAVAILABLE error naming the provider.
 */
export async function importFactory<T>(specifier: string, name: string, provider: string): Promise<Factory<T>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    throw new StrataError("MODEL_UNAVAILABLE", `the ${provider} provider could not be loaded: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`, "reinstall Strata's dependencies (npm install); gguf: models need node-llama-cpp", { cause: e });
  }
  const factory = mod[name];
  if (typeof factory !== "function") throw new StrataError("MODEL_UNAVAILABLE", `the ${provider} provider has no ${name}()`, "this build of Strata is incomplete; reinstall it");
  return factory as Factory<T>;
}

function requireFile(ref: ModelRef): void {
  const path = resolve(ref.target);
  if (!existsSync(path)) {
    throw new StrataError("NOT_FOUND", `model file ${path} does not exist (from "${ref.raw}")`, `check the path after gguf: (relative paths start at ${process.cwd()})`);
  }
}

const PROVIDERS = new Map<ModelScheme, ProviderFactories>([
  ["openai", { language: createOpenAiLanguageModel, embedding: createOpenAiEmbeddingModel }],
  [
    "gguf",
    {
      language: async (ref, opts) => (await importFactory<LanguageModel>(LLAMACPP_MODULE, "createLlamaCppLanguageModel", "llama.cpp"))(ref, opts),
      embedding: async (ref, opts) => (await importFactory<EmbeddingModel>(LLAMACPP_MODULE, "createLlamaCppEmbeddingModel", "llama.cpp"))(ref, opts),
    },
  ],
  ["builtin", { language: async (ref, opts) => (await importFactory<LanguageModel>("./providers/builtin/index.js", "createBuiltinLanguageModel", "builtin engine"))(ref, opts), embedding: async (ref, opts) => (await importFactory<EmbeddingModel>("./providers/builtin/index.js", "createBuiltinEmbeddingModel", "builtin engine"))(ref, opts) }],
]);

// Checks that need no provider code, so a wrong path fails fast and the same way everywhere.
const PRECHECKS: Partial<Record<ModelScheme, (ref: ModelRef) => void>> = { gguf: requireFile };

function providerFor(raw: string): ProviderFactories {
  const ref = parseModelRef(raw);
  PRECHECKS[ref.scheme]?.(ref);
  const factories = PROVIDERS.get(ref.scheme);
  if (!factories) throw new StrataError("USAGE", `no provider for "${ref.scheme}:" model references`, `use one of ${[...PROVIDERS.keys()].map((s) => s + ":").join(", ")}`);
  return factories;
}

/** The language model a reference names, e.g. "openai:http://127.0.0.1:11434/v1#llama3" or "gguf:./m.gguf". */
export async function createLanguageModel(ref: string, opts: ProviderOptions = {}): Promise<LanguageModel> {
  return providerFor(ref).language(ref, opts);
}

/** The embedding model a reference names. */
export async function createEmbeddingModel(ref: string, opts: ProviderOptions = {}): Promise<EmbeddingModel> {
  return providerFor(ref).embedding(ref, opts);
}
