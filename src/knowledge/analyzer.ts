// Text analysis for lexical retrieval: Unicode-aware tokens, case and accent folding, English
// possessives, a Lucene-style stop set and the Porter stemmer — the pipeline behind the published
// BM25 baselines, so our scores are comparable with them. The analyzer is versioned: an index built
// with another version must be rebuilt, never silently queried.
import { stemmer } from "stemmer";

export const ANALYZER_VERSION = "en-porter-1";

/** Lucene's English stop set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET). */
const STOP_WORDS = new Set([
  "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
  "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
  "will", "with",
]);

// Letters and digits, with inner dots or commas between digits kept ("3.5", "340,000") and inner
// apostrophes kept so that possessives can be dropped.
export const TOKEN = /[\p{L}\p{N}\p{M}]+(?:(?:(?<=\p{N})[.,](?=\p{N})|['’](?=\p{L}))[\p{L}\p{N}\p{M}]+)*/gu;
const COMBINING_MARKS = /\p{M}+/gu;
const MAX_TOKEN_LENGTH = 64;

export interface Token {
  term: string;
  /** Span of the token in the analysed string (UTF-16 offsets). */
  start: number;
  end: number;
}

function normalizeWord(raw: string): string {
  let w = raw.normalize("NFKD").replace(COMBINING_MARKS, "").toLowerCase();
  w = w.replace(/['’]s$/u, "").replace(/['’]/gu, "");
  return w;
}

function stemWord(w: string): string {
  // Porter is defined for English letters only; numbers and other scripts pass through.
  return /^[a-z]+$/.test(w) ? stemmer(w) : w;
}

function termOf(raw: string): string {
  const w = normalizeWord(raw);
  return w.length === 0 || w.length > MAX_TOKEN_LENGTH || STOP_WORDS.has(w) ? "" : stemWord(w);
}

// Word → term ("" = dropped), memoised: folding and stemming are most of the analyzer's time and
// text repeats its words (Zipf). The table is keyed by the word's characters where they stand in
// the text (hashed while probing), so a repeated word costs no string allocation and no string
// hashing. Open addressing; bounded, cleared when full.
const TABLE_BITS = 19;
const TABLE_MASK = (1 << TABLE_BITS) - 1;
const TABLE_MAX = 200_000;
const slots = new Int32Array(1 << TABLE_BITS);
const hashes = new Int32Array(TABLE_MAX);
const words: string[] = [];
const terms: string[] = [];

function termAt(text: string, start: number, end: number): string {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  let s = h & TABLE_MASK;
  for (let e = slots[s]!; e !== 0; s = (s + 1) & TABLE_MASK, e = slots[s]!) {
    if (hashes[e - 1] !== h) continue;
    const w = words[e - 1]!;
    if (w.length !== end - start) continue;
    let i = 0;
    while (i < w.length && w.charCodeAt(i) === text.charCodeAt(start + i)) i++;
    if (i === w.length) return terms[e - 1]!;
  }
  const raw = text.slice(start, end);
  const term = termOf(raw);
  if (words.length >= TABLE_MAX) {
    slots.fill(0);
    words.length = terms.length = 0;
    s = h & TABLE_MASK;
  }
  words.push(raw);
  terms.push(term);
  hashes[words.length - 1] = h;
  slots[s] = words.length;
  return term;
}

// ASCII letters (1) and digits (2): TOKEN's classes restricted to ASCII.
const ASCII = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ASCII[c] = 2;
for (let c = 65; c <= 90; c++) ASCII[c] = ASCII[c + 32] = 1;
const TOKEN_FROM = new RegExp(TOKEN.source, "gu");

/** TOKEN's matches from `from` on. */
function regexTokens(text: string, from: number, emit: (start: number, end: number) => void): void {
  TOKEN_FROM.lastIndex = from;
  for (let m = TOKEN_FROM.exec(text); m !== null; m = TOKEN_FROM.exec(text)) emit(m.index, m.index + m[0].length);
}

/**
 * Calls `emit` with the spans of exactly TOKEN's matches, in order. ASCII text is scanned by hand (three times
 * faster than the regex's match objects); from the first non-ASCII character next to or between
 * tokens, TOKEN takes over where the last token ended, which is where its own scan would resume.
 */
export function scanTokens(text: string, emit: (start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  let resume = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c >= 128) return regexTokens(text, resume, emit);
    if (ASCII[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    for (;;) {
      while (i < n && (c = text.charCodeAt(i)) < 128 && ASCII[c] !== 0) i++;
      if (i >= n) break;
      if (c >= 128) return regexTokens(text, resume, emit);
      if (i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        // A digit's inner "." or "," before a digit, or an apostrophe before a letter, continues it.
        const joins = ((c === 46 || c === 44) && ASCII[text.charCodeAt(i - 1)] === 2) || c === 39;
        if (joins && d >= 128) return regexTokens(text, resume, emit);
        if (joins && ASCII[d] === (c === 39 ? 1 : 2)) {
          i += 2;
          continue;
        }
      }
      break;
    }
    emit(start, i);
    resume = i;
  }
}

/** Analysed tokens with their spans; stop words and over-long tokens are dropped. */
export function analyzeWithSpans(text: string): Token[] {
  const out: Token[] = [];
  scanTokens(text, (start, end) => {
    const term = termAt(text, start, end);
    if (term !== "") out.push({ term, start, end });
  });
  return out;
}

/** Analysed terms of a text, in order, with repeats. */
export function analyze(text: string): string[] {
  const out: string[] = [];
  scanTokens(text, (start, end) => {
    const term = termAt(text, start, end);
    if (term !== "") out.push(term);
  });
  return out;
}

/** Term frequencies of a text. */
export function termFrequencies(text: string): Map<string, number> {
  const tf = new Map<string, number>();
  scanTokens(text, (start, end) => {
    const term = termAt(text, start, end);
    if (term !== "") tf.set(term, (tf.get(term) ?? 0) + 1);
  });
  return tf;
}
