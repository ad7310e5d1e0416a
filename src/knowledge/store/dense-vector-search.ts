// Dense search in the SQLite backend: the exact scan (decision 0004) over the vectors the caller
// may read, streamed with access and filters in the same query.
import type Database from "better-sqlite3";
import { TopK } from "../dense/top-k.js";
import { dot } from "../dense/vectors.js";
import type { SearchHit } from "../types.js";
import type { DenseQueryOptions } from "./backend.js";
import type { KnowledgeStore } from "./sqlite-store.js";

export class DenseVectorSearch {
  constructor(
    private readonly db: Database.Database,
    private readonly store: KnowledgeStore,
  ) {}

  search(modelId: string, query: Float32Array, opts: DenseQueryOptions): SearchHit[] {
    return this.exact(modelId, query, opts);
  }

  /** Every readable vector scored; one read transaction, so the scan and the fetch see one snapshot. */
  exact(modelId: string, query: Float32Array, opts: DenseQueryOptions): SearchHit[] {
    return this.db.transaction(() => {
      const top = new TopK<number>(opts.k);
      for (const v of this.store.readableVectors(modelId, opts.access, opts.filter)) {
        const score = dot(query, v.vector);
        if (top.admits(score)) top.push({ score, key: v.chunkId, item: v.rowid });
      }
      return this.store.hitsByRowid(top.sorted().map((e) => ({ rowid: e.item, score: e.score })), opts.access, opts.filter);
    })();
  }

  close(): void {}
}
