// The k best of a stream in O(n log k) time and O(k) memory: a min-heap whose root is the weakest
// of the current best, so most candidates are rejected by one comparison.

export interface Scored<T> {
  score: number;
  /** Breaks ties so the ranking is deterministic: the smaller key ranks first. */
  key: string;
  item: T;
}

/** a ranks below b: lower score, or the same score and a later key. */
const worse = <T>(a: Scored<T>, b: Scored<T>): boolean => a.score < b.score || (a.score === b.score && a.key > b.key);

export class TopK<T> {
  private readonly heap: Scored<T>[] = [];

  constructor(readonly k: number) {}

  push(entry: Scored<T>): void {
    if (this.k <= 0) return;
    const h = this.heap;
    if (h.length < this.k) {
      h.push(entry);
      this.up(h.length - 1);
    } else if (worse(h[0]!, entry)) {
      h[0] = entry;
      this.down(0);
    }
  }

  /** Whether a candidate with this score could still enter (lets callers skip work). */
  admits(score: number): boolean {
    return this.heap.length < this.k || score >= this.heap[0]!.score;
  }

  /** Best first. */
  sorted(): Scored<T>[] {
    return [...this.heap].sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && worse(h[l]!, h[m]!)) m = l;
      if (r < h.length && worse(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
