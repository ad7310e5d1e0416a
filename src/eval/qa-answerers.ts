// The systems `strata eval qa` can score, each as an Answerer over a knowledge base built from the
// dataset's passages (one chunk per passage, through the same ingest path users get):
//
//   extractive   the embedded default: KnowledgeBase.answer (quotes cited sentences, abstains when none covers the question)
//   generative   a language model answering from retrieved sources, with Strata's citation verification
//   baseline     the reference extractive system: the top passage's sentence sharing the most terms with the question

import { performance } from "node:perf_hooks";
import { analyze } from "../knowledge/analyzer.js";
import { stripMarkers } from "../knowledge/answer/citations.js";
import { answerWithModel } from "../knowledge/answer/generative.js";
import type { GroundedAnswer } from "../knowledge/answer/types.js";
import type { KnowledgeBase, SearchMode } from "../knowledge/knowledge-base.js";
import { sentenceSpans } from "../knowledge/sentences.js";
import { OWNER } from "../knowledge/store/access.js";
import type { EmbeddingModel, LanguageModel } from "../model/types.js";
import { passageIdOf } from "./knowledge-retrieval.js";
import type { Answerer, QaPrediction } from "./qa-runner.js";

export type AnswererName = "extractive" | "generative" | "baseline";

/** A grounded answer as the QA runner scores it. */
export function predictionOf(a: GroundedAnswer, ms: number): QaPrediction {
  const abstained = !a.supported;
  return {
    answer: abstained ? "" : stripMarkers(a.answer),
    abstained,
    statements: abstained ? [] : a.sentences.filter((s) => !s.removed).map((s) => ({ text: stripMarkers(s.text), citations: s.citations })),
    citations: a.citations.map((c) => ({ n: c.n, passageId: passageIdOf(c.source), quote: c.quote, start: c.start, end: c.end })),
    retrieved: [...new Set(a.trace.retrieved.map((r) => passageIdOf(r.source)))],
    ms,
  };
}

/** The embedded default: extractive answers with citations. */
export function extractiveAnswerer(kb: KnowledgeBase, k = 8): Answerer {
  return async (item) => {
    const t0 = performance.now();
    const a = await kb.answer(item.question, { access: OWNER, k });
    return predictionOf(a, performance.now() - t0);
  };
}

export interface GenerativeAnswererOptions {
  model: LanguageModel;
  k?: number;
  mode?: SearchMode;
  embedder?: EmbeddingModel;
}

/** A model's cited answers, verified sentence by sentence. */
export function generativeAnswerer(kb: KnowledgeBase, o: GenerativeAnswererOptions): Answerer {
  return async (item, signal) => {
    const t0 = performance.now();
    const a = await answerWithModel(kb, item.question, {
      model: o.model,
      access: OWNER,
      k: o.k ?? 8,
      search: { mode: o.mode ?? "lexical", ...(o.embedder ? { embedder: o.embedder } : {}) },
      temperature: 0,
      seed: 1,
      recordTrace: false,
      signal,
    });
    return predictionOf(a, performance.now() - t0);
  };
}

/**
 * The reference extractive baseline: retrieve, take the top passage, answer with its sentence that
 * shares the most distinct terms with the question (earliest on ties), cite it. It never abstains
 * unless retrieval finds nothing.
 */
export function baselineAnswerer(kb: KnowledgeBase, o: { k?: number; mode?: SearchMode; embedder?: EmbeddingModel } = {}): Answerer {
  return async (item, signal) => {
    const t0 = performance.now();
    const hits = await kb.search(item.question, { k: o.k ?? 8, access: OWNER, mode: o.mode ?? "lexical", ...(o.embedder ? { embedder: o.embedder } : {}), signal });
    const retrieved = [...new Set(hits.map((h) => passageIdOf(h.source)))];
    const top = hits[0];
    if (!top) return { answer: "", abstained: true, statements: [], citations: [], retrieved, ms: performance.now() - t0 };
    const q = new Set(analyze(item.question));
    let best = { start: 0, end: top.text.length, overlap: -1 };
    for (const s of sentenceSpans(top.text)) {
      const overlap = new Set(analyze(top.text.slice(s.start, s.end)).filter((t) => q.has(t))).size;
      if (overlap > best.overlap) best = { start: s.start, end: s.end, overlap };
    }
    const quote = top.text.slice(best.start, best.end);
    return {
      answer: quote.replace(/\s+/g, " ").trim(),
      abstained: false,
      statements: [{ text: quote, citations: [1] }],
      citations: [{ n: 1, passageId: passageIdOf(top.source), quote, start: top.start + best.start, end: top.start + best.end }],
      retrieved,
      ms: performance.now() - t0,
    };
  };
}

/**
 * For an existing knowledge base, whose passages are not the dataset's: fetch the texts of the
 * passages retrieved for each question (the same search, repeated), so the context metrics can read them.
 */
export function withRetrievedTexts(answer: Answerer, kb: KnowledgeBase, o: { k?: number; mode?: SearchMode; embedder?: EmbeddingModel }): Answerer {
  return async (item, signal) => {
    const pred = await answer(item, signal);
    const hits = await kb.search(item.question, { k: o.k ?? 8, access: OWNER, mode: o.mode ?? "lexical", ...(o.embedder ? { embedder: o.embedder } : {}), signal });
    const byId = new Map<string, string>();
    for (const h of hits) {
      const id = passageIdOf(h.source);
      byId.set(id, `${byId.get(id) ?? ""}${byId.has(id) ? "\n" : ""}${h.text}`);
    }
    return { ...pred, retrievedTexts: pred.retrieved.map((id) => byId.get(id) ?? "") };
  };
}
