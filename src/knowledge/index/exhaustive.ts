// Term-at-a-time scoring of every posting, for queries whose postings are few next to k (SciFact at
// depth 300: a few thousand postings, where MaxScore's bounds can skip little and its per-candidate
// bookkeeping costs more than scoring everything). Each chunk's term scores are kept per query slot
// and summed with the same compensated sum, in the same slot order, as top-k.ts; the same heap
// breaks ties by chunk id. So both strategies return the same chunks with bit-identical scores.
import { BLOCK_SIZE, type PostingsBlob } from "./postings-codec.js";
import { termScore, type ScoreContext } from "./term-cursor.js";
import { TopHeap, compensatedSum, type Scored } from "./top-k.js";

export interface TermPostings {
  /** idf × query term frequency. */
  weight: number;
  /** The term's blobs across segments (disjoint rowid ranges). */
  blobs: PostingsBlob[];
}

/** Buffers reused across queries; `stamp` marks the rowids seen by the current query. */
export class ScoreScratch {
  private stamp = new Int32Array(0);
  private cand = new Int32Array(0);
  private query = 0;
  parts = new Float64Array(0);
  present = new Uint8Array(0);
  candRowid = new Float64Array(0);
  readonly rowids = new Float64Array(BLOCK_SIZE);
  readonly tfBody = new Uint32Array(BLOCK_SIZE);
  readonly tfTitle = new Uint32Array(BLOCK_SIZE);

  /** Starts a query over rowids below `rowidLimit` with at most `postings` candidates. */
  begin(rowidLimit: number, postings: number, slots: number): number {
    if (this.stamp.length < rowidLimit) {
      this.stamp = new Int32Array(rowidLimit);
      this.cand = new Int32Array(rowidLimit);
      this.query = 0;
    }
    if (this.candRowid.length < postings) this.candRowid = new Float64Array(postings * 2);
    if (this.parts.length < postings * slots) {
      this.parts = new Float64Array(postings * slots);
      this.present = new Uint8Array(postings * slots);
    }
    if (this.query >= 0x7ffffffe) {
      this.stamp.fill(0);
      this.query = 0;
    }
    return ++this.query;
  }

  /** Candidate index of `rowid` in query `q`: -1 for a chunk that may not be ranked, -2 when new. */
  seen(rowid: number, q: number): number {
    return this.stamp[rowid] === q ? this.cand[rowid]! : -2;
  }

  mark(rowid: number, q: number, index: number): void {
    this.stamp[rowid] = q;
    this.cand[rowid] = index;
  }

  get limit(): number {
    return this.stamp.length;
  }
}

export function scoreAll(
  input: { terms: TermPostings[]; k: number; ctx: ScoreContext; admit: (rowid: number) => boolean; chunkId: (rowid: number) => string },
  s: ScoreScratch,
  rowidLimit: number,
): Scored[] {
  const { terms, ctx, admit } = input;
  if (input.k <= 0 || terms.length === 0) return [];
  const slots = terms.length;
  let postings = 0;
  for (const t of terms) for (const b of t.blobs) postings += b.count;
  const q = s.begin(rowidLimit, postings, slots);
  const { rowids, tfBody, tfTitle } = s;
  const { lenBody, lenTitle } = ctx;
  let n = 0;
  for (let slot = 0; slot < slots; slot++) {
    const w = terms[slot]!.weight;
    for (const blob of terms[slot]!.blobs) {
      for (let b = 0; b < blob.blocks; b++) {
        const m = blob.decode(b, rowids, tfBody, tfTitle);
        for (let i = 0; i < m; i++) {
          const d = rowids[i]!;
          if (d >= s.limit) continue; // not in the chunk table: not live
          let c = s.seen(d, q);
          if (c === -1) continue;
          if (c === -2) {
            if (!admit(d)) {
              s.mark(d, q, -1);
              continue;
            }
            c = n++;
            s.mark(d, q, c);
            s.candRowid[c] = d;
            s.present.fill(0, c * slots, c * slots + slots);
          }
          s.parts[c * slots + slot] = termScore(w, tfBody[i]!, tfTitle[i]!, lenBody[d]!, lenTitle[d]!, ctx);
          s.present[c * slots + slot] = 1;
        }
      }
    }
  }
  const heap = new TopHeap(input.k, input.chunkId);
  for (let c = 0; c < n; c++) {
    const score = compensatedSum(s.parts, s.present, c * slots, slots);
    // Below the k-th can never enter; equal scores go to the heap's tie-break.
    if (score < heap.threshold) continue;
    heap.offer({ rowid: s.candRowid[c]!, score });
  }
  return heap.sorted();
}
