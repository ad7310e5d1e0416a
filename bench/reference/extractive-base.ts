// FROZEN REFERENCE: the extractive answerer as it was before the answer-quality work (issue 14),
// kept verbatim so that bench/answer-quality.ts can measure the old and the new side by side on the
// same retrieved chunks. Not used by the product; do not improve it.
// The embedded default answerer, which needs no language model: it quotes the sentences of the
// retrieved chunks that cover the most of the question's (idf-weighted) terms, cites each one, and
// abstains when no sentence covers enough — better "not found" than a guess.
import { analyze, analyzeWithSpans } from "../../src/knowledge/analyzer.js";
import { sentenceSpans } from "./sentences-base.js";
import type { SearchHit } from "../../src/knowledge/types.js";
import type { AnswerCitation, AnswerSentence, GroundedAnswer } from "../../src/knowledge/answer/types.js";

export interface ExtractiveOptions {
  /** Least weighted term coverage for a sentence to count as support (0–1). */
  minSupport: number;
  /** Most sentences quoted in one answer. */
  maxSentences: number;
  /** Further sentences must reach this share of the best sentence's coverage. */
  relativeCutoff: number;
}

export const DEFAULT_EXTRACTIVE: ExtractiveOptions = { minSupport: 0.5, maxSentences: 3, relativeCutoff: 0.8 };

export const NOT_FOUND_ANSWER = "The knowledge base does not contain an answer to this question.";

// Words that shape a question but are not its subject ("how much does … cost").
const QUESTION_WORDS = new Set(
  analyze("how much many what when where who whom whose why which do does did can could would should shall may might i me my we our you your tell please about there here describe explain"),
);

/** The question's content terms, deduplicated, in order. */
export function questionTerms(question: string): string[] {
  return [...new Set(analyze(question).filter((t) => !QUESTION_WORDS.has(t)))];
}

interface Candidate {
  hit: SearchHit;
  start: number;
  end: number;
  text: string;
  coverage: number;
  score: number;
}

// A heading line or a fragment is not a claim: it may match the question's words but answers nothing.
function looksLikeClaim(sentence: string): boolean {
  if (/^#{1,6}\s/.test(sentence)) return false;
  const words = sentence.split(/\s+/).filter(Boolean).length;
  return words >= 4 || /[.!?]$/.test(sentence);
}

export function answerExtractively(
  question: string,
  hits: SearchHit[],
  idfOf: (term: string) => number,
  options: Partial<ExtractiveOptions> = {},
): GroundedAnswer {
  const t0 = performance.now();
  const opts = { ...DEFAULT_EXTRACTIVE, ...options };
  const terms = questionTerms(question);
  const weight = new Map(terms.map((t) => [t, idfOf(t)]));
  const total = [...weight.values()].reduce((a, b) => a + b, 0);
  const topScore = hits[0]?.score ?? 1;

  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const hit of hits) {
    for (const s of sentenceSpans(hit.text)) {
      const start = hit.start + s.start;
      const end = hit.start + s.end;
      const key = `${hit.docId}:${start}:${end}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const text = hit.text.slice(s.start, s.end);
      if (!looksLikeClaim(text)) continue;
      const present = new Set(analyzeWithSpans(text).map((t) => t.term));
      let covered = 0;
      for (const [t, w] of weight) if (present.has(t)) covered += w;
      const coverage = total > 0 ? covered / total : 0;
      // Coverage decides; the chunk's retrieval score and brevity break ties.
      const score = coverage + 0.05 * (hit.score / (topScore || 1)) - 0.0001 * text.length;
      candidates.push({ hit, start, end, text, coverage, score });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  const best = candidates[0];
  const trace = {
    terms,
    retrieved: hits.map((h) => ({ rank: h.rank, chunkId: h.chunkId, source: h.source, score: h.score })),
    ms: 0,
  };
  if (!best || best.coverage < opts.minSupport) {
    trace.ms = performance.now() - t0;
    return { question, answer: NOT_FOUND_ANSWER, mode: "extractive", supported: false, citations: [], sentences: [], trace };
  }
  // The same sentence in two documents (copies, versions) is quoted once, from the better-ranked one.
  const said = new Set<string>();
  const chosen = candidates
    .filter((c) => c.coverage >= Math.max(opts.minSupport, opts.relativeCutoff * best.coverage))
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
    score: Number(c.coverage.toFixed(4)),
  }));
  const sentences: AnswerSentence[] = chosen.map((c, i) => ({ text: c.text, citations: [i + 1], support: Number(c.coverage.toFixed(4)), supported: true }));
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
