// SentencePiece encoding of a GGUF "llama" vocabulary, as llama.cpp does it: the text (spaces shown
// as ▁) is split into characters, then the adjacent pair whose concatenation is a token with the
// highest score is merged, again and again (ties: the leftmost pair); what is left maps to tokens,
// and a character that is no token falls back to its UTF-8 bytes' <0xXX> tokens.
import { StrataError } from "../core/errors.js";
import { Heap } from "./heap.js";

interface Pair {
  left: number;
  right: number;
  score: number;
  /** Length (in UTF-16 units) of the merged text, to drop pairs made stale by other merges. */
  size: number;
}

export class SentencePieceModel {
  private readonly byteIds: Int32Array;

  constructor(
    private readonly ids: ReadonlyMap<string, number>,
    private readonly scores: readonly number[],
  ) {
    this.byteIds = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const hex = `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
      const id = ids.get(hex) ?? ids.get(String.fromCharCode(b));
      if (id !== undefined) this.byteIds[b] = id;
    }
  }

  /** Encodes `text` (spaces already replaced by ▁) and appends the ids to `out`. */
  encode(text: string, out: number[]): void {
    const chars = Array.from(text);
    const n = chars.length;
    if (n === 0) return;
    const str = chars.slice();
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const heap = new Heap<Pair>((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));
    const tryPair = (l: number, r: number): void => {
      if (l < 0 || r < 0) return;
      const merged = str[l]! + str[r]!;
      const id = this.ids.get(merged);
      if (id === undefined) return;
      heap.push({ left: l, right: r, score: this.scores[id] ?? 0, size: merged.length });
    };
    for (let i = 1; i < n; i++) tryPair(i - 1, i);
    for (let p = heap.pop(); p; p = heap.pop()) {
      const l = str[p.left]!;
      const r = str[p.right]!;
      if (l === "" || r === "" || l.length + r.length !== p.size || next[p.left] !== p.right) continue;
      str[p.left] = l + r;
      str[p.right] = "";
      next[p.left] = next[p.right]!;
      if (next[p.right]! >= 0) prev[next[p.right]!] = p.left;
      tryPair(prev[p.left]!, p.left);
      tryPair(p.left, next[p.left]!);
    }
    for (let i = 0; i >= 0; i = next[i]!) this.emit(str[i]!, out);
  }

  private emit(piece: string, out: number[]): void {
    const id = this.ids.get(piece);
    if (id !== undefined) {
      out.push(id);
      return;
    }
    for (const b of Buffer.from(piece, "utf8")) {
      const byteId = this.byteIds[b]!;
      if (byteId < 0) throw new StrataError("TOKENIZER_INVALID", `the vocabulary has no token for byte 0x${b.toString(16)} (no <0x..> byte tokens)`, "this SentencePiece vocabulary cannot encode the text; use llama.cpp for it");
      out.push(byteId);
    }
  }
}
