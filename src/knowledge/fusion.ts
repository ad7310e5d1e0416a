// Reciprocal-rank fusion: the slot where the lexical list meets other retrievers (dense, later).
// RRF needs no score calibration between retrievers, which is why hybrid search uses it.
import type { Access } from "./store/access.js";
import type { SearchFilter, SearchHit } from "./types.js";

/** A ranked-list source. It must apply access and filters itself, inside its own query. */
export interface Retriever {
  readonly name: string;
  search(query: string, opts: { k: number; access: Access; filter?: SearchFilter }): SearchHit[] | Promise<SearchHit[]>;
}

/** Fuses ranked lists by Σ 1/(k + rank); hits are identified by chunk id. k = 60 as in Cormack et al. */
export function reciprocalRankFusion(lists: SearchHit[][], opts: { k?: number; limit?: number } = {}): SearchHit[] {
  const k = opts.k ?? 60;
  const fused = new Map<string, { hit: SearchHit; score: number }>();
  for (const list of lists) {
    list.forEach((hit, i) => {
      const entry = fused.get(hit.chunkId) ?? { hit, score: 0 };
      entry.score += 1 / (k + i + 1);
      fused.set(hit.chunkId, entry);
    });
  }
  const ranked = [...fused.values()].sort((a, b) => b.score - a.score || a.hit.chunkId.localeCompare(b.hit.chunkId));
  return ranked.slice(0, opts.limit ?? ranked.length).map((e, i) => ({ ...e.hit, rank: i + 1, score: e.score }));
}
