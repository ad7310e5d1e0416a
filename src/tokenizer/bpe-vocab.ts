// GPT-2-style byte-level BPE of a GGUF "gpt2" vocabulary, as llama.cpp does it: the text is split by
// the pre-tokenizer the file names (tokenizer.ggml.pre: one or more regular expressions applied in
// turn, keeping matches and the gaps between them), each piece is turned into GPT-2's byte
// characters, and within a piece the adjacent pair with the best (lowest) merge rank is merged until
// none is left. Llama 3's "llama-bpe" takes a piece that is itself a token whole ("ignore merges").
import { bytesToMapped } from "./bytes.js";
import { Heap } from "./heap.js";
import type { PreTokenizerName } from "./vocab.js";

const CONTRACTIONS_ANY_CASE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3_TAIL = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The regular expressions of each pre-tokenizer, applied one after the other (llama-vocab.cpp's lists). */
const SPLITS: Record<PreTokenizerName, readonly string[]> = {
  "llama-bpe": [`${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}${LLAMA3_TAIL}`],
  llama3: [`${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}${LLAMA3_TAIL}`],
  "llama-v3": [`${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}${LLAMA3_TAIL}`],
  qwen2: [`${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${LLAMA3_TAIL}`],
  smollm: ["\\p{N}", GPT2],
  "gpt-2": [GPT2],
  default: ["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"],
};

/** Whether a pre-tokenizer takes a piece that is already a token whole (llama.cpp's ignore_merges). */
export function ignoresMerges(pre: PreTokenizerName): boolean {
  return pre === "llama-bpe" || pre === "llama3" || pre === "llama-v3";
}

/** Whether llama.cpp tidies spaces before punctuation and contractions when detokenizing (clean_spaces). */
export function cleansSpaces(pre: PreTokenizerName): boolean {
  return pre !== "qwen2" && pre !== "smollm";
}

/** Splits text into pieces as `pre` does: every regex splits every piece into its matches and the gaps. */
export function preTokenize(text: string, pre: PreTokenizerName): string[] {
  let pieces = [text];
  for (const source of SPLITS[pre]) {
    const re = new RegExp(source, "gu");
    const next: string[] = [];
    for (const piece of pieces) {
      let at = 0;
      for (const m of piece.matchAll(re)) {
        if (m[0].length === 0) continue;
        if (m.index > at) next.push(piece.slice(at, m.index));
        next.push(m[0]);
        at = m.index + m[0].length;
      }
      if (at < piece.length) next.push(piece.slice(at));
    }
    pieces = next;
  }
  return pieces;
}

interface Bigram {
  left: number;
  right: number;
  rank: number;
  text: string;
}

/** Pieces whose ids are remembered (text repeats its words; the merge loop is the costly part). */
const CACHE_LIMIT = 65536;

export class BytePairModel {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly ignoreMerges: boolean;

  constructor(
    private readonly ids: ReadonlyMap<string, number>,
    merges: readonly string[],
    private readonly pre: PreTokenizerName,
  ) {
    merges.forEach((m, i) => {
      const cut = m.indexOf(" ", 1);
      const key = cut < 0 ? " " : m; // a merge without a separator pairs two empty strings: never used
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
    this.ignoreMerges = ignoresMerges(pre);
  }

  /** Encodes raw text (no special tokens) and appends the ids to `out`. */
  encode(text: string, out: number[]): void {
    for (const piece of preTokenize(text, this.pre)) this.encodeWord(bytesToMapped(Buffer.from(piece, "utf8")), out);
  }

  private encodeWord(word: string, out: number[]): void {
    const cached = this.cache.get(word);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    const start = out.length;
    this.mergeWord(word, out);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, out.slice(start));
  }

  private mergeWord(word: string, out: number[]): void {
    const whole = this.ignoreMerges ? this.ids.get(word) : undefined;
    if (whole !== undefined) {
      out.push(whole);
      return;
    }
    const sym = Array.from(word);
    const n = sym.length;
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const heap = new Heap<Bigram>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left));
    const tryPair = (l: number, r: number): void => {
      if (l < 0 || r < 0) return;
      const rank = this.ranks.get(`${sym[l]} ${sym[r]}`);
      if (rank !== undefined) heap.push({ left: l, right: r, rank, text: sym[l]! + sym[r]! });
    };
    for (let i = 1; i < n; i++) tryPair(i - 1, i);
    for (let b = heap.pop(); b; b = heap.pop()) {
      const l = sym[b.left]!;
      const r = sym[b.right]!;
      if (l === "" || r === "" || l + r !== b.text) continue;
      sym[b.left] = b.text;
      sym[b.right] = "";
      next[b.left] = next[b.right]!;
      if (next[b.right]! >= 0) prev[next[b.right]!] = b.left;
      tryPair(prev[b.left]!, b.left);
      tryPair(b.left, next[b.left]!);
    }
    for (let i = 0; i >= 0 && n > 0; i = next[i]!) {
      const id = this.ids.get(sym[i]!);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      // llama.cpp's fallback: each UTF-8 byte of the symbol that is itself a token (others are dropped).
      for (const byte of Buffer.from(sym[i]!, "utf8")) {
        const single = this.ids.get(String.fromCharCode(byte));
        if (single !== undefined) out.push(single);
      }
    }
  }
}
