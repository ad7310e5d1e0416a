// Pre-tokenisation: text is cut into "words" before BPE, and merges never cross a word boundary.
// The split is GPT-2's (a published fact of the format, and what llama.cpp runs for a vocabulary
// whose `tokenizer.ggml.pre` is "gpt-2" or "trillion"; see gguf.ts):
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// contractions; letters with at most one leading space; numbers likewise; runs of other characters
// likewise; whitespace, where a run followed by a word leaves its last space to that word. Every
// character falls in one alternative, so the pieces always concatenate back to the input.
//
// `\s` here is Unicode's White_Space property (as in Python's `regex` and llama.cpp's tables), not
// JavaScript's `\s`, which differs on U+0085, U+FEFF and a few others.
//
// Two implementations: the regex itself (`pretokenizeReference`, the definition) and a scanner
// over character classes (`pieceEnd`, 3–4× faster and allocation-free), which encoding and
// training use. Tests check that they split every input alike.

/** GPT-2's split, in the syntax of JavaScript's `u` regexes with White_Space spelled out. */
export const GPT2_SPLIT_SOURCE =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+" +
  "|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

const SPLIT = new RegExp(GPT2_SPLIT_SOURCE, "gu");

/** The pieces by the regex itself: the reference the scanner is tested against. */
export function pretokenizeReference(text: string): string[] {
  SPLIT.lastIndex = 0;
  return text.match(SPLIT) ?? [];
}

// Character classes of the split.
const OTHER = 0;
const LETTER = 1;
const NUMBER = 2;
const SPACE = 3;

const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_SPACE = /^\p{White_Space}$/u;

function classify(ch: string): number {
  if (IS_LETTER.test(ch)) return LETTER;
  if (IS_NUMBER.test(ch)) return NUMBER;
  if (IS_SPACE.test(ch)) return SPACE;
  return OTHER;
}

let bmpTable: Uint8Array | undefined;
const astralClasses = new Map<number, number>();

/** Classes of the 65,536 BMP code units (surrogates: OTHER), built once on first use (~10 ms). */
function bmp(): Uint8Array {
  if (!bmpTable) {
    const t = new Uint8Array(0x10000);
    for (let c = 0; c < 0x10000; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      if (c < 0x80) {
        t[c] = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? LETTER : c >= 0x30 && c <= 0x39 ? NUMBER : (c >= 9 && c <= 13) || c === 32 ? SPACE : OTHER;
      } else {
        t[c] = classify(String.fromCharCode(c));
      }
    }
    bmpTable = t;
  }
  return bmpTable;
}

function astralClass(cp: number): number {
  let c = astralClasses.get(cp);
  if (c === undefined) {
    c = classify(String.fromCodePoint(cp));
    astralClasses.set(cp, c);
  }
  return c;
}

/**
 * The end of the piece that starts at `i` in text[0, len): the scanner form of the regex above.
 * (Whitespace is all in the BMP; an astral character is one unit of a run; a lone surrogate is
 * OTHER, as in the regex.)
 */
export function pieceEnd(text: string, i: number, len: number): number {
  const table = bmpTable ?? bmp();
  const c = text.charCodeAt(i);
  // 's 't 'm 'd 're 've 'll (lower case only)
  if (c === 0x27 && i + 1 < len) {
    const d = text.charCodeAt(i + 1);
    if (d === 0x73 || d === 0x74 || d === 0x6d || d === 0x64) return i + 2;
    if (i + 2 < len) {
      const e = text.charCodeAt(i + 2);
      if ((d === 0x72 && e === 0x65) || (d === 0x76 && e === 0x65) || (d === 0x6c && e === 0x6c)) return i + 3;
    }
  }
  // An optional single space, then a run of letters, of numbers, or of other characters.
  let j = i;
  if (c === 0x20 && i + 1 < len) j = i + 1;
  let k = j;
  let cls = -1;
  while (k < len) {
    const u = text.charCodeAt(k);
    let kc: number;
    let w = 1;
    if (u >= 0xd800 && u <= 0xdbff && k + 1 < len) {
      const v = text.charCodeAt(k + 1);
      if (v >= 0xdc00 && v <= 0xdfff) {
        kc = astralClass(((u - 0xd800) << 10) + (v - 0xdc00) + 0x10000);
        w = 2;
      } else kc = OTHER;
    } else kc = table[u]!;
    if (cls < 0) {
      if (kc === SPACE) break;
      cls = kc;
    } else if (kc !== cls) break;
    k += w;
  }
  if (cls >= 0) return k;
  // Whitespace at i: the whole run at the end of the text; else the run less its last character
  // (which goes with the word after it), unless the run is a single character.
  k = i + 1;
  while (k < len && table[text.charCodeAt(k)] === SPACE) k++;
  if (k === len || k - i === 1) return k;
  return k - 1;
}

/** The pre-tokenised pieces of `text`, in order; they concatenate to `text`. */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  const len = text.length;
  for (let i = 0; i < len; ) {
    const e = pieceEnd(text, i, len);
    out.push(text.slice(i, e));
    i = e;
  }
  return out;
}

/**
 * Code units at the end of a buffer whose split may still change when more text follows: a match
 * looks at most a contraction (3 characters) or one character of look-ahead past its end, so a
 * piece that ends earlier than this is final.
 */
const UNSETTLED_TAIL = 8;

/** A piece longer than this is cut even if it may continue (a megabyte of spaces, say), so memory stays bounded. */
const MAX_CARRY = 1 << 20;

/**
 * Splits text that arrives in chunks exactly as `pretokenize` splits the whole: each call reports
 * the pieces that no later text can change and keeps the rest for the next call. (The one
 * exception, documented: a single piece longer than a mebibyte is cut at a chunk boundary.)
 */
export class StreamingPretokenizer {
  private carry = "";

  /** Adds a chunk; calls `onPiece(text, start, end)` for every piece that is now final. */
  push(chunk: string, onPiece: (text: string, start: number, end: number) => void): void {
    const text = this.carry + chunk;
    const len = text.length;
    const settled = len - UNSETTLED_TAIL;
    let i = 0;
    while (i < len) {
      const e = pieceEnd(text, i, len);
      if (e > settled && len - i <= MAX_CARRY) break;
      onPiece(text, i, e);
      i = e;
    }
    this.carry = i === 0 ? text : text.slice(i);
  }

  /** Ends the text: reports what was kept back. */
  end(onPiece: (text: string, start: number, end: number) => void): void {
    const text = this.carry;
    for (let i = 0; i < text.length; ) {
      const e = pieceEnd(text, i, text.length);
      onPiece(text, i, e);
      i = e;
    }
    this.carry = "";
  }
}
