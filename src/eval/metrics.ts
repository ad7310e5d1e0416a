// Ranking metrics, defined once for everything in Strata that scores a ranked list (DESIGN.md: "one
// concept, one place"). The definitions follow trec_eval as BEIR calls it through pytrec_eval:
//
//   ranked   the system's document ids, best first
//   qrels    document id -> graded relevance; only grades > 0 count as relevant, grades <= 0 (and
//            documents not in qrels) have gain 0
//   k        the cut-off: only the first k distinct ids of the ranking are looked at
//
// Duplicate ids in a ranking are counted once: the ranking is reduced to the first occurrence of each
// id before the cut-off, so ["a", "a", "b"] at k = 2 is scored as ["a", "b"]. (trec_eval refuses
// duplicates and pytrec_eval's dict-shaped runs cannot hold them; dropping repeats is the reading that
// neither rewards nor double-counts them.)
//
// All functions are pure: no I/O, and the inputs are never modified.

import { StrataError } from "../core/errors.js";

/** Relevance judgements of one query: document id -> grade (BEIR: 0, 1, 2, ...). */
export type Qrels = ReadonlyMap<string, number>;

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new StrataError("USAGE", `the metric cut-off k must be a whole number >= 1, got ${String(k)}`, "pass k such as 10 or 100");
  }
}

/** The first k distinct ids of a ranking, in order (duplicates after the first occurrence dropped). */
export function topKDistinct(ranked: readonly string[], k: number): string[] {
  checkK(k);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of ranked) {
    if (out.length >= k) break;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out;
}

/** Number of documents with grade > 0. */
function relevantCount(qrels: Qrels): number {
  let n = 0;
  for (const g of qrels.values()) if (g > 0) n++;
  return n;
}

function gain(qrels: Qrels, id: string): number {
  const g = qrels.get(id);
  return g !== undefined && g > 0 ? g : 0;
}

/**
 * Normalised discounted cumulative gain at k, with linear gain (trec_eval `ndcg_cut`, BEIR's nDCG@k):
 *   DCG@k  = sum over ranks i = 1..k of rel_i / log2(i + 1)
 *   IDCG@k = the same sum over the qrels' positive grades sorted from highest to lowest
 *   nDCG@k = DCG@k / IDCG@k, and 0 when the query has no document with grade > 0.
 */
export function ndcgAtK(ranked: readonly string[], qrels: Qrels, k: number): number {
  const top = topKDistinct(ranked, k);
  const grades = [...qrels.values()].filter((g) => g > 0).sort((a, b) => b - a);
  if (grades.length === 0) return 0;
  let idcg = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) idcg += (grades[i] as number) / Math.log2(i + 2);
  let dcg = 0;
  for (let i = 0; i < top.length; i++) dcg += gain(qrels, top[i] as string) / Math.log2(i + 2);
  return dcg / idcg;
}

/** Recall at k: relevant documents (grade > 0) among the first k, over all relevant documents; 0 when there are none. */
export function recallAtK(ranked: readonly string[], qrels: Qrels, k: number): number {
  const total = relevantCount(qrels);
  if (total === 0) {
    checkK(k);
    return 0;
  }
  let hits = 0;
  for (const id of topKDistinct(ranked, k)) if (gain(qrels, id) > 0) hits++;
  return hits / total;
}

/**
 * Precision at k: relevant documents among the first k, over k (trec_eval `P_k`: the denominator is k
 * even when the ranking is shorter than k).
 */
export function precisionAtK(ranked: readonly string[], qrels: Qrels, k: number): number {
  let hits = 0;
  for (const id of topKDistinct(ranked, k)) if (gain(qrels, id) > 0) hits++;
  return hits / k;
}

/** Reciprocal rank of the first relevant document (grade > 0) within the first k; 0 when none is there. */
export function mrrAtK(ranked: readonly string[], qrels: Qrels, k: number): number {
  const top = topKDistinct(ranked, k);
  for (let i = 0; i < top.length; i++) if (gain(qrels, top[i] as string) > 0) return 1 / (i + 1);
  return 0;
}

/** 1-based rank of the first relevant document in the whole (de-duplicated) ranking, or null when there is none. */
export function firstRelevantRank(ranked: readonly string[], qrels: Qrels): number | null {
  const seen = new Set<string>();
  let rank = 0;
  for (const id of ranked) {
    if (seen.has(id)) continue;
    seen.add(id);
    rank++;
    if (gain(qrels, id) > 0) return rank;
  }
  return null;
}

/** Arithmetic mean; NaN for an empty list (there is no mean of nothing). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * The p-th percentile (p in 0..100) by linear interpolation between closest ranks — numpy's default
 * (`method="linear"`): with the values sorted ascending as v[0..n-1], h = (n - 1) * p / 100 and the
 * result is v[floor(h)] + (h - floor(h)) * (v[floor(h) + 1] - v[floor(h)]). So percentile(xs, 50) is
 * the usual median, percentile(xs, 0) the minimum and percentile(xs, 100) the maximum. NaN for an empty list.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) {
    throw new StrataError("USAGE", `percentile must be between 0 and 100, got ${String(p)}`, "pass p such as 50 or 95");
  }
  if (xs.length === 0) return Number.NaN;
  const v = [...xs].sort((a, b) => a - b);
  const h = ((v.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, v.length - 1);
  const a = v[lo] as number;
  const b = v[hi] as number;
  return a + (h - lo) * (b - a);
}
