// The retrieval-evaluation runner: asks a search function for a ranking per query of a BEIR dataset,
// times each call, and scores the rankings with the metrics of ./metrics.ts (nDCG@10, Recall@100,
// MRR@10 — the figures BEIR reports). The search function is whatever is being evaluated: a
// knowledge base's lexical, dense or fused search, or a baseline.

import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { ProgressListener } from "../core/events.js";
import type { BeirDataset } from "./beir.js";
import { firstRelevantRank, mean, mrrAtK, ndcgAtK, percentile, recallAtK, topKDistinct } from "./metrics.js";

/** Returns document ids, best first; at least 100 when the corpus has them (Recall@100 looks that deep). */
export type SearchFn = (query: string) => Promise<string[]> | string[];

export interface RetrievalEvalOptions {
  /** Checked before each query and after each search; a fired signal ends the run with StrataError ABORTED. */
  signal?: AbortSignal;
  /** Called after each query with { phase: "eval", done, total, item: query id }. */
  onProgress?: ProgressListener;
}

export interface RetrievalQueryResult {
  id: string;
  query: string;
  ndcg_at_10: number;
  recall_at_100: number;
  mrr_at_10: number;
  /** Wall time of the search call, in milliseconds. */
  ms: number;
  /** 1-based rank of the first relevant document in the whole ranking; null when none was returned. */
  firstRelevantRank: number | null;
  /** Ids with grade > 0, highest grade first. */
  relevant: string[];
  /** The first 10 distinct ids returned. */
  top: string[];
}

export interface RetrievalEvalResult {
  dataset: string;
  split: string;
  queries: number;
  ndcg_at_10: number;
  recall_at_100: number;
  mrr_at_10: number;
  ms_per_query: number;
  p50_ms: number;
  p95_ms: number;
  perQuery: RetrievalQueryResult[];
}

/** Rounds to a number of decimals, for reported figures (means: 4, milliseconds: 2). */
export function roundTo(x: number, decimals: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/**
 * Runs every query of the dataset that has relevance judgements through `search` (one at a time, in
 * the dataset's order) and scores the rankings. Means are computed from unrounded per-query values,
 * then rounded to 4 decimals (milliseconds to 2); per-query values are rounded the same way.
 * Percentiles are linear-interpolated (see metrics.percentile).
 *
 * Throws StrataError USAGE when the dataset has no judged queries or `search` returns something other
 * than an array of strings, ABORTED when the signal fires, and INTERNAL (naming the query) when
 * `search` throws something that is not a StrataError.
 */
export async function runRetrievalEval(dataset: BeirDataset, search: SearchFn, opts: RetrievalEvalOptions = {}): Promise<RetrievalEvalResult> {
  const { signal, onProgress } = opts;
  const ids = [...dataset.queries.keys()].filter((id) => dataset.qrels.has(id));
  const total = ids.length;
  if (total === 0) {
    throw new StrataError("USAGE", `dataset ${dataset.name} (split ${dataset.split}) has no queries with relevance judgements`, "pick a split whose qrels name queries from queries.jsonl");
  }

  const raw: { ndcg: number; recall: number; mrr: number; ms: number }[] = [];
  const perQuery: RetrievalQueryResult[] = [];
  let lastYield = performance.now();

  for (const id of ids) {
    throwIfAborted(signal);
    const query = dataset.queries.get(id) as string;
    const qrels = dataset.qrels.get(id) as Map<string, number>;

    let ranked: unknown;
    const t0 = performance.now();
    try {
      ranked = await search(query);
    } catch (e) {
      throwIfAborted(signal);
      if (e instanceof StrataError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new StrataError("INTERNAL", `search failed on query ${id}: ${msg.replace(/\s+/g, " ")}`, "run with --debug for the full trace", { cause: e });
    }
    const ms = performance.now() - t0;
    throwIfAborted(signal);
    if (!Array.isArray(ranked) || !ranked.every((x) => typeof x === "string")) {
      throw new StrataError("USAGE", `search returned ${Array.isArray(ranked) ? "an array with non-string items" : typeof ranked} for query ${id}`, "the search function must return document ids (strings), best first");
    }
    const ranking = ranked as string[];

    const ndcg = ndcgAtK(ranking, qrels, 10);
    const recall = recallAtK(ranking, qrels, 100);
    const mrr = mrrAtK(ranking, qrels, 10);
    raw.push({ ndcg, recall, mrr, ms });
    perQuery.push({
      id,
      query,
      ndcg_at_10: roundTo(ndcg, 4),
      recall_at_100: roundTo(recall, 4),
      mrr_at_10: roundTo(mrr, 4),
      ms: roundTo(ms, 2),
      firstRelevantRank: firstRelevantRank(ranking, qrels),
      relevant: [...qrels].filter(([, g]) => g > 0).sort((a, b) => b[1] - a[1]).map(([d]) => d),
      top: topKDistinct(ranking, 10),
    });
    onProgress?.({ phase: "eval", done: perQuery.length, total, item: id });

    // A synchronous search never gives timers a turn; yield now and then so an abort can land.
    if (performance.now() - lastYield > 50) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }

  const times = raw.map((r) => r.ms);
  return {
    dataset: dataset.name,
    split: dataset.split,
    queries: total,
    ndcg_at_10: roundTo(mean(raw.map((r) => r.ndcg)), 4),
    recall_at_100: roundTo(mean(raw.map((r) => r.recall)), 4),
    mrr_at_10: roundTo(mean(raw.map((r) => r.mrr)), 4),
    ms_per_query: roundTo(mean(times), 2),
    p50_ms: roundTo(percentile(times, 50), 2),
    p95_ms: roundTo(percentile(times, 95), 2),
    perQuery,
  };
}
