// Top-k BM25F by MaxScore with block-max bounds (Turtle & Flood 1995; Ding & Suel 2011). Terms are
// ordered by their largest possible contribution; once the k-th best score exceeds what the
// weakest terms could add together, those terms stop proposing candidates and are only probed for
// candidates that the others found; whole runs of blocks whose bounds cannot reach the k-th are
// skipped, and a candidate is dropped as soon as its partial score plus what is left cannot. Pruning only ever skips chunks
// that cannot enter the top k, so the result is exactly the exhaustive ranking: each kept chunk's
// score is summed in query-term order with compensated summation (as SQLite's SUM does), and equal
// scores are ordered by chunk id.
import type { ScoreContext, TermCursor } from "./term-cursor.js";

export interface Scored {
  rowid: number;
  score: number;
}

export interface TopKInput {
  /** One cursor per distinct query term; `slot` is its position in query order. */
  cursors: TermCursor[];
  k: number;
  ctx: ScoreContext;
  /** Whether the chunk may be ranked: live, and readable by the caller under the filters. */
  admit: (rowid: number) => boolean;
  /** Chunk ids break ties between equal scores (looked up only when scores tie). */
  chunkId: (rowid: number) => string;
  /** False when the parameters make the bounds unsafe (negative weights, …): score everything. */
  prune: boolean;
}

/** Room for rounding between a bound and a score computed in another order. */
const slack = (x: number): number => x + 1e-9 * (1 + Math.abs(x));

/** Neumaier's compensated sum of slots [from, from + n), in order (every strategy sums this way). */
export function compensatedSum(parts: Float64Array, present: Uint8Array, from = 0, n = parts.length): number {
  let sum = 0;
  let c = 0;
  for (let i = from; i < from + n; i++) {
    if (!present[i]) continue;
    const x = parts[i]!;
    const t = sum + x;
    c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + c;
}

/** A bounded min-heap of the best k, worst at the root. */
export class TopHeap {
  readonly items: Scored[] = [];
  constructor(
    private readonly k: number,
    private readonly chunkId: (rowid: number) => string,
  ) {}

  private worse(a: Scored, b: Scored): boolean {
    if (a.score !== b.score) return a.score < b.score;
    return this.chunkId(a.rowid) > this.chunkId(b.rowid);
  }

  get threshold(): number {
    return this.items.length < this.k ? -Infinity : this.items[0]!.score;
  }

  offer(s: Scored): void {
    const h = this.items;
    if (h.length < this.k) {
      h.push(s);
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(h[i]!, h[p]!)) break;
        [h[i], h[p]] = [h[p]!, h[i]!];
        i = p;
      }
      return;
    }
    if (!this.worse(h[0]!, s)) return;
    h[0] = s;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.worse(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.worse(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  sorted(): Scored[] {
    return [...this.items].sort((a, b) => (this.worse(a, b) ? 1 : this.worse(b, a) ? -1 : 0));
  }
}

export function topK(input: TopKInput): Scored[] {
  const { ctx, admit } = input;
  const { lenBody, lenTitle } = ctx;
  if (input.k <= 0 || input.cursors.length === 0) return [];
  const heap = new TopHeap(input.k, input.chunkId);
  // Weakest first; prefix[i] = what terms 0..i can add together at most.
  const cs = [...input.cursors].sort((a, b) => a.maxBound - b.maxBound);
  const n = cs.length;
  const prefix = new Float64Array(n);
  cs.forEach((c, i) => (prefix[i] = (i > 0 ? prefix[i - 1]! : 0) + c.maxBound));
  const slots = Math.max(...cs.map((c) => c.slot)) + 1;
  const parts = new Float64Array(slots);
  const present = new Uint8Array(slots);
  let essential = 0;
  for (;;) {
    let d = Infinity;
    for (let i = essential; i < n; i++) if (cs[i]!.doc < d) d = cs[i]!.doc;
    if (d === Infinity) break;
    const theta = heap.threshold;
    // Block-max skip: up to the first end of an essential cursor's current block, no chunk can score
    // more than those blocks' bounds plus every weaker term; if that is below the k-th, skip the range.
    if (input.prune && theta > -Infinity) {
      let bound = essential > 0 ? prefix[essential - 1]! : 0;
      let end = Infinity;
      for (let i = essential; i < n; i++) {
        const c = cs[i]!;
        if (c.doc === Infinity) continue;
        bound += c.blockMax();
        end = Math.min(end, c.blockEnd());
      }
      if (slack(bound) < theta) {
        for (let i = essential; i < n; i++) cs[i]!.advance(end + 1);
        continue;
      }
    }
    // Decode the blocks of the cursors at d: their positions were lower bounds.
    let moved = false;
    for (let i = essential; i < n; i++) {
      const c = cs[i]!;
      if (c.doc === d && !c.exact) {
        c.materialize();
        if (c.doc !== d) moved = true;
      }
    }
    if (moved) continue;
    if (!admit(d)) {
      for (let i = essential; i < n; i++) if (cs[i]!.doc === d) cs[i]!.next();
      continue;
    }
    const lb = lenBody[d]!;
    const lt = lenTitle[d]!;
    present.fill(0);
    // Block-max check before any scoring: the essential terms' block bounds plus every weaker term.
    if (input.prune && theta > -Infinity) {
      let bound = essential > 0 ? prefix[essential - 1]! : 0;
      for (let i = essential; i < n; i++) if (cs[i]!.doc === d) bound += cs[i]!.blockMax();
      if (slack(bound) < theta) {
        for (let i = essential; i < n; i++) if (cs[i]!.doc === d) cs[i]!.next();
        continue;
      }
    }
    let partial = 0;
    for (let i = essential; i < n; i++) {
      const c = cs[i]!;
      if (c.doc !== d) continue;
      const s = c.score(lb, lt, ctx);
      parts[c.slot] = s;
      present[c.slot] = 1;
      partial += s;
      c.next();
    }
    let pruned = false;
    for (let i = essential - 1; i >= 0; i--) {
      if (input.prune && slack(partial + prefix[i]!) < theta) {
        pruned = true;
        break;
      }
      const c = cs[i]!;
      c.advance(d);
      if (c.doc === d) c.materialize();
      if (c.doc !== d) continue;
      const s = c.score(lb, lt, ctx);
      parts[c.slot] = s;
      present[c.slot] = 1;
      partial += s;
    }
    if (pruned) continue;
    heap.offer({ rowid: d, score: compensatedSum(parts, present) });
    if (input.prune) {
      const t = heap.threshold;
      while (essential < n && slack(prefix[essential]!) < t) essential++;
    }
  }
  return heap.sorted();
}
