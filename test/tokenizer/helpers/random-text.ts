// A seeded generator of awkward Unicode text for property tests: words, numbers, contractions,
// long runs of spaces, lone "\r", control characters, Latin-1, combining marks, CJK, Hangul, RTL,
// emoji (with ZWJ sequences, skin tones, flags), astral letters and digits, BOM, NBSP and line
// separators, special-token look-alikes, and random code points from anywhere in Unicode.
import { uniformSource } from "../../../src/core/random.js";

/** The repository's one seeded generator, as a function returning floats in [0, 1). */
export const rng = uniformSource;

export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const WORDS = ["the", "The", "and", "of", "to", "Hello", "world", "naïve", "café", "über", "ﬁnance", "i", "I", "a", "don", "we", "x"];
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'", "''", "'x"];
const PUNCT = [".", ",", "!", "?", "...", "--", "(", ")", "\"", "#", "$", "%", "&", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]", "^", "_", "`", "{", "|", "}", "~", "«", "»", "—", "…", "¿"];
const SPACES = [" ", "  ", "\t", "\n", "\r", "\r\n", "\n\n", "\u000b", "\f", "\u0085", "\u00a0", "\u1680", "\u2003", "\u2028", "\u2029", "\u202f", "\u3000", "\ufeff"];
const SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|startoftext|>", "<|pad|>", "<|im_end", "|>", "<|"];
const EMOJI = ["😀", "👍🏽", "👩‍👩‍👧‍👦", "🇫🇷", "❤️", "🏳️‍🌈", "🤖", "🧑🏿‍🚀", "\u{1f600}\u{fe0f}"];

function codePoint(r: () => number, lo: number, hi: number): string {
  return String.fromCodePoint(int(r, lo, hi));
}

/** Any Unicode scalar value (no surrogates), weighted toward the BMP. */
function anyScalar(r: () => number): string {
  for (;;) {
    const cp = r() < 0.7 ? int(r, 0, 0xffff) : int(r, 0x10000, 0x10ffff);
    if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
  }
}

function part(r: () => number): string {
  switch (int(r, 0, 17)) {
    case 0:
    case 1:
      return pick(r, WORDS);
    case 2:
      return " " + pick(r, WORDS);
    case 3:
      return String(int(r, 0, 1e6));
    case 4:
      return pick(r, CONTRACTIONS);
    case 5:
      return pick(r, PUNCT);
    case 6:
      return pick(r, SPACES);
    case 7:
      return " ".repeat(int(r, 2, 40)) + (r() < 0.5 ? "" : "\n");
    case 8:
      return String.fromCharCode(int(r, 0, 0x1f)) + (r() < 0.3 ? "\u007f" : "");
    case 9:
      return "e" + codePoint(r, 0x300, 0x36f) + (r() < 0.5 ? codePoint(r, 0x300, 0x36f) : ""); // combining marks
    case 10:
      return Array.from({ length: int(r, 1, 6) }, () => codePoint(r, 0x4e00, 0x9fff)).join(""); // CJK
    case 11:
      return Array.from({ length: int(r, 1, 4) }, () => codePoint(r, 0xac00, 0xd7a3)).join(""); // Hangul
    case 12:
      return pick(r, ["שלום", "مرحبا", "Привет", "Ελλάδα", "नमस्ते", "ไทย", "١٢٣", "²³", "Ⅻ"]);
    case 13:
      return pick(r, EMOJI);
    case 14:
      return pick(r, ["𝐀𝐁𝐂", "𝟙𝟚", "𐐷", "𝔘𝔫𝔦"]); // astral letters and digits
    case 15:
      return pick(r, SPECIALS);
    case 16:
      return codePoint(r, 0x80, 0xff);
    default:
      return anyScalar(r);
  }
}

/** A random valid Unicode string of about `maxParts` parts. */
export function randomText(r: () => number, maxParts = 12): string {
  let s = "";
  const n = int(r, 0, maxParts);
  for (let i = 0; i < n; i++) s += part(r);
  return s;
}
