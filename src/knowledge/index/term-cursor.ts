// A cursor over one query term's postings across segments (segments hold disjoint, ascending rowid
// ranges, so their blobs concatenate into one list). It moves forward only: next() and advance(to),
// skipping whole blocks by their last rowid without decoding them. Each block also carries an upper
// bound of the term's score in it, computed from the block's largest tf and smallest lengths.
import type { Bm25Params } from "../bm25.js";
import { BLOCK_SIZE, BOUND_PAIRS, type PostingsBlob } from "./postings-codec.js";

/** What the score of one posting depends on besides the posting itself. */
export interface ScoreContext {
  params: Bm25Params;
  avgBody: number;
  avgTitle: number;
  /** Field lengths by chunk rowid (short lists, stored without bounds, are scored exactly). */
  lenBody: Uint32Array;
  lenTitle: Uint32Array;
}

/**
 * One term's BM25F contribution: field-weighted, length-normalised tf, saturated by k1, times the
 * term weight. Written in the exact evaluation order of the schema-2 SQL ranking query, so the
 * scores are bit-for-bit those of the previous release.
 */
export function termScore(w: number, tfBody: number, tfTitle: number, lenBody: number, lenTitle: number, c: ScoreContext): number {
  const p = c.params;
  const tf = (p.weightBody * tfBody) / (1.0 - p.b + (p.b * lenBody) / c.avgBody) + (p.weightTitle * tfTitle) / (1.0 - p.bTitle + (p.bTitle * lenTitle) / c.avgTitle);
  return (w * tf * (p.k1 + 1.0)) / (tf + p.k1);
}

// Decode buffers for the bounds of short lists (one per blob per query: allocating them each time
// was a visible share of a SciFact query).
const boundRowids = new Float64Array(BLOCK_SIZE);
const boundTfBody = new Uint32Array(BLOCK_SIZE);
const boundTfTitle = new Uint32Array(BLOCK_SIZE);

/** The largest score of the term in a block: best body part plus best title part, then saturated. */
function blockBound(blob: PostingsBlob, b: number, w: number, c: ScoreContext): number {
  if (blob.small) {
    let max = 0;
    const n = blob.decode(b, boundRowids, boundTfBody, boundTfTitle);
    for (let i = 0; i < n; i++) max = Math.max(max, termScore(w, boundTfBody[i]!, boundTfTitle[i]!, c.lenBody[boundRowids[i]!] ?? 0, c.lenTitle[boundRowids[i]!] ?? 0, c));
    return max;
  }
  const p = c.params;
  let body = 0;
  let title = 0;
  for (let j = 0; j < BOUND_PAIRS; j++) {
    const tb = blob.boundTf(b, 0, j);
    if (tb > 0) body = Math.max(body, (p.weightBody * tb) / (1.0 - p.b + (p.b * blob.boundLen(b, 0, j)) / c.avgBody));
    const tt = blob.boundTf(b, 1, j);
    if (tt > 0) title = Math.max(title, (p.weightTitle * tt) / (1.0 - p.bTitle + (p.bTitle * blob.boundLen(b, 1, j)) / c.avgTitle));
  }
  const tf = body + title;
  return (w * tf * (p.k1 + 1.0)) / (tf + p.k1);
}

export class TermCursor {
  /** Current rowid; Infinity when exhausted. */
  doc = Infinity;
  /** Largest block bound: no posting of this term scores more. */
  readonly maxBound: number;
  private readonly blockBlob: Int32Array;
  private readonly blockIdx: Int32Array;
  private readonly blockLast: Float64Array;
  private readonly blockBound: Float64Array;
  private bi = -1;
  private pos = 0;
  private n = 0;
  private decoded = false;
  private readonly rowids = new Float64Array(BLOCK_SIZE);
  private readonly tfBody = new Uint32Array(BLOCK_SIZE);
  private readonly tfTitle = new Uint32Array(BLOCK_SIZE);

  constructor(
    readonly slot: number,
    readonly weight: number,
    private readonly blobs: PostingsBlob[],
    ctx: ScoreContext,
  ) {
    const total = blobs.reduce((a, b) => a + b.blocks, 0);
    this.blockBlob = new Int32Array(total);
    this.blockIdx = new Int32Array(total);
    this.blockLast = new Float64Array(total);
    this.blockBound = new Float64Array(total);
    let i = 0;
    let max = 0;
    blobs.forEach((blob, j) => {
      for (let b = 0; b < blob.blocks; b++, i++) {
        this.blockBlob[i] = j;
        this.blockIdx[i] = b;
        this.blockLast[i] = blob.lastRowid(b);
        const bound = blockBound(blob, b, weight, ctx);
        this.blockBound[i] = bound;
        if (bound > max) max = bound;
      }
    });
    this.maxBound = max;
    this.load(0, 0);
  }

  /**
   * Moves to block `bi` without decoding it: `doc` becomes a lower bound of the block's next posting
   * (at least `target`), good enough to order cursors and to skip by bounds. materialize() decodes.
   */
  private load(bi: number, target: number): void {
    this.bi = bi;
    this.pos = 0;
    this.n = 0;
    if (bi >= this.blockLast.length) {
      this.doc = Infinity;
      this.decoded = true;
      return;
    }
    this.decoded = false;
    this.doc = Math.max(target, bi > 0 ? this.blockLast[bi - 1]! + 1 : 1);
  }

  /** Whether `doc` is an actual posting (false: only a lower bound within the current block). */
  get exact(): boolean {
    return this.decoded;
  }

  /** Decodes the current block and moves to its first posting >= the lower bound. */
  materialize(): void {
    if (this.decoded) return;
    const target = this.doc;
    this.n = this.blobs[this.blockBlob[this.bi]!]!.decode(this.blockIdx[this.bi]!, this.rowids, this.tfBody, this.tfTitle);
    this.decoded = true;
    let pos = 0;
    while (this.rowids[pos]! < target) pos++;
    this.pos = pos;
    this.doc = this.rowids[pos]!;
  }

  /** Moves past the current posting (which must be exact). */
  next(): void {
    if (++this.pos < this.n) this.doc = this.rowids[this.pos]!;
    else this.load(this.bi + 1, 0);
  }

  /** Moves to the first posting with rowid >= target (possibly as a lower bound, see load). */
  advance(target: number): void {
    if (this.doc >= target) return;
    if (this.blockLast[this.bi]! < target) {
      let bi = this.bi + 1;
      while (bi < this.blockLast.length && this.blockLast[bi]! < target) bi++;
      this.load(bi, target);
      return;
    }
    if (!this.decoded) {
      this.doc = target;
      return;
    }
    while (this.doc < target) this.next();
  }

  /** Last rowid of the block holding the current posting (Infinity when exhausted). */
  blockEnd(): number {
    return this.bi < this.blockLast.length ? this.blockLast[this.bi]! : Infinity;
  }

  /** Bound of the block holding the current posting. */
  blockMax(): number {
    return this.bi < this.blockBound.length ? this.blockBound[this.bi]! : 0;
  }

  score(lenBody: number, lenTitle: number, ctx: ScoreContext): number {
    return termScore(this.weight, this.tfBody[this.pos]!, this.tfTitle[this.pos]!, lenBody, lenTitle, ctx);
  }
}
