// Checks each sentence of a generated answer against the text of the sources it cites. Support is
// the idf-weighted share of the sentence's content terms that the cited text contains (rare terms
// count more, as in retrieval); on top of that every number and every name in the sentence must
// appear in the cited text, since a changed figure or person barely moves term coverage. The best
// matching sentences of each cited source give the citation its exact span.
import { analyze } from "../analyzer.js";
import { sentenceSpans } from "../sentences.js";
import type { Claim } from "./citations.js";
import type { SentenceEvidence, SentenceVerdict } from "./types.js";

export interface VerifySource {
  n: number;
  /** Where the source's text starts in its document, to turn offsets into document offsets. */
  start: number;
  text: string;
  title: string;
  headingPath: string[];
}

export interface VerifyOptions {
  /** Least weighted share of a sentence's content terms the cited text must contain (0–1). */
  minSupport: number;
}

export const DEFAULT_VERIFY: VerifyOptions = { minSupport: 0.5 };

export interface ClaimCheck {
  verdict: SentenceVerdict;
  reason: string;
  support: number;
  /** Cited numbers that exist. */
  citations: number[];
  invalid: number[];
  unmatched: string[];
  evidence: (SentenceEvidence & { coverage: number })[];
}

// Words that frame a statement about the sources rather than carry its content.
const FRAMING = new Set(
  analyze(
    "according source sources document documents text states stated say says said mention mentions mentioned note notes noted indicate indicates provided information answer question based also however yes i me my we our you your it its can could would should may might",
  ),
);

// "215,000" and "215000" are one number: numeric terms are compared without thousands separators.
const canonicalTerm = (t: string): string => (/^\d/.test(t) ? t.replace(/,(?=\d{3}(?!\d))/g, "").replace(/^0+(?=\d)/, "") : t);

/** Analysed terms of a text, numbers in canonical form. */
function termsOf(text: string): string[] {
  return analyze(text).map(canonicalTerm);
}

/** The sentence's content terms, unique. */
export function contentTerms(sentence: string): string[] {
  return [...new Set(termsOf(sentence).filter((t) => !FRAMING.has(t)))];
}

// A leading list marker ("1. ", "- ") is layout, not a figure the sources must contain.
const LIST_MARKER = /^\s*(?:[-*+•]|\d{1,3}[.)])\s+/;

/** Numbers in a text in one canonical form: "215,000" and "215000" match, "09:00" and "9:00" match. */
export function numbersIn(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\d+(?:[.,:]\d+)*/g)) {
    let s = m[0].replace(/,(?=\d{3}(?!\d))/g, "");
    s = s.replace(/^0+(?=\d)/, "");
    out.add(s);
  }
  return [...out];
}

// Capitalised words after the first word of a sentence are taken as names. Words that are
// capitalised for other reasons (pronoun I, days and months are fine: sources contain them too).
const NAME = /(?<=[\s"'“(])(\p{Lu}[\p{L}\p{M}'’-]*)/gu;

/** Names (capitalised words not opening the sentence) as analysed terms, with the words. */
export function namesIn(sentence: string): { word: string; term: string }[] {
  const out: { word: string; term: string }[] = [];
  for (const m of sentence.matchAll(NAME)) {
    const word = m[1]!;
    if (word.length < 2) continue;
    const term = analyze(word)[0];
    if (term && !FRAMING.has(term)) out.push({ word, term });
  }
  return out;
}

function weightedCoverage(terms: string[], present: Set<string>, idfOf: (t: string) => number): number {
  let total = 0;
  let covered = 0;
  for (const t of terms) {
    const w = idfOf(t);
    total += w;
    if (present.has(t)) covered += w;
  }
  return total > 0 ? covered / total : 0;
}

/**
 * The sentences of a source that best cover the claim's terms: the best one, then any other that
 * adds terms still missing (at most three), as one span from the first to the last.
 */
export function bestEvidence(terms: string[], source: VerifySource, idfOf: (t: string) => number): SentenceEvidence & { coverage: number } {
  const spans = sentenceSpans(source.text).map((s) => ({ ...s, terms: new Set(termsOf(source.text.slice(s.start, s.end))) }));
  if (spans.length === 0) return { n: source.n, start: source.start, end: source.start + source.text.length, coverage: 0 };
  const chosen: typeof spans = [];
  const covered = new Set<string>();
  while (chosen.length < 3) {
    let best: (typeof spans)[number] | undefined;
    let bestGain = 0;
    for (const s of spans) {
      if (chosen.includes(s)) continue;
      const gain = weightedCoverage(terms.filter((t) => !covered.has(t)), s.terms, idfOf) - 1e-6 * (s.end - s.start);
      if (gain > bestGain) {
        best = s;
        bestGain = gain;
      }
    }
    if (!best) break;
    chosen.push(best);
    for (const t of best.terms) covered.add(t);
  }
  if (chosen.length === 0) chosen.push(spans[0]!);
  const start = Math.min(...chosen.map((s) => s.start));
  const end = Math.max(...chosen.map((s) => s.end));
  return { n: source.n, start: source.start + start, end: source.start + end, coverage: weightedCoverage(terms, covered, idfOf) };
}

/** Verifies one sentence against the sources it cites. */
export function verifyClaim(claim: Claim, sources: Map<number, VerifySource>, idfOf: (t: string) => number, options: Partial<VerifyOptions> = {}): ClaimCheck {
  // An option passed as undefined means the default, not "no threshold".
  const opts: VerifyOptions = { minSupport: options.minSupport ?? DEFAULT_VERIFY.minSupport };
  const citations = claim.citations.filter((n) => sources.has(n));
  const invalid = claim.citations.filter((n) => !sources.has(n));
  const base = { citations, invalid, unmatched: [] as string[], evidence: [] as ClaimCheck["evidence"] };
  if (claim.citations.length === 0) return { ...base, verdict: "uncited", reason: "the sentence cites no source", support: 0 };
  if (citations.length === 0) return { ...base, verdict: "invalid-citation", reason: `it cites ${invalid.map((n) => `[${n}]`).join(" ")}, which names no source`, support: 0 };

  const cited = citations.map((n) => sources.get(n)!);
  const citedText = cited.map((s) => [s.title, ...s.headingPath, s.text].join("\n")).join("\n");
  const present = new Set(termsOf(citedText));
  const plain = claim.plain.replace(LIST_MARKER, "");
  const terms = contentTerms(plain);
  const support = weightedCoverage(terms, present, idfOf);
  const evidence = cited.map((s) => bestEvidence(terms, s, idfOf));

  const citedNumbers = new Set(numbersIn(citedText));
  const unmatched = numbersIn(plain).filter((x) => !citedNumbers.has(x));
  for (const { word, term } of namesIn(plain)) if (!present.has(term)) unmatched.push(word);

  const checked = { ...base, unmatched, evidence, support: Number(support.toFixed(4)) };
  if (unmatched.length > 0) return { ...checked, verdict: "unmatched-fact", reason: `the cited text does not contain ${unmatched.map((u) => `"${u}"`).join(", ")}` };
  if (terms.length === 0) return { ...checked, verdict: "low-support", reason: "the sentence says nothing the sources can confirm", support: 0 };
  if (support < opts.minSupport) return { ...checked, verdict: "low-support", reason: `the cited text covers ${Math.round(support * 100)}% of what it says (needs ${Math.round(opts.minSupport * 100)}%)` };
  return { ...checked, verdict: "supported", reason: invalid.length > 0 ? `supported; ${invalid.map((n) => `[${n}]`).join(" ")} names no source` : "supported by the cited text" };
}

// Ways a model says the sources do not answer; checked only when the answer cites nothing valid.
const DECLINE = /\b(?:cannot|can ?not|can't|unable to|not able to) (?:answer|find|determine|say)\b|\b(?:sources?|documents?|context) (?:do(?:es)? not|don't|doesn't) (?:contain|mention|say|include|provide|answer)|\bno (?:information|mention)\b|\bnot (?:mentioned|stated|found) in the (?:sources?|documents?|context)\b/i;

/**
 * Whether the model declined: it gave the instructed reply, or an answer that cites no valid
 * source says in other words that the sources do not contain the answer.
 */
export function declines(answer: string, instructed: string, citesValidSource: boolean): boolean {
  const a = answer.trim();
  if (a.length === 0) return true;
  if (a.toLowerCase().startsWith(instructed.toLowerCase().replace(/\.$/, ""))) return true;
  return !citesValidSource && DECLINE.test(a);
}
