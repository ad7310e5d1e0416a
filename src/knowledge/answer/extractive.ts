// The embedded default answerer, which needs no language model: it scores every sentence of the
// retrieved chunks as an answer to the question (select/candidates.ts, select/score.ts), quotes the
// best one first with its citation, adds others only when they are nearly as good, and abstains when
// the best one's calibrated support is below the bar — better "not found" than a guess.
import type { SearchHit } from "../types.js";
import type { Abstention, AnswerCitation, AnswerSentence, GroundedAnswer } from "./types.js";
import { analyzeQuestion, candidatesOf, type Candidate } from "./select/candidates.js";
import { RANK_WEIGHTS, SUPPORT_MODEL, scoreOf, supportOf } from "./select/score.js";

export { questionTerms } from "./select/candidates.js";

export interface ExtractiveOptions {
  /**
   * Least support for an answer (0–1): the estimated probability that the quoted sentence holds
   * the answer, calibrated on SQuAD 2.0 and off-topic questions (BENCHMARKS.md has the curve).
   * Higher abstains more and is wrong less.
   */
  minSupport: number;
  /** Most sentences quoted in one answer. */
  maxSentences: number;
  /** Further sentences must reach this share of the best sentence's support. */
  relativeCutoff: number;
}

export const DEFAULT_EXTRACTIVE: ExtractiveOptions = { minSupport: 0.5, maxSentences: 3, relativeCutoff: 0.9 };

export const NOT_FOUND_ANSWER = "The knowledge base does not contain an answer to this question.";

interface Scored extends Candidate {
  score: number;
  support: number;
}

/** Every candidate sentence of the hits with its score and support, best first. */
export function rankSentences(question: string, hits: SearchHit[], idfOf: (term: string) => number): { terms: string[]; ranked: Scored[] } {
  const q = analyzeQuestion(question, idfOf);
  const ranked = candidatesOf(q, hits)
    .map((c) => {
      const score = scoreOf(c.features, RANK_WEIGHTS);
      return { ...c, score, support: 0 };
    })
    // Ties go to the better-ranked chunk, then to the shorter sentence.
    .sort((a, b) => b.score - a.score || a.hit.rank - b.hit.rank || a.text.length - b.text.length);
  // How clearly the best sentence wins is evidence of its own: a question no sentence answers tends
  // to leave several partial matches side by side. Support is computed once the margin is known.
  const margin = ranked.length === 0 ? 0 : Math.min(1, ranked[0]!.score - (ranked[1]?.score ?? 0));
  for (const c of ranked) {
    c.features.margin = margin;
    c.support = supportOf(c.features, SUPPORT_MODEL);
  }
  return { terms: q.terms, ranked };
}

export function answerExtractively(
  question: string,
  hits: SearchHit[],
  idfOf: (term: string) => number,
  options: Partial<ExtractiveOptions> = {},
): GroundedAnswer {
  const t0 = performance.now();
  const opts = { ...DEFAULT_EXTRACTIVE, ...options };
  const { terms, ranked } = rankSentences(question, hits, idfOf);
  const best = ranked[0];
  const trace = {
    terms,
    retrieved: hits.map((h) => ({ rank: h.rank, chunkId: h.chunkId, source: h.source, score: h.score })),
    ms: 0,
  };
  // NaN support (it cannot happen, but a broken feature must never pass as support) abstains too.
  if (!best || !(best.support >= opts.minSupport)) {
    const abstention: Abstention = hits.length === 0 ? "no-sources" : "no-supported-sentence";
    const abstentionDetail =
      hits.length === 0
        ? "no source matches the question's terms"
        : !best
          ? "the matching sources hold no sentence that states something (only headings, questions or code)"
          : `the best sentence's support ${best.support.toFixed(2)} is below the minimum ${opts.minSupport}`;
    trace.ms = performance.now() - t0;
    return { question, answer: NOT_FOUND_ANSWER, mode: "extractive", supported: false, citations: [], sentences: [], trace, abstention, abstentionDetail };
  }
  // The same sentence in two documents (copies, versions) is quoted once, from the better-ranked one.
  const said = new Set<string>();
  const chosen = ranked
    .filter((c) => c.support >= Math.max(opts.minSupport, opts.relativeCutoff * best.support))
    .filter((c) => {
      const key = c.text.replace(/\s+/g, " ").toLowerCase();
      if (said.has(key)) return false;
      said.add(key);
      return true;
    })
    .slice(0, opts.maxSentences);
  const citations: AnswerCitation[] = chosen.map((c, i) => ({
    n: i + 1,
    docId: c.hit.docId,
    source: c.hit.source,
    title: c.hit.title,
    chunkId: c.hit.chunkId,
    page: c.hit.page,
    start: c.start,
    end: c.end,
    quote: c.text,
    score: Number(c.support.toFixed(4)),
  }));
  const sentences: AnswerSentence[] = chosen.map((c, i) => ({ text: c.text, citations: [i + 1], support: Number(c.support.toFixed(4)), supported: true }));
  trace.ms = performance.now() - t0;
  return {
    question,
    // The answer reads as prose (line wraps folded); each quote stays the exact source span.
    answer: chosen.map((c, i) => `${c.text.replace(/\s+/g, " ")} [${i + 1}]`).join(" "),
    mode: "extractive",
    supported: true,
    citations,
    sentences,
    trace,
  };
}
