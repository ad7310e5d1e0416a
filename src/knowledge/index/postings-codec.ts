// One term's postings within one segment, as one blob: blocks of up to 128 chunks, each with a
// fixed-size header (last chunk rowid, end of its data, and the bounds that let top-k skip it: per
// field, the Pareto front of (tf, length)) and a varint body (rowid deltas, tf body, tf title). The bounds hold for any BM25F parameters, so a query with its own k1/b still prunes
// exactly. A CRC32 over the whole blob turns a torn or damaged page into a clear error, never a misread.
import { crc32 } from "node:zlib";

export const BLOCK_SIZE = 128;
const FORMAT = 1;
/** format u8, pad u8×3, count u32, blocks u32, crc32 u32. */
const HEAD = 16;
/** Bound entries per field and block: (tf, smallest length among the block's chunks with that tf). */
export const BOUND_PAIRS = 3;
/** lastRowid, dataEnd, then BOUND_PAIRS (tf, len) pairs for the body and for the title: u32 each. */
const BLOCK_HEAD = 8 + 2 * BOUND_PAIRS * 8;
const NO_LEN = 0xffffffff;

/**
 * The Pareto front of (tf, length) over a block's postings for one field, highest tf first, cut to
 * BOUND_PAIRS entries (the tail merged into one entry of its largest tf and smallest length). The
 * score rises with tf and falls with length, so the best score in the block, for any parameters,
 * is reached at one of these entries: a bound much tighter than (largest tf, smallest length).
 */
function boundPairs(tf: number[], len: number[], from: number, to: number): [number, number][] {
  const minLen = new Map<number, number>();
  for (let i = from; i < to; i++) {
    const t = tf[i]!;
    if (t > 0) minLen.set(t, Math.min(minLen.get(t) ?? NO_LEN, len[i]!));
  }
  const front: [number, number][] = [];
  let best = NO_LEN;
  for (const t of [...minLen.keys()].sort((a, b) => b - a)) {
    const l = minLen.get(t)!;
    if (l < best) {
      front.push([t, l]);
      best = l;
    }
  }
  if (front.length > BOUND_PAIRS) {
    const tail = front.splice(BOUND_PAIRS - 1);
    front.push([tail[0]![0], Math.min(...tail.map((p) => p[1]))]);
  }
  return front;
}

/** A posting list being built: rowids ascending, with the chunk's lengths for the block bounds. */
export interface PostingColumns {
  rowids: number[];
  tfBody: number[];
  tfTitle: number[];
  lenBody: number[];
  lenTitle: number[];
}

export class CorruptPostings extends Error {}

function putVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Appends posting i (rowid delta from `prev`, tf body, tf title); returns its rowid. */
function putPosting(body: number[], p: PostingColumns, i: number, prev: number): number {
  const r = p.rowids[i]!;
  if (r <= prev) throw new Error("postings must be written in ascending rowid order");
  putVarint(body, r - prev);
  putVarint(body, p.tfBody[i]!);
  putVarint(body, p.tfTitle[i]!);
  return r;
}

/** Lists this short are stored bare: the reader scores them exactly instead of reading bounds. */
export const SMALL_LIST = 16;
const SMALL_FORMAT = 2;
/** format u8, crc32 u32, count u8. */
const SMALL_HEAD = 6;

function encodeSmall(p: PostingColumns): Buffer {
  const body: number[] = [];
  let prev = 0;
  for (let i = 0; i < p.rowids.length; i++) prev = putPosting(body, p, i, prev);
  const out = Buffer.alloc(SMALL_HEAD + body.length);
  out.writeUInt8(SMALL_FORMAT, 0);
  out.writeUInt8(p.rowids.length, 5);
  Buffer.from(body).copy(out, SMALL_HEAD);
  out.writeUInt32LE(crc32(out.subarray(5)), 1);
  return out;
}

export function encodePostings(p: PostingColumns): Buffer {
  const n = p.rowids.length;
  if (n <= SMALL_LIST) return encodeSmall(p);
  const blocks = Math.ceil(n / BLOCK_SIZE);
  const body: number[] = [];
  const heads = Buffer.alloc(blocks * BLOCK_HEAD);
  let prev = 0;
  for (let b = 0; b < blocks; b++) {
    const from = b * BLOCK_SIZE;
    const to = Math.min(n, from + BLOCK_SIZE);
    for (let i = from; i < to; i++) prev = putPosting(body, p, i, prev);
    const o = b * BLOCK_HEAD;
    heads.writeUInt32LE(prev, o);
    heads.writeUInt32LE(body.length, o + 4);
    const fields = [boundPairs(p.tfBody, p.lenBody, from, to), boundPairs(p.tfTitle, p.lenTitle, from, to)];
    fields.forEach((pairs, f) => {
      for (let j = 0; j < BOUND_PAIRS; j++) {
        const at = o + 8 + (f * BOUND_PAIRS + j) * 8;
        heads.writeUInt32LE(pairs[j]?.[0] ?? 0, at);
        heads.writeUInt32LE(pairs[j]?.[1] ?? NO_LEN, at + 4);
      }
    });
  }
  const out = Buffer.alloc(HEAD + heads.length + body.length);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt32LE(n, 4);
  out.writeUInt32LE(blocks, 8);
  heads.copy(out, HEAD);
  Buffer.from(body).copy(out, HEAD + heads.length);
  out.writeUInt32LE(crc32(out.subarray(HEAD)), 12);
  return out;
}

/** A checked, read-only view of one blob: block headers by index, bodies decoded on demand. */
export class PostingsBlob {
  readonly count: number;
  readonly blocks: number;
  /** A short list without block bounds (see SMALL_LIST): its one block must be scored exactly. */
  readonly small: boolean;
  private readonly view: DataView;
  private readonly dataStart: number;
  private readonly smallLast: number = 0;

  constructor(readonly buf: Uint8Array) {
    if (!(buf instanceof Uint8Array)) throw new CorruptPostings(`a postings entry holds ${typeof buf}, not bytes`);
    this.small = buf[0] === SMALL_FORMAT;
    if (this.small) {
      if (buf.length < SMALL_HEAD) throw new CorruptPostings(`a postings blob of ${buf.length} bytes is shorter than its header`);
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      if (crc32(buf.subarray(5)) !== this.view.getUint32(1, true)) throw new CorruptPostings("postings checksum mismatch");
      this.count = buf[5]!;
      this.blocks = this.count === 0 ? 0 : 1;
      this.dataStart = SMALL_HEAD;
      const r = new Float64Array(BLOCK_SIZE);
      if (this.blocks === 1) {
        this.smallLast = Infinity; // checked against the decoded data below
        const n = this.decode(0, r, new Uint32Array(BLOCK_SIZE), new Uint32Array(BLOCK_SIZE));
        this.smallLast = r[n - 1]!;
      }
      return;
    }
    if (buf.length < HEAD) throw new CorruptPostings(`a postings blob of ${buf.length} bytes is shorter than its header`);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf[0] !== FORMAT) throw new CorruptPostings(`unknown postings format ${buf[0]}`);
    this.count = this.view.getUint32(4, true);
    this.blocks = this.view.getUint32(8, true);
    this.dataStart = HEAD + this.blocks * BLOCK_HEAD;
    if (this.blocks !== Math.ceil(this.count / BLOCK_SIZE) || this.dataStart > buf.length) throw new CorruptPostings("postings header does not match its size");
    const dataLen = this.blocks === 0 ? 0 : this.u32(this.blocks - 1, 4);
    if (this.dataStart + dataLen !== buf.length) throw new CorruptPostings(`postings blob is ${buf.length} bytes, its header says ${this.dataStart + dataLen}`);
    if (crc32(buf.subarray(HEAD)) !== this.view.getUint32(12, true)) throw new CorruptPostings("postings checksum mismatch");
  }

  private u32(block: number, field: number): number {
    return this.view.getUint32(HEAD + block * BLOCK_HEAD + field, true);
  }

  lastRowid(block: number): number {
    return this.small ? this.smallLast : this.u32(block, 0);
  }
  /** Bound entry j of a field (0 body, 1 title): [tf, smallest length with that tf]; tf 0 = unused. */
  boundTf(block: number, field: 0 | 1, j: number): number {
    return this.u32(block, 8 + (field * BOUND_PAIRS + j) * 8);
  }
  boundLen(block: number, field: 0 | 1, j: number): number {
    return this.u32(block, 12 + (field * BOUND_PAIRS + j) * 8);
  }

  /** Decodes block `b` into the arrays (length >= BLOCK_SIZE); returns how many postings it holds. */
  decode(b: number, rowids: Float64Array, tfBody: Uint32Array, tfTitle: Uint32Array): number {
    const n = b === this.blocks - 1 ? this.count - b * BLOCK_SIZE : BLOCK_SIZE;
    let pos = this.dataStart + (b === 0 ? 0 : this.u32(b - 1, 4));
    const end = this.small ? this.buf.length : this.dataStart + this.u32(b, 4);
    let prev = b === 0 ? 0 : this.lastRowid(b - 1);
    const buf = this.buf;
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < 3; f++) {
        let v = 0;
        let mul = 1;
        let byte: number;
        do {
          if (pos >= end) throw new CorruptPostings("postings block ends early");
          byte = buf[pos++]!;
          v += (byte & 0x7f) * mul;
          mul *= 128;
        } while (byte & 0x80);
        if (f === 0) rowids[i] = prev += v;
        else if (f === 1) tfBody[i] = v;
        else tfTitle[i] = v;
      }
    }
    if (pos !== end || (!this.small && prev !== this.lastRowid(b))) throw new CorruptPostings("postings block does not match its header");
    return n;
  }

  /** Every posting, in rowid order (merges and checks). */
  *entries(): Generator<{ rowid: number; tfBody: number; tfTitle: number }> {
    const r = new Float64Array(BLOCK_SIZE), tb = new Uint32Array(BLOCK_SIZE), tt = new Uint32Array(BLOCK_SIZE);
    for (let b = 0; b < this.blocks; b++) {
      const n = this.decode(b, r, tb, tt);
      for (let i = 0; i < n; i++) yield { rowid: r[i]!, tfBody: tb[i]!, tfTitle: tt[i]! };
    }
  }
}
