// BM25F parameters and the idf formula, shared by the store's ranking query and the answer
// sentence scorer so both weigh terms the same way.

export interface Bm25Params {
  /** Term-frequency saturation. */
  k1: number;
  /** Length normalisation of the body field (0 = none, 1 = full). */
  b: number;
  /** Length normalisation of the title field (document title and heading path). */
  bTitle: number;
  /** Field weights: how much a title/heading occurrence counts against a body occurrence. */
  weightBody: number;
  weightTitle: number;
}

// Anserini's BM25 defaults for BEIR (k1 0.9, b 0.4); title weight chosen on SciFact's train split
// (see BENCHMARKS.md).
export const DEFAULT_BM25: Bm25Params = { k1: 0.9, b: 0.4, bTitle: 0.4, weightBody: 1, weightTitle: 1 };

/** Lucene's BM25 idf: never negative, even for terms in most chunks. */
export function idf(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}
