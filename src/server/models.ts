// The models a server offers, by public id. Clients choose among these ids only — a request can
// never name a model reference (a URL or a file path), so it cannot make the server call anywhere
// the operator did not configure.
import { basename, extname } from "node:path";
import { StrataError } from "../core/errors.js";
import { parseModelRef } from "../model/ref.js";
import type { EmbeddingModel, LanguageModel } from "../model/types.js";

export interface ServedLanguageModel {
  id: string;
  model: LanguageModel;
}

export interface ServedEmbeddingModel {
  id: string;
  model: EmbeddingModel;
}

/** Prefix of the retrieval-augmented model ids on /v1: `strata-rag/<kb>`. */
export const RAG_PREFIX = "strata-rag/";

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * `[<id>=]<ref>` → the public id and the reference. Without an id: the model name of an
 * `openai:` reference, the file name (without extension) of a `gguf:` or `builtin:` one.
 */
export function parseServedModel(spec: string): { id: string; ref: string } {
  const alias = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})=(.+)$/s.exec(spec);
  const ref = alias ? alias[2]! : spec;
  const parsed = parseModelRef(ref);
  const id = alias ? alias[1]! : parsed.scheme === "openai" ? parsed.model! : basename(parsed.target, extname(parsed.target));
  if (!ID_PATTERN.test(id) || id.startsWith(RAG_PREFIX)) {
    throw new StrataError("USAGE", `"${id}" cannot be a served model id`, `name it: --model <id>=${ref} (letters, digits, '.', '_', ':' or '-')`);
  }
  return { id, ref };
}

export class ModelCatalog {
  constructor(
    readonly language: readonly ServedLanguageModel[],
    readonly embedding: ServedEmbeddingModel | undefined,
  ) {
    const ids = [...language.map((m) => m.id), ...(embedding ? [embedding.id] : [])];
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new StrataError("USAGE", `two served models share the id "${dup}"`, "give each --model a distinct id: --model <id>=<ref>");
  }

  /** The model a request names, or the default (the first configured); undefined when none is configured. */
  languageModel(id: string | undefined): ServedLanguageModel | undefined {
    if (id === undefined) return this.language[0];
    const m = this.language.find((x) => x.id === id);
    if (!m) {
      throw new StrataError("NOT_FOUND", `this server has no language model "${id.slice(0, 100)}"`, this.language.length > 0 ? `use one of: ${this.language.map((x) => x.id).join(", ")} (GET /v1/models)` : "the server runs without a language model; leave `model` out for an extractive answer");
    }
    return m;
  }
}
