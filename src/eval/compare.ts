// Comparing two stored runs over the items both scored: per metric the means, the delta B − A
// with a paired bootstrap 95% interval, and the items whose score changed most. With a judge model,
// a position-swapped pairwise preference per item (./judge.ts).

import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LanguageModel } from "../model/types.js";
import { pairedBootstrap, type PairedInterval } from "./bootstrap.js";
import { judgePair, type PairVerdict } from "./judge.js";
import type { StoredItem, StoredRun } from "./run-store.js";

export interface MetricDelta extends PairedInterval {
  metric: string;
  /** The interval excludes 0. */
  significant: boolean;
  /** Which way is better: time is better lower; how often a system declines is neither. */
  direction: "higher" | "lower" | "neutral";
  /** With a significant change: better, worse, or changed (neutral metrics). */
  verdict: "better" | "worse" | "changed" | null;
}

const LOWER_IS_BETTER = new Set(["ms", "judge_self_mean_abs_diff"]);
const NEUTRAL = new Set(["abstained"]);

export interface ChangedItem {
  id: string;
  question: string;
  a: number;
  b: number;
  delta: number;
  answerA: string;
  answerB: string;
}

export interface PairwiseSummary {
  judged: number;
  a: number;
  b: number;
  tie: number;
  /** Preferences that flipped with the order (the judge followed position). */
  inconsistent: number;
  failed: number;
  /** Share of judged items where both orders agreed: the judge's agreement with itself. */
  positionConsistency: number;
}

export interface RunComparison {
  a: { id: string; dataset: string; items: number };
  b: { id: string; dataset: string; items: number };
  common: number;
  metrics: MetricDelta[];
  /** The metric items are ranked by in `changed`. */
  by: string;
  changed: ChangedItem[];
  pairwise?: PairwiseSummary;
}

/** Metrics compared per item: the numeric ones that are not flags or counters. */
const SKIP = new Set(["answerable", "error", "judge_failed"]);

export interface CompareOptions {
  /** Metric that ranks the changed items (default f1, else the first). */
  by?: string;
  /** How many changed items to list (default 10). */
  top?: number;
  resamples?: number;
  seed?: number;
  judge?: LanguageModel;
  /** Judge at most this many common items pairwise (default all). */
  judgeLimit?: number;
  signal?: AbortSignal;
}

const text = (i: StoredItem, key: string): string => (typeof i.detail[key] === "string" ? (i.detail[key] as string) : "");

export async function compareRuns(A: StoredRun, B: StoredRun, opts: CompareOptions = {}): Promise<RunComparison> {
  if (A.run.kind !== B.run.kind) throw new StrataError("USAGE", `run ${A.run.id} is a ${A.run.kind} run and ${B.run.id} a ${B.run.kind} run`, "compare two runs of the same kind");
  const bIndex = new Map(B.items.map((i) => [i.id, i]));
  const pairs = A.items.filter((i) => bIndex.has(i.id)).map((a) => [a, bIndex.get(a.id) as StoredItem] as const);
  if (pairs.length === 0) throw new StrataError("USAGE", `runs ${A.run.id} and ${B.run.id} have no item in common`, "compare runs over the same dataset");
  const names = new Set<string>();
  for (const [a, b] of pairs) for (const k of Object.keys(a.metrics)) if (!SKIP.has(k) && k in b.metrics) names.add(k);
  const metrics: MetricDelta[] = [];
  for (const m of names) {
    const va = pairs.map(([a]) => a.metrics[m] ?? Number.NaN);
    const vb = pairs.map(([, b]) => b.metrics[m] ?? Number.NaN);
    const ci = pairedBootstrap(va, vb, { resamples: opts.resamples, seed: opts.seed });
    if (ci.n === 0) continue;
    const significant = ci.low > 0 || ci.high < 0;
    const direction = LOWER_IS_BETTER.has(m) ? "lower" : NEUTRAL.has(m) ? "neutral" : "higher";
    const verdict = !significant ? null : direction === "neutral" ? "changed" : (ci.delta > 0) === (direction === "higher") ? "better" : "worse";
    metrics.push({ metric: m, ...ci, significant, direction, verdict });
  }
  const by = opts.by ?? (names.has("f1") ? "f1" : ([...names][0] ?? "f1"));
  if (!names.has(by)) throw new StrataError("USAGE", `the runs have no metric "${by}"`, `pick one of ${[...names].join(", ")}`);
  const changed = pairs
    .map(([a, b]) => ({ id: a.id, question: text(a, "question"), a: a.metrics[by] ?? Number.NaN, b: b.metrics[by] ?? Number.NaN, answerA: text(a, "answer"), answerB: text(b, "answer") }))
    .filter((c) => Number.isFinite(c.a) && Number.isFinite(c.b) && c.a !== c.b)
    .map((c) => ({ ...c, delta: c.b - c.a }))
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.id.localeCompare(y.id))
    .slice(0, opts.top ?? 10);
  const out: RunComparison = {
    a: { id: A.run.id, dataset: A.run.dataset.name, items: A.items.length },
    b: { id: B.run.id, dataset: B.run.dataset.name, items: B.items.length },
    common: pairs.length,
    metrics,
    by,
    changed,
  };
  if (opts.judge) out.pairwise = await pairwise(opts.judge, pairs.slice(0, opts.judgeLimit ?? pairs.length), opts.signal);
  return out;
}

async function pairwise(judge: LanguageModel, pairs: ReadonlyArray<readonly [StoredItem, StoredItem]>, signal?: AbortSignal): Promise<PairwiseSummary> {
  const count: Record<PairVerdict | "failed", number> = { A: 0, B: 0, tie: 0, inconsistent: 0, failed: 0 };
  for (const [a, b] of pairs) {
    throwIfAborted(signal);
    const r = await judgePair(judge, { question: text(a, "question"), contexts: [], answerA: text(a, "answer") || "(declined to answer)", answerB: text(b, "answer") || "(declined to answer)" }, { signal });
    count[r.ok ? r.value : "failed"]++;
  }
  const judged = pairs.length - count.failed;
  return { judged, a: count.A, b: count.B, tie: count.tie, inconsistent: count.inconsistent, failed: count.failed, positionConsistency: judged > 0 ? (judged - count.inconsistent) / judged : Number.NaN };
}
