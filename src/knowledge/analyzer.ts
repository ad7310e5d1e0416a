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

// Word → term ("" = dropped), memoised: folding and stemming are most of the analyzer's time and
// text repeats its words (Zipf). Bounded; cleared when full.
const TERM_CACHE = new Map<string, string>();
const TERM_CACHE_SIZE = 200_000;

function termOf(raw: string): string {
  let term = TERM_CACHE.get(raw);
  if (term === undefined) {
    const w = normalizeWord(raw);
    term = w.length === 0 || w.length > MAX_TOKEN_LENGTH || STOP_WORDS.has(w) ? "" : stemWord(w);
    if (TERM_CACHE.size >= TERM_CACHE_SIZE) TERM_CACHE.clear();
    TERM_CACHE.set(raw, term);
  }
  return term;
}

// ASCII letters (1) and digits (2): TOKEN's classes restricted to ASCII.
const ASCII = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ASCII[c] = 2;
for (let c = 65; c <= 90; c++) ASCII[c] = ASCII[c + 32] = 1;
const TOKEN_FROM = new RegExp(TOKEN.source, "gu");

/** TOKEN's matches from `from` on. */
function regexTokens(text: string, from: number, emit: (raw: string, start: number) => void): void {
  TOKEN_FROM.lastIndex = from;
  for (let m = TOKEN_FROM.exec(text); m !== null; m = TOKEN_FROM.exec(text)) emit(m[0], m.index);
}

/**
 * Calls `emit` with exactly TOKEN's matches, in order. ASCII text is scanned by hand (three times
 * faster than the regex's match objects); from the first non-ASCII character next to or between
 * tokens, TOKEN takes over where the last token ended, which is where its own scan would resume.
 */
export function scanTokens(text: string, emit: (raw: string, start: number) => void): void {
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
    emit(text.slice(start, i), start);
    resume = i;
  }
}

/** Analysed tokens with their spans; stop words and over-long tokens are dropped. */
export function analyzeWithSpans(text: string): Token[] {
  const out: Token[] = [];
  scanTokens(text, (raw, start) => {
    const term = termOf(raw);
    if (term !== "") out.push({ term, start, end: start + raw.length });
  });
  return out;
}

/** Analysed terms of a text, in order, with repeats. */
export function analyze(text: string): string[] {
  const out: string[] = [];
  scanTokens(text, (raw) => {
    const term = termOf(raw);
    if (term !== "") out.push(term);
  });
  return out;
}

/** Term frequencies of a text. */
export function termFrequencies(text: string): Map<string, number> {
  const tf = new Map<string, number>();
  scanTokens(text, (raw) => {
    const term = termOf(raw);
    if (term !== "") tf.set(term, (tf.get(term) ?? 0) + 1);
  });
  return tf;
}
