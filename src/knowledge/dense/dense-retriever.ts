// Dense retrieval: cosine top-k over the stored vectors of one embedding model, with the caller's
// rights and the filters inside the search. The store chooses the exact scan (decision 0004) or its
// approximate index (decision 0009) by collection size and filter selectivity, unless told.
import { StrataError } from "../../core/errors.js";
import type { EmbeddingModel } from "../../model/types.js";
import type { Retriever } from "../fusion.js";
import type { DenseQueryOptions } from "../store/backend.js";
import type { EmbeddingModelInfo, KnowledgeStore } from "../store/sqlite-store.js";
import type { SearchHit } from "../types.js";
import { checkEmbeddings, dimensionMismatch, normalize } from "./vectors.js";

export type DenseSearchOptions = DenseQueryOptions;

/** The model's vectors in this store, or an error that says how to make them. */
export function requireVectors(store: KnowledgeStore, modelId: string, location: string): EmbeddingModelInfo {
  const info = store.embeddingModel(modelId);
  if (!info || info.vectors === 0) {
    throw new StrataError(
      "NO_VECTORS",
      `the knowledge base at ${location} has no vectors for embedding model ${modelId}`,
      `embed its chunks first: \`strata embed --kb ${location} --model <ref>\` (or ingest with \`--embed <ref>\`)`,
    );
  }
  return info;
}

/** Embeds the query with the same model that embedded the chunks, then ranks by cosine. */
export class DenseRetriever implements Retriever {
  readonly name = "dense";

  constructor(
    private readonly store: KnowledgeStore,
    private readonly model: EmbeddingModel,
    private readonly location: string,
  ) {}

  async search(query: string, opts: DenseSearchOptions & { signal?: AbortSignal }): Promise<SearchHit[]> {
    const info = requireVectors(this.store, this.model.id, this.location);
    const raw = await this.model.embed([query], { signal: opts.signal });
    const dims = checkEmbeddings(raw, 1, this.model.id);
    if (dims !== info.dimensions) throw dimensionMismatch(this.model.id, info.dimensions, dims);
    return this.store.denseSearch(this.model.id, normalize(raw[0]!), opts);
  }
}
