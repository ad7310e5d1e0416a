// The token dataset: text files encoded once into a flat file of token ids, read back a window at a
// time with positioned reads (never loaded whole).
//
// File layout (data/tokens.bin in the run directory), little-endian:
//   bytes 0–7   magic "STRTOKNS"
//   8–11        format version (1)
//   12–15       bytes per token: 2 (uint16, vocabularies up to 65,536) or 4 (uint32)
//   16–19       vocabulary size
//   20–23       reserved (0)
//   24–31       number of tokens (u64)
//   32…         the token ids
// Beside it, data/tokens.json records the sources (path, size, modification time) and a hash of
// the tokenizer, so a rerun or a resume reuses the file only when it was built from the same text
// with the same tokenizer. Both are written under temporary names and renamed into place.
//
// Text is read in 1 MiB chunks, checked to be UTF-8 (a bad byte is an error naming the file and
// offset), and each chunk is encoded up to its last line break (the rest waits for the next chunk),
// so a BPE token never straddles two chunks unless a line is longer than 4 MiB. Files are joined
// with the end-of-text token between them.
//
// Split: the first (1 − valFraction) of the token stream trains, the last valFraction validates —
// a contiguous, deterministic cut, as nanoGPT does for tinyshakespeare.

import { closeSync, openSync, readSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { sha256 } from "../core/hash.js";
import { writeFileAtomic } from "../core/atomic-file.js";
import type { Rng } from "../tensor/index.js";
import { type Tokenizer, readUtf8Chunks, serializeTokenizer } from "../tokenizer/index.js";

export const TOKENS_MAGIC = "STRTOKNS";
export const TOKENS_VERSION = 1;
export const TOKENS_HEADER_BYTES = 32;
const CHUNK_BYTES = 1 << 20;
const LONGEST_CARRY = 4 << 20;

export interface DatasetSource {
  path: string;
  bytes: number;
  mtimeMs: number;
}

/** data/tokens.json */
export interface DatasetManifest {
  format: "strata-tokens";
  version: 1;
  tokens: number;
  bytesPerToken: 2 | 4;
  vocabSize: number;
  tokenizerSha256: string;
  sources: DatasetSource[];
}

export interface BuildDatasetOptions extends LongOperationOptions {
  /** Bytes read at a time (default 1 MiB). */
  chunkBytes?: number;
}

export function tokenizerHash(tokenizer: Tokenizer): string {
  return sha256(serializeTokenizer(tokenizer));
}

async function describeSources(files: readonly string[]): Promise<DatasetSource[]> {
  if (files.length === 0) throw new StrataError("USAGE", "no training files given", "name one or more UTF-8 text files with --data");
  const out: DatasetSource[] = [];
  for (const f of files) {
    const path = resolve(f);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new StrataError("NOT_FOUND", `training file ${f} does not exist`, "check the path");
      throw new StrataError("UNREADABLE", `training file ${f} cannot be read: ${(e as Error).message}`, "check its permissions", { cause: e });
    }
    if (st.isDirectory()) throw new StrataError("USAGE", `${f} is a folder, not a text file`, "name the text files inside it");
    if (st.size === 0) throw new StrataError("EMPTY_FILE", `training file ${f} is empty`, "leave it out or give it text");
    out.push({ path, bytes: st.size, mtimeMs: Math.floor(st.mtimeMs) });
  }
  return out;
}

function sameSources(a: readonly DatasetSource[], b: readonly DatasetSource[]): boolean {
  return a.length === b.length && a.every((s, i) => s.path === b[i]!.path && s.bytes === b[i]!.bytes && s.mtimeMs === b[i]!.mtimeMs);
}

/** Reads data/tokens.json, or null when it is missing or unreadable (then the dataset is rebuilt). */
async function readManifest(dir: string): Promise<DatasetManifest | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, "tokens.json"), "utf8")) as DatasetManifest;
    return m.format === "strata-tokens" && m.version === TOKENS_VERSION ? m : null;
  } catch {
    return null;
  }
}

/**
 * Encodes the files into `dir`/tokens.bin unless a dataset built from the same files (size and
 * modification time) with the same tokenizer is already there. Returns the opened dataset.
 */
export async function buildTokenDataset(files: readonly string[], tokenizer: Tokenizer, dir: string, options: BuildDatasetOptions = {}): Promise<{ dataset: TokenDataset; reused: boolean }> {
  const sources = await describeSources(files);
  const hash = tokenizerHash(tokenizer);
  const existing = await readManifest(dir);
  const binPath = join(dir, "tokens.bin");
  if (existing && existing.tokenizerSha256 === hash && sameSources(existing.sources, sources)) {
    try {
      const ds = TokenDataset.open(binPath);
      if (ds.length === existing.tokens) return { dataset: ds, reused: true };
      ds.close();
    } catch {
      // rebuild below
    }
  }
  const bytesPerToken: 2 | 4 = tokenizer.vocabSize <= 65536 ? 2 : 4;
  await mkdir(dir, { recursive: true });
  const tmp = `${binPath}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const fh = await open(tmp, "wx");
  let count = 0;
  try {
    await fh.write(new Uint8Array(TOKENS_HEADER_BYTES), 0, TOKENS_HEADER_BYTES, 0);
    let position = TOKENS_HEADER_BYTES;
    const writeIds = async (ids: readonly number[]): Promise<void> => {
      if (ids.length === 0) return;
      const buf = bytesPerToken === 2 ? new Uint16Array(ids) : new Uint32Array(ids);
      const bytes = new Uint8Array(buf.buffer);
      await fh.write(bytes, 0, bytes.length, position);
      position += bytes.length;
      count += ids.length;
    };
    const totalBytes = sources.reduce((s, x) => s + x.bytes, 0);
    let done = 0;
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i]!;
      if (i > 0) await writeIds([tokenizer.eosId]);
      const before = count;
      await readTextChunks(src.path, files[i]!, options.chunkBytes ?? CHUNK_BYTES, async (text, bytes) => {
        await writeIds(tokenizer.encode(text));
        done += bytes;
        options.onProgress?.({ phase: "tokenize", done, total: totalBytes, item: files[i]! });
        throwIfAborted(options.signal);
      });
      if (count === before) throw new StrataError("EMPTY_FILE", `training file ${files[i]} holds no text`, "leave it out or give it text");
    }
    const header = new Uint8Array(TOKENS_HEADER_BYTES);
    const dv = new DataView(header.buffer);
    header.set(new TextEncoder().encode(TOKENS_MAGIC), 0);
    dv.setUint32(8, TOKENS_VERSION, true);
    dv.setUint32(12, bytesPerToken, true);
    dv.setUint32(16, tokenizer.vocabSize, true);
    dv.setBigUint64(24, BigInt(count), true);
    await fh.write(header, 0, TOKENS_HEADER_BYTES, 0);
    await fh.sync();
    await fh.close();
    await rename(tmp, binPath);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  const manifest: DatasetManifest = { format: "strata-tokens", version: TOKENS_VERSION, tokens: count, bytesPerToken, vocabSize: tokenizer.vocabSize, tokenizerSha256: hash, sources };
  await writeFileAtomic(join(dir, "tokens.json"), JSON.stringify(manifest, null, 2) + "\n");
  return { dataset: TokenDataset.open(binPath), reused: false };
}

/** Calls `onText` with successive UTF-8 chunks of a file, each ending at a line break where possible. */
async function readTextChunks(path: string, shown: string, chunkBytes: number, onText: (text: string, bytes: number) => Promise<void>): Promise<void> {
  const fh = await open(path, "r");
  try {
    let carry = ""; // text after the last line break, waiting for the next chunk
    let carryBytes = 0; // file bytes read but not yet reported with a chunk
    await readUtf8Chunks(fh, shown, chunkBytes, async (chunk, bytes) => {
      const text = carry + chunk;
      carryBytes += bytes;
      const nl = text.lastIndexOf("\n");
      if (nl >= 0 || text.length > LONGEST_CARRY) {
        const upTo = nl >= 0 ? nl + 1 : text.length;
        carry = text.slice(upTo);
        await onText(text.slice(0, upTo), carryBytes);
        carryBytes = 0;
      } else carry = text;
    });
    if (carry.length > 0 || carryBytes > 0) await onText(carry, carryBytes);
  } finally {
    await fh.close();
  }
}

/** A span of the token stream. */
export interface TokenRange {
  start: number;
  length: number;
}

/** A tokens.bin opened for positioned reads. */
export class TokenDataset {
  readonly path: string;
  readonly length: number;
  readonly bytesPerToken: 2 | 4;
  readonly vocabSize: number;
  private fd: number | null;

  private constructor(path: string, fd: number, length: number, bytesPerToken: 2 | 4, vocabSize: number) {
    this.path = path;
    this.fd = fd;
    this.length = length;
    this.bytesPerToken = bytesPerToken;
    this.vocabSize = vocabSize;
  }

  static open(path: string): TokenDataset {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new StrataError("NOT_FOUND", `token file ${path} cannot be opened: ${(e as Error).message}`, "build it again: rerun the command with --data");
    }
    try {
      const header = new Uint8Array(TOKENS_HEADER_BYTES);
      const got = readSync(fd, header, 0, TOKENS_HEADER_BYTES, 0);
      const bad = (why: string): StrataError => new StrataError("CHECKPOINT_INVALID", `${path} is not a Strata token file: ${why}`, "delete it; it is rebuilt from --data");
      if (got < TOKENS_HEADER_BYTES || new TextDecoder().decode(header.subarray(0, 8)) !== TOKENS_MAGIC) throw bad("wrong magic");
      const dv = new DataView(header.buffer);
      const version = dv.getUint32(8, true);
      if (version !== TOKENS_VERSION) throw bad(`version ${version}`);
      const bpt = dv.getUint32(12, true);
      if (bpt !== 2 && bpt !== 4) throw bad(`${bpt} bytes per token`);
      const n = Number(dv.getBigUint64(24, true));
      const size = TOKENS_HEADER_BYTES + n * bpt;
      const st = readSync(fd, new Uint8Array(1), 0, 1, size - 1);
      if (n === 0 || st !== 1 || readSync(fd, new Uint8Array(1), 0, 1, size) !== 0) throw bad(`its length does not match its ${n} tokens (truncated?)`);
      return new TokenDataset(path, fd, n, bpt, dv.getUint32(16, true));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Tokens [start, start + count) as int32. */
  read(start: number, count: number, out = new Int32Array(count)): Int32Array {
    if (this.fd === null) throw new StrataError("USAGE", "the token dataset is closed", "open it again");
    if (start < 0 || count < 0 || start + count > this.length) {
      throw new StrataError("INDEX_OUT_OF_RANGE", `tokens ${start}–${start + count} are outside the dataset of ${this.length}`, "read inside the dataset");
    }
    const bytes = new Uint8Array(count * this.bytesPerToken);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(this.fd, bytes, got, bytes.length - got, TOKENS_HEADER_BYTES + start * this.bytesPerToken + got);
      if (n === 0) throw new StrataError("CHECKPOINT_INVALID", `${this.path} ended early`, "delete it; it is rebuilt from --data");
      got += n;
    }
    const ids = this.bytesPerToken === 2 ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer);
    out.set(ids);
    return out;
  }

  /** The training and validation spans: the last `valFraction` of the stream validates. */
  split(valFraction: number): { train: TokenRange; val: TokenRange } {
    const val = Math.floor(this.length * valFraction);
    return { train: { start: 0, length: this.length - val }, val: { start: this.length - val, length: val } };
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** A batch: inputs [B, T] and next-token targets [B, T], row-major. */
export interface Batch {
  ids: Int32Array;
  targets: Int32Array;
  shape: [number, number];
}

/**
 * B windows of T + 1 tokens from a range, each starting at a uniformly random position drawn from
 * `rng` (nanoGPT's sampler): inputs are the first T, targets the last T.
 */
export function sampleBatch(ds: TokenDataset, range: TokenRange, batch: number, block: number, rng: Rng): Batch {
  if (range.length < block + 1) {
    throw new StrataError("USAGE", `a span of ${range.length} tokens is too short for windows of ${block + 1}`, "give more text or a smaller block size");
  }
  const ids = new Int32Array(batch * block);
  const targets = new Int32Array(batch * block);
  const win = new Int32Array(block + 1);
  for (let b = 0; b < batch; b++) {
    const start = range.start + rng.int(range.length - block);
    ds.read(start, block + 1, win);
    ids.set(win.subarray(0, block), b * block);
    targets.set(win.subarray(1), b * block);
  }
  return { ids, targets, shape: [batch, block] };
}

/**
 * Where a fine-tuning run's batches come from (pretraining samples windows of the token file
 * instead): micro-batch k of the whole run, and fixed evaluation batches.
 */
export interface BatchSource {
  train(k: number): Batch;
  evalBatches(): { train: Batch[]; val: Batch[] };
  /** One line for the chart's "Data" row. */
  describe: string;
  sizes: { tokens: number; trainTokens: number; valTokens: number };
}
