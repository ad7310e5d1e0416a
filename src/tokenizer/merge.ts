// Applying learned merges to one pre-tokenised word. The rule (llama.cpp's and Hugging Face's):
// repeatedly merge the adjacent pair with the lowest merge rank, the leftmost one when the same
// pair occurs more than once, until no adjacent pair has a rank.
//
// Two implementations of that one rule: `mergeWordSimple` rescans the word after every merge
// (fastest for the short words that make up almost all text), `mergeWordHeap` keeps candidate
// pairs in a priority queue over a linked list (O(n log n), for long words such as a run of a
// thousand spaces). Tests check that they agree.

/** The learned merges in rank order, indexed for lookup. */
export interface MergeTable {
  /** pairKey(a, b) → rank (the merge's index). */
  readonly ranks: ReadonlyMap<number, number>;
  /** rank → the token id the merge produces. */
  readonly results: Int32Array;
  /** Multiplier of the pair key: greater than every id a merge can involve. */
  readonly keyBase: number;
}

/** Words at least this long go through the heap. */
export const LONG_WORD = 48;

/** Merges `sym` in place (its length shrinks) and returns it. */
export function mergeWord(sym: number[], table: MergeTable): number[] {
  return sym.length >= LONG_WORD ? mergeWordHeap(sym, table) : mergeWordSimple(sym, table);
}

export function mergeWordSimple(sym: number[], table: MergeTable): number[] {
  const { ranks, results, keyBase } = table;
  let n = sym.length;
  while (n > 1) {
    let best = -1;
    let bestAt = -1;
    let key = sym[0]! * keyBase;
    for (let i = 0; i + 1 < n; i++) {
      const next = sym[i + 1]!;
      const r = ranks.get(key + next);
      if (r !== undefined && (best < 0 || r < best)) {
        best = r;
        bestAt = i;
      }
      key = next * keyBase;
    }
    if (best < 0) break;
    sym[bestAt] = results[best]!;
    sym.copyWithin(bestAt + 1, bestAt + 2, n);
    n--;
  }
  sym.length = n;
  return sym;
}

/** A binary min-heap of (rank, position) candidates, ordered by rank then position. */
class CandidateHeap {
  private rank: number[] = [];
  private pos: number[] = [];

  get size(): number {
    return this.rank.length;
  }

  private less(i: number, j: number): boolean {
    const ri = this.rank[i]!;
    const rj = this.rank[j]!;
    return ri < rj || (ri === rj && this.pos[i]! < this.pos[j]!);
  }

  private swap(i: number, j: number): void {
    const r = this.rank[i]!;
    this.rank[i] = this.rank[j]!;
    this.rank[j] = r;
    const p = this.pos[i]!;
    this.pos[i] = this.pos[j]!;
    this.pos[j] = p;
  }

  push(rank: number, pos: number): void {
    this.rank.push(rank);
    this.pos.push(pos);
    let i = this.rank.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top; the caller read it with topRank/topPos first. */
  pop(): void {
    const last = this.rank.length - 1;
    this.swap(0, last);
    this.rank.pop();
    this.pos.pop();
    const n = this.rank.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  topRank(): number {
    return this.rank[0]!;
  }

  topPos(): number {
    return this.pos[0]!;
  }
}

export function mergeWordHeap(sym: number[], table: MergeTable): number[] {
  const { ranks, results, keyBase } = table;
  const n = sym.length;
  if (n < 2) return sym;
  // A doubly linked list over positions; a merged-away position gets next = -2.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new CandidateHeap();
  const consider = (left: number): void => {
    const right = next[left]!;
    if (right < 0) return;
    const r = ranks.get(sym[left]! * keyBase + sym[right]!);
    if (r !== undefined) heap.push(r, left);
  };
  for (let i = 0; i + 1 < n; i++) consider(i);
  while (heap.size > 0) {
    const r = heap.topRank();
    const left = heap.topPos();
    heap.pop();
    const right = next[left]!;
    // Stale when the left symbol was merged away, is last now, or the pair there changed.
    if (right < 0 || ranks.get(sym[left]! * keyBase + sym[right]!) !== r) continue;
    sym[left] = results[r]!;
    const after = next[right]!;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    next[right] = -2;
    if (prev[left]! >= 0) consider(prev[left]!);
    consider(left);
  }
  let w = 0;
  for (let i = 0; i >= 0; i = next[i]!) sym[w++] = sym[i]!;
  sym.length = w;
  return sym;
}
