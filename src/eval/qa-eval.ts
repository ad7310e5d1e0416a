// One QA evaluation from dataset to stored run: index the dataset's passages into a throw-away
// knowledge base, pick the system (extractive default, a model, or the baseline), score every
// question, and keep each scored item in the run store as it comes — so an interrupted run is
// resumed by id and only the missing questions are asked.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import type { KnowledgeBase, SearchMode } from "../knowledge/knowledge-base.js";
import type { EmbeddingModel, LanguageModel } from "../model/types.js";
import { idfTable, verifierJudge } from "./citation-metrics.js";
import { modelSupportJudge } from "./judge.js";
import { indexPassages } from "./knowledge-retrieval.js";
import { baselineAnswerer, extractiveAnswerer, generativeAnswerer, withRetrievedTexts, type AnswererName } from "./qa-answerers.js";
import type { QaDataset } from "./qa-datasets.js";
import { runQaEval, summarizeQa } from "./qa-runner.js";
import { appendItem, completeRun, createRun, openRun, type StoredItem, type StoredRun } from "./run-store.js";

export interface QaEvalOptions extends LongOperationOptions {
  system: AnswererName;
  /** The answering model (system "generative"). */
  model?: LanguageModel;
  mode?: SearchMode;
  /** Embeds the passages and queries for dense and hybrid retrieval. */
  embedder?: EmbeddingModel;
  /** Chunks retrieved per question (default 8). */
  k?: number;
  /** Judge model: rubric scores, and (with supportBy "judge") citation/faithfulness support. */
  judge?: LanguageModel;
  judgeRepeats?: number;
  judgeRetries?: number;
  supportBy?: "verifier" | "judge";
  /** Answer from this existing knowledge base instead of one built from the dataset's passages (gold passages then cannot be matched by id; context relevance is judged by whether a passage contains a gold answer). */
  kb?: KnowledgeBase;
  /** Score only the first n questions. */
  limit?: number;
  /** Where the run is stored; without it nothing is kept. */
  store?: { runsDir: string; resume?: string; codeVersion: string; modelRef: string | null; config: Record<string, unknown>; onRun?: (id: string, dir: string) => void };
}

export interface QaEvalResult {
  run: StoredRun | null;
  items: StoredItem[];
  summary: Record<string, number | null>;
  errors: number;
  resumed: number;
}

function limited(dataset: QaDataset, limit: number | undefined): QaDataset {
  if (limit === undefined || limit >= dataset.items.length) return dataset;
  // Keep answerable and unanswerable questions in their proportion: take every (n/limit)-th question.
  const step = dataset.items.length / limit;
  const items = Array.from({ length: limit }, (_, i) => dataset.items[Math.floor(i * step)]!);
  return { ...dataset, items };
}

function startOrResume(dataset: QaDataset, opts: QaEvalOptions): StoredRun | null {
  const s = opts.store;
  if (!s) return null;
  if (s.resume === undefined) {
    return createRun(s.runsDir, { kind: "qa", config: s.config, dataset: { name: dataset.name, path: dataset.path, hash: dataset.hash, items: dataset.items.length }, codeVersion: s.codeVersion, modelRef: s.modelRef });
  }
  const run = openRun(s.resume, s.runsDir);
  if (run.run.dataset.hash !== dataset.hash) throw new StrataError("USAGE", `run ${run.run.id} scored other data (dataset hash ${run.run.dataset.hash.slice(0, 12)}, this one ${dataset.hash.slice(0, 12)})`, "resume with the same --data it started with, or start a new run");
  if (JSON.stringify(run.run.config) !== JSON.stringify(s.config)) throw new StrataError("USAGE", `run ${run.run.id} was started with other options (${JSON.stringify(run.run.config)})`, "resume with the options it started with, or start a new run");
  return run;
}

export async function evaluateQa(full: QaDataset, opts: QaEvalOptions): Promise<QaEvalResult> {
  if (opts.system === "generative" && !opts.model) throw new StrataError("USAGE", "the generative system needs a model", "pass --model <ref>");
  if (opts.system === "extractive" && (opts.mode ?? "lexical") !== "lexical") throw new StrataError("USAGE", `the extractive answerer retrieves lexically; --mode ${opts.mode} needs --model or --system baseline`, "drop --mode, or answer with a model (--model <ref> --embed <ref>)");
  if ((opts.supportBy ?? "verifier") === "judge" && !opts.judge) throw new StrataError("USAGE", "support by a judge needs --judge <model ref>", "pass --judge, or let Strata's verifier judge support");
  const dataset = limited(full, opts.limit);
  if (dataset.passages.length === 0 && !opts.kb) throw new StrataError("USAGE", `dataset ${dataset.name} has no passages to answer from`, "give contexts with the questions (JSONL \"contexts\"), or use a SQuAD file or folder");
  const run = startOrResume(dataset, opts);
  if (run) opts.store?.onRun?.(run.run.id, run.dir);
  const done = new Set(run?.items.map((i) => i.id) ?? []);
  const resumed = done.size;
  const items: StoredItem[] = run ? run.items : [];

  const dir = mkdtempSync(join(tmpdir(), "strata-eval-qa-"));
  let kb: KnowledgeBase | undefined;
  try {
    kb = opts.kb ?? indexPassages(dataset.passages, join(dir, "kb"), { signal: opts.signal, onProgress: opts.onProgress });
    if (opts.embedder && !opts.kb) await kb.embed(opts.embedder, { signal: opts.signal });
    const k = opts.k ?? 8;
    const base =
      opts.system === "generative"
        ? generativeAnswerer(kb, { model: opts.model as LanguageModel, k, mode: opts.mode, embedder: opts.embedder })
        : opts.system === "baseline"
          ? baselineAnswerer(kb, { k, mode: opts.mode, embedder: opts.embedder })
          : extractiveAnswerer(kb, k);
    const answer = opts.kb ? withRetrievedTexts(base, kb, { k, mode: opts.mode, embedder: opts.embedder }) : base;
    const supports = opts.supportBy === "judge" && opts.judge ? modelSupportJudge(opts.judge, { retries: opts.judgeRetries, signal: opts.signal }) : verifierJudge(idfTable(dataset.passages.map((p) => p.text)));
    const { errors } = await runQaEval(dataset, answer, {
      supports,
      judge: opts.judge,
      judgeRepeats: opts.judgeRepeats,
      judgeRetries: opts.judgeRetries,
      done,
      signal: opts.signal,
      onProgress: opts.onProgress,
      onItem: (item) => (run ? appendItem(run, item) : items.push(item)),
    });
    const order = new Map(dataset.items.map((it, i) => [it.id, i]));
    const sorted = [...(run ? run.items : items)].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    const summary = summarizeQa(sorted);
    if (run) completeRun(run, summary);
    return { run, items: sorted, summary, errors: errors + sorted.filter((i) => i.metrics.error === 1).length - errors, resumed };
  } finally {
    if (!opts.kb) kb?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
