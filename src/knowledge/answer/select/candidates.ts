// The candidate answer sentences of the retrieved chunks, each with the evidence that it answers the
// question: how much of the question's (idf-weighted) terms it covers, alone and with its neighbours
// and heading; whether its rarest terms are there; how close together they stand; whether it holds
// something of the asked type that the question does not already say; how much it says beyond the
// question; and how well its chunk ranked.
import { analyze } from "../../analyzer.js";
import { claimSpans } from "../../sentences.js";
import type { SearchHit } from "../../types.js";
import { answerTypeOf, holdsAnswerType, negates, type AnswerType } from "./question-type.js";

// Words that shape a question but are not its subject ("how much does … cost").
const QUESTION_WORDS = new Set(
  analyze("how much many what when where who whom whose why which do does did can could would should shall may might i me my we our you your tell please about there here describe explain name"),
);

// "How heavy", "how long", "how old": the adjective belongs to the interrogative (it asks for a
// quantity, see question-type.ts), not to the subject; the answer says "3 tonnes", not "heavy".
const HOW_PHRASE = /\bhow (?:many|much|long|far|old|large|big|tall|high|often|fast|wide|deep|heavy|hot|cold|early|late|soon)\b/gi;

/** The question's content terms, deduplicated, in order. */
export function questionTerms(question: string): string[] {
  return [...new Set(analyze(question.replace(HOW_PHRASE, "how")).filter((t) => !QUESTION_WORDS.has(t)))];
}

export interface Features {
  /** Share of the question's idf weight that the sentence covers (0–1). */
  coverage: number;
  /** The same with the neighbouring sentences and the chunk's title and headings (0–1). */
  contextCoverage: number;
  /** Coverage with each term weighed by how few of the candidate sentences hold it (a sentence-level idf): the terms that tell the candidates apart (0–1). */
  localCoverage: number;
  /** The same with the whole chunk: an answering passage usually holds all the question's terms (0–1). */
  chunkCoverage: number;
  /** How much evidence the covered terms carry on their own, saturating: 1 − exp(−idf sum / (1.5 × the idf of an unseen term)) (0–1). A sentence sharing one common word with a short question is not an answer to it. */
  evidence: number;
  /** Share of the question's rare terms (idf at least the question's mean) in the sentence or its context (0–1). */
  rareCoverage: number;
  /** Covered terms per token of the shortest stretch that holds them all (0–1). */
  proximity: number;
  /** Share of the question's adjacent term pairs that stand together (within one word) in the sentence (0–1). */
  bigrams: number;
  /** The sentence holds something of the asked type not in the question (1), or not (0); 1 when the type is "other". */
  typeMatch: number;
  /** Content terms beyond the question's, saturating: 0 for a restatement, near 1 for a full answer. */
  novelty: number;
  /** The chunk's retrieval score over the best chunk's (0–1). */
  retrieval: number;
  /** 1 / the chunk's retrieval rank. */
  reciprocalRank: number;
  /** The question negates ("not", "never", "unable") and the sentence does not (1), else 0. */
  negationMismatch: number;
  /** The question's best rank score minus its second best, at most 1: how clearly one sentence wins (set by the ranker, the same for every candidate of a question). */
  margin: number;
}

export interface Candidate {
  hit: SearchHit;
  /** Span in the document's text. */
  start: number;
  end: number;
  text: string;
  features: Features;
}

export interface QuestionAnalysis {
  terms: string[];
  weights: Map<string, number>;
  total: number;
  /** idf of an unseen term in this base: the largest idf, the unit of `evidence`. */
  idfCeiling: number;
  type: AnswerType;
  /** The question's words, lower-cased, for "is this new information" checks. */
  words: Set<string>;
  /** Prefixes of consecutive question terms, "a b". */
  pairs: string[];
  matchable: Set<string>;
  negated: boolean;
}

export function analyzeQuestion(question: string, idfOf: (term: string) => number): QuestionAnalysis {
  const terms = questionTerms(question);
  const weights = new Map(terms.map((t) => [t, idfOf(t)]));
  // The idf of a term no chunk holds (the largest there is) sets the scale of "evidence", so that it
  // means the same in a base of a hundred chunks and in one of a million.
  const idfCeiling = Math.max(1e-9, idfOf(""));
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  const words = new Set(question.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const seq = analyze(question.replace(HOW_PHRASE, "how")).filter((t) => !QUESTION_WORDS.has(t)).map(prefixOf);
  const pairs = [...new Set(seq.slice(1).map((t, i) => seq[i] + " " + t))];
  return { terms, weights, total, idfCeiling, type: answerTypeOf(question), words, pairs, matchable: matchable(terms), negated: negates(question) };
}

// Stems that agree on their first letters are taken as one word ("Langlade"/"Langlades",
// "administrative"/"administration"): the stemmer misses names and many derivations.
const PREFIX = 5;
const prefixOf = (t: string): string => (t.length >= PREFIX + 1 ? t.slice(0, PREFIX) : t);

/** Terms and their prefixes, the form coverage is measured against. */
function matchable(terms: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const t of terms) {
    out.add(t);
    out.add("~" + prefixOf(t));
  }
  return out;
}

const hasTerm = (present: ReadonlySet<string>, t: string): boolean => present.has(t) || present.has("~" + prefixOf(t));

function coveredWeight(present: ReadonlySet<string>, q: QuestionAnalysis): number {
  let covered = 0;
  for (const [t, w] of q.weights) if (hasTerm(present, t)) covered += w;
  return covered;
}

const coverageOf = (present: ReadonlySet<string>, q: QuestionAnalysis): number => (q.total > 0 ? coveredWeight(present, q) / q.total : 0);

// Evidence saturates at this many unseen-term idfs: one rare term gives about 0.5, two about 0.75.
const EVIDENCE_SATURATION = 1.5;
/** The evidence of a sentence that defines the whole subject of a "What is X?" question (see candidates()). */
const DEFINITION_EVIDENCE = 0.8;

/** Share of the question's consecutive term pairs that also follow each other in the sentence. */
function bigramsOf(terms: string[], q: QuestionAnalysis): number {
  if (q.pairs.length === 0) return 0;
  const near = new Set<string>();
  for (let i = 0; i < terms.length; i++) {
    for (let j = i + 1; j <= i + 2 && j < terms.length; j++) near.add(prefixOf(terms[i]!) + " " + prefixOf(terms[j]!));
  }
  return q.pairs.filter((p) => near.has(p)).length / q.pairs.length;
}

/** Covered distinct terms per token of the shortest token window holding all of them. */
function proximityOf(sentenceTerms: string[], q: QuestionAnalysis): number {
  const terms = sentenceTerms.map(prefixOf);
  const wanted = new Set(terms.filter((t) => q.matchable.has("~" + t)));
  if (wanted.size === 0) return 0;
  if (wanted.size <= 1) return wanted.size;
  const counts = new Map<string, number>();
  let have = 0;
  let best = Infinity;
  let left = 0;
  for (let right = 0; right < terms.length; right++) {
    const t = terms[right]!;
    if (!wanted.has(t)) continue;
    counts.set(t, (counts.get(t) ?? 0) + 1);
    if (counts.get(t) === 1) have++;
    while (have === wanted.size) {
      best = Math.min(best, right - left + 1);
      const l = terms[left]!;
      left++;
      if (!wanted.has(l)) continue;
      counts.set(l, counts.get(l)! - 1);
      if (counts.get(l) === 0) have--;
    }
  }
  return Math.min(1, wanted.size / best);
}

const NOVELTY_SATURATION = 6;

// Segmenting and stemming a chunk is most of an answer's cost, and the same chunks come back for
// many questions: the last few hundred chunk texts keep their sentences and terms.
const CHUNK_CACHE_SIZE = 512;
const chunkCache = new Map<string, { spans: ReturnType<typeof claimSpans>; termsOf: string[][] }>();

/** Empties the chunk cache (benchmarks measure the cold cost with it). */
export function forgetChunks(): void {
  chunkCache.clear();
}

function sentencesOf(text: string): { spans: ReturnType<typeof claimSpans>; termsOf: string[][] } {
  const hit = chunkCache.get(text);
  if (hit) {
    chunkCache.delete(text);
    chunkCache.set(text, hit);
    return hit;
  }
  const spans = claimSpans(text);
  const entry = { spans, termsOf: spans.map((s) => analyze(text.slice(s.start, s.end))) };
  chunkCache.set(text, entry);
  if (chunkCache.size > CHUNK_CACHE_SIZE) chunkCache.delete(chunkCache.keys().next().value!);
  return entry;
}

export function candidatesOf(question: QuestionAnalysis, hits: SearchHit[]): Candidate[] {
  const out: Candidate[] = [];
  const presents: Set<string>[] = [];
  const seen = new Set<string>();
  const topScore = hits[0]?.score || 1;
  const rare = [...question.weights].filter(([, w]) => w >= question.total / Math.max(1, question.weights.size)).map(([t]) => t);
  for (const hit of hits) {
    const { spans, termsOf } = sentencesOf(hit.text);
    const headingTerms = analyze([hit.title, ...hit.headingPath].join(" "));
    const chunkCoverage = coverageOf(matchable([...termsOf.flat(), ...headingTerms]), question);
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i]!;
      if (!s.claim) continue;
      const start = hit.start + s.start;
      const end = hit.start + s.end;
      const key = `${hit.docId}:${start}:${end}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const text = hit.text.slice(s.start, s.end);
      const terms = termsOf[i]!;
      const present = matchable(terms);
      const context = matchable([...terms, ...(termsOf[i - 1] ?? []), ...(termsOf[i + 1] ?? []), ...headingTerms]);
      const novel = new Set(terms.filter((t) => !hasTerm(question.matchable, t))).size;
      const typeMatch = holdsAnswerType(question.type, text, question.words);
      const coverage = coverageOf(present, question);
      const evidence = 1 - Math.exp(-coveredWeight(context, question) / (EVIDENCE_SATURATION * question.idfCeiling));
      out.push({
        hit,
        start,
        end,
        text,
        features: {
          coverage,
          localCoverage: 0,
          contextCoverage: coverageOf(context, question),
          chunkCoverage,
          // "What is X?" asks about one short subject, so its idf alone is little evidence even when the
          // sentence says "X is …": a sentence that defines the whole subject counts as strong evidence.
          evidence: question.type === "definition" && typeMatch && coverage === 1 ? Math.max(evidence, DEFINITION_EVIDENCE) : evidence,
          rareCoverage: rare.length === 0 ? 0 : rare.filter((t) => hasTerm(context, t)).length / rare.length,
          proximity: proximityOf(terms, question),
          bigrams: bigramsOf(terms, question),
          typeMatch: typeMatch ? 1 : 0,
          novelty: 1 - Math.exp(-novel / NOVELTY_SATURATION),
          retrieval: Math.max(0, hit.score / topScore),
          reciprocalRank: 1 / Math.max(1, hit.rank),
          negationMismatch: question.negated && !negates(text) ? 1 : 0,
          margin: 0,
        },
      });
      presents.push(present);
    }
  }
  setLocalCoverage(out, presents, question);
  return out;
}

/** Fills `localCoverage`: question terms weighed by log((S + 1) / (sf + 0.5)) over the S candidates. */
function setLocalCoverage(cands: Candidate[], presents: Set<string>[], q: QuestionAnalysis): void {
  const weights = q.terms.map((t) => {
    const sf = presents.filter((p) => hasTerm(p, t)).length;
    return Math.max(0, Math.log((presents.length + 1) / (sf + 0.5)));
  });
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return;
  cands.forEach((c, i) => {
    let covered = 0;
    q.terms.forEach((t, j) => {
      if (hasTerm(presents[i]!, t)) covered += weights[j]!;
    });
    c.features.localCoverage = covered / total;
  });
}

