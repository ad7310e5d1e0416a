// The question-answering runner: asks an answerer every question of a QA dataset, scores each
// answer with the metrics defined in ./qa-metrics.ts, ./citation-metrics.ts and ./rag-metrics.ts
// (and a judge model's rubric when one is given), and hands each scored item to the caller as soon
// as it is done, so a stored run can be resumed from the items it already has.

import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { sentenceSpans } from "../knowledge/sentences.js";
import type { LanguageModel } from "../model/types.js";
import { citationScore, evidenceF1, type SupportJudge } from "./citation-metrics.js";
import { JudgeFailed, judgeRubric, selfAgreement, type RubricScores } from "./judge.js";
import { mean } from "./metrics.js";
import { abstentionScore, normalizeAnswer, scoreAnswer } from "./qa-metrics.js";
import type { QaDataset, QaItem } from "./qa-datasets.js";
import { answerRelevancy, containsAnswer, contextPrecisionAtK, contextRecall, faithfulness } from "./rag-metrics.js";
import type { StoredItem } from "./run-store.js";

export interface QaPrediction {
  /** The answer without citation markers. */
  answer: string;
  abstained: boolean;
  statements: { text: string; citations: number[] }[];
  citations: { n: number; passageId: string; quote: string; start: number; end: number }[];
  /** Retrieved passage ids, best first. */
  retrieved: string[];
  /** The retrieved passages' texts, in the same order, when they are not the dataset's passages (an existing knowledge base). */
  retrievedTexts?: string[];
  ms: number;
}

export type Answerer = (item: QaItem, signal?: AbortSignal) => Promise<QaPrediction>;

export interface QaRunOptions extends LongOperationOptions {
  /** Decides whether passages support a statement (the verifier, or a judge model). */
  supports: SupportJudge;
  /** Context precision cut-off (default 5). */
  k?: number;
  /** A judge model for rubric scores; `judgeRepeats` 2 judges each item twice for self-agreement. */
  judge?: LanguageModel;
  judgeRepeats?: number;
  judgeRetries?: number;
  /** Ids already scored (a resumed run): skipped. */
  done?: ReadonlySet<string>;
  /** Receives every scored item, in order. */
  onItem: (item: StoredItem) => void;
}

/** A reference answer's sentences: RAGAS attributes each one to the context separately. */
const sentencesOf = (text: string): string[] => sentenceSpans(text).map((sp) => text.slice(sp.start, sp.end)).filter((t) => t.trim() !== "");

const fin = (x: number): number | null => (Number.isFinite(x) ? Number(x.toFixed(6)) : null);

function isFatal(e: unknown): boolean {
  // The run cannot go on without the model or after a cancel; it stays resumable.
  return e instanceof StrataError && (e.code === "ABORTED" || e.code.startsWith("MODEL_") || e.code === "TIMEOUT");
}

/** Scores one prediction. Judge failures leave the affected metrics null and set judge_failed. */
export async function scoreQaItem(item: QaItem, pred: QaPrediction, dataset: QaDataset, opts: Omit<QaRunOptions, "onItem" | "done">): Promise<StoredItem> {
  const text = new Map(dataset.passages.map((p) => [p.id, p.text]));
  pred.retrievedTexts?.forEach((t, i) => pred.retrieved[i] !== undefined && !text.has(pred.retrieved[i] as string) && text.set(pred.retrieved[i] as string, t));
  const { em, f1 } = scoreAnswer(pred.answer, item.answers, pred.abstained);
  const passageOf = new Map(pred.citations.map((c) => [c.n, text.get(c.passageId) ?? c.quote]));
  const contexts = pred.retrieved.map((id) => text.get(id)).filter((t): t is string => t !== undefined);
  const gold = new Set(item.goldPassages);
  const relevant = pred.retrieved.map((id) => gold.has(id) || (item.answerable && containsAnswer(text.get(id) ?? "", item.answers, normalizeAnswer)));
  let judgeFailed = 0;
  const guarded = async (f: () => Promise<number>): Promise<number> => {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof JudgeFailed)) throw e;
      judgeFailed = 1;
      return Number.NaN;
    }
  };

  let cit = { recall: Number.NaN, precision: Number.NaN, perStatement: [] as boolean[] };
  if (!pred.abstained) {
    try {
      cit = await citationScore(pred.statements, passageOf, opts.supports);
    } catch (e) {
      if (!(e instanceof JudgeFailed)) throw e;
      judgeFailed = 1;
    }
  }
  const statements = pred.statements.map((s) => s.text);
  const faith = pred.abstained ? Number.NaN : await guarded(() => faithfulness(statements, contexts, opts.supports));
  const recall = !item.answerable
    ? Number.NaN
    : item.reference !== undefined
      ? await guarded(() => contextRecall(sentencesOf(item.reference as string), contexts, opts.supports))
      : relevant.some(Boolean)
        ? 1
        : 0;
  const cited = pred.citations.map((c) => c.quote).join(" ");
  const evidence = item.evidences && !pred.abstained ? evidenceF1(cited, item.evidences) : Number.NaN;

  // An answerable item without gold answers (eval rag) has no EM/F1: only the RAG metrics score it.
  const noGold = item.answerable && item.answers.length === 0;
  const metrics: Record<string, number | null> = {
    em: noGold ? null : em,
    f1: noGold ? null : f1,
    answerable: item.answerable ? 1 : 0,
    abstained: pred.abstained ? 1 : 0,
    citation_recall: fin(cit.recall),
    citation_precision: fin(cit.precision),
    evidence_f1: fin(evidence),
    faithfulness: fin(faith),
    answer_relevancy: pred.abstained ? null : fin(answerRelevancy(item.question, pred.answer)),
    context_precision: item.answerable ? fin(contextPrecisionAtK(relevant, opts.k ?? 5)) : null,
    context_recall: fin(recall),
    ms: fin(pred.ms),
  };
  const detail: Record<string, unknown> = {
    question: item.question,
    golds: item.answers,
    answer: pred.abstained ? "" : pred.answer,
    statements: pred.statements.map((s, i) => ({ ...s, supported: cit.perStatement[i] ?? null })),
    citations: pred.citations,
    retrieved: pred.retrieved.slice(0, 10),
    goldPassages: item.goldPassages,
    ...(item.evidences ? { evidences: item.evidences } : {}),
  };
  if (opts.judge) {
    const runs: RubricScores[] = [];
    const repeats = Math.max(1, opts.judgeRepeats ?? 1);
    for (let r = 0; r < repeats; r++) {
      const out = await judgeRubric(opts.judge, { question: item.question, answer: pred.abstained ? "(the system declined to answer)" : pred.answer, contexts: contexts.slice(0, 5), ...(item.reference !== undefined ? { reference: item.reference } : item.answers.length > 0 ? { reference: item.answers[0] as string } : {}) }, { retries: opts.judgeRetries, seed: 1 + 1000 * r, temperature: r === 0 ? 0 : 0.7, signal: opts.signal });
      if (!out.ok) {
        judgeFailed = 1;
        detail.judgeError = `${out.error}; last reply: ${out.lastOutput.slice(0, 200)}`;
        break;
      }
      runs.push(out.value);
    }
    const first = runs[0];
    metrics.judge_relevance = first && !detail.judgeError ? first.relevance : null;
    metrics.judge_coherence = first && !detail.judgeError ? first.coherence : null;
    metrics.judge_factual_accuracy = first && !detail.judgeError ? first.factual_accuracy : null;
    if (runs.length > 0) detail.judge = runs;
  }
  metrics.judge_failed = judgeFailed;
  return { id: item.id, metrics, detail };
}

/** Runs the questions not yet in `done`, scoring each and handing it to onItem. Returns the number of item errors. */
export async function runQaEval(dataset: QaDataset, answer: Answerer, opts: QaRunOptions): Promise<{ errors: number }> {
  const todo = dataset.items.filter((i) => !opts.done?.has(i.id));
  let errors = 0;
  let n = dataset.items.length - todo.length;
  let lastYield = performance.now();
  for (const item of todo) {
    // The extractive answerer never waits on I/O: give timers and signals (Ctrl-C) a turn now and then.
    if (performance.now() - lastYield > 50) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    throwIfAborted(opts.signal);
    let stored: StoredItem;
    const t0 = performance.now();
    try {
      const pred = await answer(item, opts.signal);
      stored = await scoreQaItem(item, pred, dataset, opts);
    } catch (e) {
      if (isFatal(e)) throw e;
      errors++;
      const msg = e instanceof Error ? e.message : String(e);
      stored = { id: item.id, metrics: { answerable: item.answerable ? 1 : 0, error: 1, ms: fin(performance.now() - t0) }, detail: { question: item.question, golds: item.answers, error: msg.replace(/\s+/g, " ").slice(0, 500) } };
    }
    opts.onItem(stored);
    n++;
    opts.onProgress?.({ phase: "eval", done: n, total: dataset.items.length, item: item.id });
  }
  return { errors };
}

const avg = (items: StoredItem[], key: string): number | null => {
  const xs = items.map((i) => i.metrics[key]).filter((x): x is number => typeof x === "number");
  return xs.length === 0 ? null : Number(mean(xs).toFixed(4));
};

/** The run's headline figures from its stored items (SQuAD 2.0's overall EM/F1, HasAns/NoAns, abstention, citations, RAG, judge). */
export function summarizeQa(items: StoredItem[]): Record<string, number | null> {
  const scored = items.filter((i) => i.metrics.error !== 1);
  const has = scored.filter((i) => i.metrics.answerable === 1);
  const abst = abstentionScore(scored.map((i) => ({ answerable: i.metrics.answerable === 1, abstained: i.metrics.abstained === 1 })));
  const judged = scored.filter((i) => Array.isArray(i.detail.judge) && (i.detail.judge as unknown[]).length >= 2).map((i) => (i.detail.judge as RubricScores[]).slice(0, 2) as [RubricScores, RubricScores]);
  const agree = selfAgreement(judged);
  const keys = ["citation_recall", "citation_precision", "evidence_f1", "faithfulness", "answer_relevancy", "context_precision", "context_recall", "judge_relevance", "judge_coherence", "judge_factual_accuracy"];
  const out: Record<string, number | null> = {
    questions: items.length,
    answerable: has.length,
    unanswerable: scored.length - has.length,
    errors: items.length - scored.length,
    em: avg(scored, "em"),
    f1: avg(scored, "f1"),
    has_ans_em: avg(has, "em"),
    has_ans_f1: avg(has, "f1"),
    abstention_precision: fin(abst.precision) === null ? null : Number(abst.precision.toFixed(4)),
    abstention_recall: fin(abst.recall) === null ? null : Number(abst.recall.toFixed(4)),
    abstained: scored.filter((i) => i.metrics.abstained === 1).length,
  };
  for (const k of keys) out[k] = avg(scored, k);
  out.judge_failed = scored.filter((i) => i.metrics.judge_failed === 1).length;
  if (agree.pairs > 0) {
    out.judge_self_agreement = Number(agree.exact.toFixed(4));
    out.judge_self_mean_abs_diff = Number(agree.meanAbsDiff.toFixed(4));
  }
  out.ms_per_question = avg(items, "ms");
  return out;
}
