// Training byte-level BPE.
//
// 1. Count words. Files are read in chunks (never whole), checked to be UTF-8, pre-tokenised GPT-2's
//    way, and each distinct piece is counted in a Map. Memory grows with the distinct pieces, not
//    with the size of the data.
// 2. Learn merges. Every distinct word is a sequence of token ids (its bytes at first). Pair counts
//    are weighted by word frequency. A max-heap holds the pairs by count, the most frequent first,
//    ties to the smaller (left id, right id) so training is deterministic. Each step pops the top
//    pair, makes it a token, and rewrites only the words that contain it (an index from pair to
//    words finds them); the counts of the pairs around each rewritten spot are updated in place,
//    and pairs whose count grew go back on the heap. Entries whose count has since fallen are
//    fixed when they reach the top (lazy deletion), so nothing is recounted from scratch.
// 3. Stop at the asked vocabulary size: 256 bytes + learned tokens + special tokens.
//
// When the data runs out of pairs seen at least `minPairCount` times before that size, training
// fails with VOCAB_TOO_LARGE, saying the largest size the data supports; with
// `whenDataRunsOut: "stop"` it returns the smaller tokenizer and a warning instead.
import { open, type FileHandle } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { BYTE_TO_CHAR, utf8Encode } from "./bytes.js";
import { readUtf8Chunks } from "./utf8-reader.js";
import { StreamingPretokenizer } from "./pretokenize.js";
import { specialTokenList, type SpecialTokens } from "./special.js";
import { Tokenizer } from "./tokenizer.js";

export interface TrainTokenizerOptions extends LongOperationOptions {
  /** Tokens in all: 256 bytes + learned + special (5 + extras). */
  vocabSize: number;
  /** A pair must occur at least this often (weighted by word counts) to be merged. Default 2. */
  minPairCount?: number;
  /** When the data has too few pairs for `vocabSize`: "error" (default) or "stop" with a warning. */
  whenDataRunsOut?: "error" | "stop";
  specialTokens?: Partial<SpecialTokens>;
  extraSpecialTokens?: readonly string[];
  addBosToken?: boolean;
  /** Bytes read from a file at a time (default 1 MiB). */
  chunkBytes?: number;
}

export interface TrainTokenizerStats {
  /** Bytes of text read. */
  bytes: number;
  /** Pre-tokenised pieces in the data, and distinct ones. */
  words: number;
  distinctWords: number;
  /** Merges learned, and the new tokens they made (fewer when two merges made the same bytes). */
  merges: number;
  learnedTokens: number;
  /** True when the data ran out of pairs before `vocabSize`. */
  stoppedEarly: boolean;
}

export interface TrainTokenizerResult {
  tokenizer: Tokenizer;
  stats: TrainTokenizerStats;
  warnings: string[];
}

/** Distinct pre-tokenised pieces with their counts. */
export class WordCounts {
  readonly counts = new Map<string, number>();
  words = 0;
  bytes = 0;
  private readonly splitter = new StreamingPretokenizer();
  private readonly add = (text: string, start: number, end: number): void => {
    const piece = text.slice(start, end);
    this.counts.set(piece, (this.counts.get(piece) ?? 0) + 1);
    this.words++;
  };

  /** Adds the next chunk of one text. */
  push(chunk: string): void {
    this.splitter.push(chunk, this.add);
  }

  /** Ends the current text (the next push starts a new one). */
  endText(): void {
    this.splitter.end(this.add);
  }
}

function checkOptions(options: TrainTokenizerOptions): { specials: string[]; learnTarget: number; minPairCount: number } {
  const specials = specialTokenList(options.specialTokens, options.extraSpecialTokens ?? []);
  const { vocabSize } = options;
  const least = 256 + specials.length;
  if (!Number.isInteger(vocabSize) || vocabSize < least || vocabSize > 1 << 20) {
    throw new StrataError("USAGE", `vocabulary size ${vocabSize} is out of range`, `ask for a whole number from ${least} (256 bytes + ${specials.length} special tokens) to ${1 << 20}`);
  }
  const minPairCount = options.minPairCount ?? 2;
  if (!Number.isInteger(minPairCount) || minPairCount < 1) {
    throw new StrataError("USAGE", `minPairCount ${minPairCount} must be a whole number of at least 1`, "use 2 (the default) or 1 to merge pairs seen once");
  }
  return { specials, learnTarget: vocabSize - least, minPairCount };
}

/** Trains on text files, read in chunks. */
export async function trainTokenizer(files: readonly string[], options: TrainTokenizerOptions): Promise<TrainTokenizerResult> {
  checkOptions(options);
  if (files.length === 0) throw new StrataError("USAGE", "no training files given", "name one or more UTF-8 text files");
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  const counts = new WordCounts();
  const handles: { path: string; fh: FileHandle; size: number }[] = [];
  try {
    for (const path of files) {
      const fh = await openTextFile(path);
      handles.push({ path, fh, size: 0 });
      const st = await fh.stat();
      if (st.isDirectory()) throw new StrataError("USAGE", `${path} is a folder, not a text file`, "name the text files inside it");
      if (st.size === 0) throw new StrataError("EMPTY_FILE", `training file ${path} is empty`, "leave it out or give it text");
      handles[handles.length - 1]!.size = st.size;
    }
    const total = handles.reduce((s, h) => s + h.size, 0);
    let done = 0;
    for (const { path, fh } of handles) {
      await readUtf8Chunks(fh, path, chunkBytes, (text, bytes) => {
        counts.push(text);
        counts.bytes += bytes;
        done += bytes;
        options.onProgress?.({ phase: "tokenizer:read", done, total, item: path });
        throwIfAborted(options.signal);
      });
      counts.endText();
    }
  } finally {
    await Promise.all(handles.map((h) => h.fh.close()));
  }
  return trainOnCounts(counts, options);
}

/** Trains on strings (each one a separate text: no word spans two of them). */
export async function trainTokenizerFromTexts(texts: Iterable<string>, options: TrainTokenizerOptions): Promise<TrainTokenizerResult> {
  checkOptions(options);
  const counts = new WordCounts();
  for (const t of texts) {
    counts.push(t);
    counts.endText();
    counts.bytes += Buffer.byteLength(t, "utf8");
    throwIfAborted(options.signal);
  }
  return trainOnCounts(counts, options);
}

async function openTextFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `training file ${path} does not exist`, "check the path");
    if (code === "EACCES" || code === "EPERM") throw new StrataError("UNREADABLE", `training file ${path} cannot be read (permission denied)`, "make it readable or leave it out");
    throw new StrataError("UNREADABLE", `training file ${path} cannot be opened: ${(e as Error).message}`, "check the path", { cause: e });
  }
}

/** A max-heap of (count, pair key): larger count first, then smaller key. */
class PairHeap {
  private count: number[] = [];
  private key: number[] = [];

  get size(): number {
    return this.count.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.count[i]!;
    const cj = this.count[j]!;
    return ci > cj || (ci === cj && this.key[i]! < this.key[j]!);
  }

  private swap(i: number, j: number): void {
    const c = this.count[i]!;
    this.count[i] = this.count[j]!;
    this.count[j] = c;
    const k = this.key[i]!;
    this.key[i] = this.key[j]!;
    this.key[j] = k;
  }

  private down(i: number): void {
    const n = this.count.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.above(l, m)) m = l;
      if (r < n && this.above(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  /** Builds the heap from all entries at once (O(n)). */
  static from(entries: Iterable<[number, number]>): PairHeap {
    const h = new PairHeap();
    for (const [key, count] of entries) {
      h.key.push(key);
      h.count.push(count);
    }
    for (let i = (h.count.length >> 1) - 1; i >= 0; i--) h.down(i);
    return h;
  }

  push(count: number, key: number): void {
    this.count.push(count);
    this.key.push(key);
    let i = this.count.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  topCount(): number {
    return this.count[0]!;
  }

  topKey(): number {
    return this.key[0]!;
  }

  pop(): void {
    const last = this.count.length - 1;
    this.swap(0, last);
    this.count.pop();
    this.key.pop();
    this.down(0);
  }
}

const YIELD_EVERY_MS = 50;

async function trainOnCounts(wc: WordCounts, options: TrainTokenizerOptions): Promise<TrainTokenizerResult> {
  const { specials, learnTarget, minPairCount } = checkOptions(options);
  const { signal, onProgress } = options;
  if (wc.counts.size === 0) throw new StrataError("EMPTY_FILE", "the training data has no text", "give the tokenizer text to learn from");

  // Words as id sequences, with their counts.
  const nWords = wc.counts.size;
  const words: Int32Array[] = new Array<Int32Array>(nWords);
  const freq = new Float64Array(nWords);
  let longest = 0;
  {
    let w = 0;
    let scratch: Uint8Array = new Uint8Array(64);
    for (const [piece, count] of wc.counts) {
      const enc = utf8Encode(piece, scratch);
      scratch = enc.buf;
      words[w] = Int32Array.from(enc.buf.subarray(0, enc.length));
      freq[w] = count;
      longest = Math.max(longest, enc.length);
      w++;
    }
  }

  // Pair keys: a * KB + b, unique while ids stay below KB; key order is (a, b) order.
  const KB = 256 + learnTarget;
  const counts = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < nWords; w++) {
    const s = words[w]!;
    const f = freq[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i]! * KB + s[i + 1]!;
      counts.set(k, (counts.get(k) ?? 0) + f);
      const list = where.get(k);
      if (list === undefined) where.set(k, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  const heap = PairHeap.from(counts.entries());

  const texts: string[] = BYTE_TO_CHAR.slice();
  const idOfText = new Map<string, number>(texts.map((t, i) => [t, i]));
  const merges: [number, number][] = [];
  const lastStep = new Int32Array(nWords).fill(-1);
  const consumed = new Uint8Array(longest + 1);
  const isNew = new Uint8Array(longest + 1);
  const out = new Int32Array(longest + 1);
  let learned = 0;
  let stoppedEarly = false;
  let lastYield = performance.now();
  const report = (): void => onProgress?.({ phase: "tokenizer:merge", done: learned, total: learnTarget });
  report();

  const dec = (k: number, f: number): void => {
    const c = counts.get(k)! - f;
    if (c > 0) counts.set(k, c);
    else counts.delete(k);
  };

  while (learned < learnTarget) {
    if (heap.size === 0) {
      stoppedEarly = true;
      break;
    }
    const c = heap.topCount();
    const k = heap.topKey();
    heap.pop();
    const current = counts.get(k) ?? 0;
    if (current !== c) {
      if (current > 0) heap.push(current, k); // its count fell since it was pushed
      continue;
    }
    if (c < minPairCount) {
      stoppedEarly = true;
      break;
    }
    const a = Math.floor(k / KB);
    const b = k - a * KB;
    const text = texts[a]! + texts[b]!;
    let id = idOfText.get(text);
    if (id === undefined) {
      id = texts.length;
      texts.push(text);
      idOfText.set(text, id);
      learned++;
    }
    merges.push([a, b]);
    const step = merges.length;
    const list = where.get(k)!;
    where.delete(k);
    counts.delete(k);
    const grown = new Set<number>();

    for (const w of list) {
      if (lastStep[w] === step) continue;
      lastStep[w] = step;
      const s = words[w]!;
      const n = s.length;
      // Rewrite the word, merging every (a, b) left to right; mark what changed.
      let m = 0;
      let hits = 0;
      for (let i = 0; i < n; ) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) {
          consumed[i] = 1;
          consumed[i + 1] = 1;
          isNew[m] = 1;
          out[m++] = id;
          i += 2;
          hits++;
        } else {
          consumed[i] = 0;
          isNew[m] = 0;
          out[m++] = s[i]!;
          i++;
        }
      }
      if (hits === 0) continue; // a stale entry of the index
      const f = freq[w]!;
      // Pairs that touch a merged spot are gone; the rest are the same pairs in the new word.
      for (let i = 0; i + 1 < n; i++) {
        if (consumed[i] || consumed[i + 1]) {
          const old = s[i]! * KB + s[i + 1]!;
          if (old !== k) dec(old, f);
        }
      }
      for (let j = 0; j + 1 < m; j++) {
        if (isNew[j] || isNew[j + 1]) {
          const nk = out[j]! * KB + out[j + 1]!;
          counts.set(nk, (counts.get(nk) ?? 0) + f);
          grown.add(nk);
          const wl = where.get(nk);
          if (wl === undefined) where.set(nk, [w]);
          else if (wl[wl.length - 1] !== w) wl.push(w);
        }
      }
      words[w] = out.slice(0, m);
    }
    for (const nk of grown) heap.push(counts.get(nk)!, nk);

    if ((step & 63) === 0) {
      throwIfAborted(signal);
      const now = performance.now();
      if (now - lastYield > YIELD_EVERY_MS) {
        report();
        await new Promise<void>((resolve) => setImmediate(resolve));
        throwIfAborted(signal);
        lastYield = performance.now();
      }
    }
  }
  report();

  const warnings: string[] = [];
  if (stoppedEarly) {
    const supported = 256 + learned + specials.length;
    const message = `the training data supports at most ${supported} tokens (256 bytes + ${learned} learned from pairs seen at least ${minPairCount} times + ${specials.length} special), not ${options.vocabSize}`;
    if ((options.whenDataRunsOut ?? "error") === "error") {
      throw new StrataError("VOCAB_TOO_LARGE", message, `ask for a vocabulary of ${supported} or less, or train on more text`);
    }
    warnings.push(message);
  }

  const tokenizer = new Tokenizer({
    merges,
    specialTokens: options.specialTokens,
    extraSpecialTokens: options.extraSpecialTokens,
    addBosToken: options.addBosToken,
  });
  return {
    tokenizer,
    stats: { bytes: wc.bytes, words: wc.words, distinctWords: nWords, merges: merges.length, learnedTokens: learned, stoppedEarly },
    warnings,
  };
}
