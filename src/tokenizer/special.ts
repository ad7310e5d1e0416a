// Special tokens: their default strings and the rules they must follow.
//
// Strata uses ChatML for conversations (`<|im_start|>role\ncontent<|im_end|>\n`): roles stay plain
// text after a special start marker, so any role name costs no new token, and llama.cpp recognises
// the template. Every tokenizer has exactly these five, in this order, right after the learned
// vocabulary, followed by any extra special tokens the caller asked for:
//
//   bos      <|startoftext|>   begins a sequence (added when `addBosToken` is on)
//   eos      <|endoftext|>     ends a document; separates documents in pretraining
//   pad      <|pad|>           fills batches; never predicted
//   imStart  <|im_start|>      opens a chat turn
//   imEnd    <|im_end|>        closes a chat turn; generation stops on it (end of turn)
import { StrataError } from "../core/errors.js";

export interface SpecialTokens {
  bos: string;
  eos: string;
  pad: string;
  imStart: string;
  imEnd: string;
}

export type SpecialTokenKind = keyof SpecialTokens;

/** The order the five special tokens take in the vocabulary. */
export const SPECIAL_TOKEN_KINDS: readonly SpecialTokenKind[] = ["bos", "eos", "pad", "imStart", "imEnd"];

export const DEFAULT_SPECIAL_TOKENS: Readonly<SpecialTokens> = Object.freeze({
  bos: "<|startoftext|>",
  eos: "<|endoftext|>",
  pad: "<|pad|>",
  imStart: "<|im_start|>",
  imEnd: "<|im_end|>",
});

/**
 * The special-token strings in id order (the five, then the extras), checked: non-empty, unique,
 * and no more than 256 characters. (That no learned token has the same text is checked when the
 * vocabulary is built.)
 */
export function specialTokenList(tokens: Partial<SpecialTokens> = {}, extra: readonly string[] = []): string[] {
  const all = { ...DEFAULT_SPECIAL_TOKENS, ...tokens };
  const list = [...SPECIAL_TOKEN_KINDS.map((k) => all[k]), ...extra];
  const seen = new Set<string>();
  for (const s of list) {
    if (typeof s !== "string" || s.length === 0 || s.length > 256) {
      throw new StrataError("USAGE", `special token ${JSON.stringify(s)} must be a string of 1 to 256 characters`, "pick another string for it");
    }
    if (seen.has(s)) throw new StrataError("USAGE", `special token ${JSON.stringify(s)} is given twice`, "give every special token its own string");
    seen.add(s);
  }
  return list;
}

/** Escapes a string for use inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}
