// Fine-tuning examples as token rows: each record rendered with the base's chat template
// (TextTokenizer.applyChatTemplate: ChatML for Strata's tokenizer, the GGUF's Jinja template for a
// file's own vocabulary), with the loss on the assistant's tokens only.
//
// The mask comes from rendering prefixes: for the assistant turn i, render(messages[..i], generation
// prompt) must be a token prefix of render(messages[..i+1]); the tokens between the two (the answer
// and the template's end-of-turn marker) are trained. A template that does not render prefixes
// consistently is refused rather than guessed at.
//
// Rows: inputs ids[0..n-1], targets ids[1..n] with −100 where not trained. An example longer than
// the block (T + 1 tokens) is truncated at its end or dropped (`overlong`); one with no trained
// token left is dropped too; both counted in the summary. Without packing a row is one example
// padded to T; with packing, examples are laid end to end and cut into rows of T (attention then
// crosses example boundaries, as in most packing trainers; the loss mask stays per token).
//
// Split: a seeded shuffle of the examples; the last valFraction (at least one, when there are two or
// more) validate. Training order: a fresh seeded permutation per epoch, so micro-batch k is a pure
// function of k — resuming needs only the count of micro-batches drawn.
import { StrataError } from "../core/errors.js";
import type { InstructionRecord } from "../formats/instruction-data.js";
import { Rng } from "../tensor/index.js";
import type { ChatMessage, TextTokenizer } from "../tokenizer/index.js";
import type { Batch } from "./dataset.js";

export const IGNORE = -100;

export interface SftEncodeOptions {
  /** Tokens per row (T). */
  blockSize: number;
  /** "truncate" (default) cuts the end; "drop" leaves the example out. */
  overlong?: "truncate" | "drop";
  pack?: boolean;
  valFraction: number;
  seed: number;
}

/** One token row: T inputs and T targets (−100 = not scored). */
export interface Row {
  ids: Int32Array;
  targets: Int32Array;
}

export interface EncodedSummary {
  records: number;
  /** Examples kept for training and validation. */
  train: number;
  val: number;
  truncated: number;
  droppedOverlong: number;
  /** Dropped because no trained (assistant) token was left. */
  droppedEmpty: number;
  /** Tokens scored by the loss, over all kept examples. */
  trainedTokens: number;
  tokens: number;
  packed: boolean;
}

/** ids of a whole conversation and which of them are trained (the assistant turns). */
export function maskedConversation(tok: TextTokenizer, messages: readonly ChatMessage[], source = "example"): { ids: number[]; trained: Uint8Array } {
  const full = tok.applyChatTemplate(messages);
  const trained = new Uint8Array(full.length);
  for (let i = 0; i < messages.length; i++) {
    if (messages[i]!.role !== "assistant") continue;
    const before = tok.applyChatTemplate(messages.slice(0, i), { addGenerationPrompt: true });
    const upTo = i + 1 === messages.length ? full : tok.applyChatTemplate(messages.slice(0, i + 1));
    const isPrefix = (a: number[], b: number[]): boolean => a.length <= b.length && a.every((v, k) => v === b[k]);
    if (!isPrefix(before, upTo) || !isPrefix(upTo, full)) {
      throw new StrataError("TEMPLATE_UNSUPPORTED", `${source}: the chat template does not render conversations prefix by prefix, so the assistant's tokens cannot be told apart`, "use a base whose chat template renders turns one after another (ChatML, Llama 3, …)");
    }
    for (let k = before.length; k < upTo.length; k++) trained[k] = 1;
  }
  return { ids: full, trained };
}

/** A preference pair's two conversations: prompt + chosen, prompt + rejected (each masked to its answer). */
export function maskedPair(tok: TextTokenizer, prompt: readonly ChatMessage[], chosen: string, rejected: string, source: string): [ReturnType<typeof maskedConversation>, ReturnType<typeof maskedConversation>] {
  return [
    maskedConversation(tok, [...prompt, { role: "assistant", content: chosen }], source),
    maskedConversation(tok, [...prompt, { role: "assistant", content: rejected }], source),
  ];
}

interface Seq {
  ids: number[];
  trained: Uint8Array;
}

/** Cuts a sequence to `max` tokens or reports it over-long; null when it must be dropped. */
function fit(s: Seq, max: number, overlong: "truncate" | "drop", counts: { truncated: number; droppedOverlong: number; droppedEmpty: number }): Seq | null {
  let out = s;
  if (s.ids.length > max) {
    if (overlong === "drop") {
      counts.droppedOverlong++;
      return null;
    }
    out = { ids: s.ids.slice(0, max), trained: s.trained.slice(0, max) };
    counts.truncated++;
  }
  let any = false;
  for (let k = 1; k < out.ids.length; k++) if (out.trained[k]) any = true;
  if (!any) {
    counts.droppedEmpty++;
    return null;
  }
  return out;
}

/** A sequence of n ≤ T + 1 tokens → a row of T (padded; targets −100 past the end). */
function toRow(s: Seq, T: number): Row {
  const ids = new Int32Array(T);
  const targets = new Int32Array(T).fill(IGNORE);
  const n = Math.min(s.ids.length - 1, T);
  for (let k = 0; k < n; k++) {
    ids[k] = s.ids[k]!;
    targets[k] = s.trained[k + 1] ? s.ids[k + 1]! : IGNORE;
  }
  return { ids, targets };
}

function packRows(seqs: readonly Seq[], T: number): Row[] {
  const ids: number[] = [];
  const trained: number[] = [];
  for (const s of seqs) {
    ids.push(...s.ids);
    for (const t of s.trained) trained.push(t);
  }
  const rows: Row[] = [];
  for (let start = 0; start + 1 < ids.length; start += T) {
    const end = Math.min(start + T + 1, ids.length);
    rows.push(toRow({ ids: ids.slice(start, end), trained: Uint8Array.from(trained.slice(start, end)) }, T));
  }
  return rows;
}

/** Split indices: a seeded shuffle, the last valFraction held out (≥ 1 when there are ≥ 2). */
export function splitIndices(n: number, valFraction: number, seed: number): { train: number[]; val: number[] } {
  const order = new Rng(seed ^ 0x5a17).shuffle(Array.from({ length: n }, (_, i) => i));
  const nVal = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * valFraction)));
  return { train: order.slice(0, n - nVal).sort((a, b) => a - b), val: order.slice(n - nVal).sort((a, b) => a - b) };
}

/** Supervised records → training and validation rows, with the summary. */
export function encodeSft(records: readonly InstructionRecord[], tok: TextTokenizer, o: SftEncodeOptions): { train: Row[]; val: Row[]; summary: EncodedSummary } {
  const counts = { truncated: 0, droppedOverlong: 0, droppedEmpty: 0 };
  const max = o.blockSize + 1;
  const kept: Seq[] = [];
  for (const r of records) {
    if (r.kind !== "sft") throw new StrataError("USAGE", `line ${r.line} is a preference pair`, "supervised fine-tuning takes chat, prompt/completion or Alpaca records; use `strata train dpo` for pairs");
    const s = fit(maskedConversation(tok, r.messages, `line ${r.line}`), max, o.overlong ?? "truncate", counts);
    if (s) kept.push(s);
  }
  if (kept.length === 0) throw emptyAfterFilter(records.length, counts);
  const { train, val } = splitIndices(kept.length, o.valFraction, o.seed);
  const pick = (ix: number[]): Seq[] => ix.map((i) => kept[i]!);
  const rows = (seqs: Seq[]): Row[] => (o.pack ? packRows(seqs, o.blockSize) : seqs.map((s) => toRow(s, o.blockSize)));
  const trainRows = rows(pick(train));
  const valRows = rows(pick(val));
  let trainedTokens = 0;
  let tokens = 0;
  for (const s of kept) {
    tokens += s.ids.length;
    for (let k = 1; k < s.trained.length; k++) trainedTokens += s.trained[k]!;
  }
  return { train: trainRows, val: valRows, summary: { records: records.length, train: train.length, val: val.length, ...counts, trainedTokens, tokens, packed: o.pack ?? false } };
}

/** Preference records → pairs of rows (chosen, rejected), split like SFT examples. */
export function encodePreference(records: readonly InstructionRecord[], tok: TextTokenizer, o: SftEncodeOptions): { train: Array<[Row, Row]>; val: Array<[Row, Row]>; summary: EncodedSummary } {
  const counts = { truncated: 0, droppedOverlong: 0, droppedEmpty: 0 };
  const max = o.blockSize + 1;
  const kept: Array<[Seq, Seq]> = [];
  let tokens = 0;
  let trainedTokens = 0;
  for (const r of records) {
    if (r.kind !== "preference") throw new StrataError("USAGE", `line ${r.line} is not a preference pair`, 'DPO takes {"prompt", "chosen", "rejected"} records; use `strata train sft` for the others');
    const [c, rj] = maskedPair(tok, r.prompt, r.chosen, r.rejected, `line ${r.line}`);
    const fc = fit(c, max, o.overlong ?? "truncate", counts);
    const fr = fc ? fit(rj, max, o.overlong ?? "truncate", counts) : null;
    if (!fc || !fr) continue;
    kept.push([fc, fr]);
    for (const s of [fc, fr]) {
      tokens += s.ids.length;
      for (let k = 1; k < s.trained.length; k++) trainedTokens += s.trained[k]!;
    }
  }
  if (kept.length === 0) throw emptyAfterFilter(records.length, counts);
  const { train, val } = splitIndices(kept.length, o.valFraction, o.seed);
  const rows = (ix: number[]): Array<[Row, Row]> => ix.map((i) => [toRow(kept[i]![0], o.blockSize), toRow(kept[i]![1], o.blockSize)]);
  return { train: rows(train), val: rows(val), summary: { records: records.length, train: train.length, val: val.length, ...counts, trainedTokens, tokens, packed: false } };
}

function emptyAfterFilter(n: number, c: { truncated: number; droppedOverlong: number; droppedEmpty: number }): StrataError {
  return new StrataError(
    "DATASET_EMPTY",
    `no example is left after filtering: ${n} record(s), ${c.droppedOverlong} longer than the block, ${c.droppedEmpty} with no answer token inside the block`,
    "raise the block size (--block), use --overlong truncate, or check that the answers are not empty",
  );
}

/** Rows stacked into a batch [rows.length, T]. */
export function stackRows(rows: readonly Row[]): Batch {
  const T = rows[0]!.ids.length;
  const ids = new Int32Array(rows.length * T);
  const targets = new Int32Array(rows.length * T);
  rows.forEach((r, i) => {
    ids.set(r.ids, i * T);
    targets.set(r.targets, i * T);
  });
  return { ids, targets, shape: [rows.length, T] };
}

/** The k-th item of an endless epoch-by-epoch stream over `n` items, each epoch a seeded permutation. */
export function epochOrder(n: number, seed: number): (k: number) => number {
  let cachedEpoch = -1;
  let perm: number[] = [];
  return (k: number): number => {
    const epoch = Math.floor(k / n);
    if (epoch !== cachedEpoch) {
      perm = new Rng(seed + 7919 * epoch).shuffle(Array.from({ length: n }, (_, i) => i));
      cachedEpoch = epoch;
    }
    return perm[k % n]!;
  };
}
