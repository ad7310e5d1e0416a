// The vectors of one model in memory beside its graph index, keyed by chunk rowid, with each
// chunk's document: what makes filtered search exact. A narrow or mid-sized readable set is scanned
// here (a bitmap test per vector, a dot product per readable one) instead of re-read from SQLite;
// graph search alone misses far neighbours when most of the near ones are filtered out.
import { TopK } from "./top-k.js";

const grow = <T extends Int32Array | Float32Array>(a: T, size: number, make: (n: number) => T): T => {
  if (size <= a.length) return a;
  const b = make(Math.max(size, a.length * 2));
  b.set(a);
  return b;
};

export class VectorSlab {
  private data = new Float32Array(0);
  /** slot → chunk rowid (0: free); chunk rowid → slot + 1; chunk rowid → document rowid. */
  private chunkOf = new Int32Array(1024);
  private slotOf = new Int32Array(1024);
  private docOfChunk = new Int32Array(1024);
  private perDoc = new Int32Array(1024);
  private readonly free: number[] = [];
  private used = 0;
  private count = 0;

  constructor(readonly dimensions: number) {}

  size(): number {
    return this.count;
  }

  /** Document rowid of an indexed chunk, 0 when the chunk has no vector here. */
  docOf(chunk: number): number {
    return chunk < this.docOfChunk.length ? this.docOfChunk[chunk]! : 0;
  }

  /** How many vectors a document has here. */
  vectorsOf(doc: number): number {
    return doc < this.perDoc.length ? this.perDoc[doc]! : 0;
  }

  put(chunk: number, doc: number, vector: Float32Array): void {
    this.delete(chunk);
    const slot = this.free.pop() ?? this.used++;
    const d = this.dimensions;
    this.data = grow(this.data, (slot + 1) * d, (n) => new Float32Array(n));
    this.data.set(vector, slot * d);
    this.chunkOf = grow(this.chunkOf, slot + 1, (n) => new Int32Array(n));
    this.slotOf = grow(this.slotOf, chunk + 1, (n) => new Int32Array(n));
    this.docOfChunk = grow(this.docOfChunk, chunk + 1, (n) => new Int32Array(n));
    this.perDoc = grow(this.perDoc, doc + 1, (n) => new Int32Array(n));
    this.chunkOf[slot] = chunk;
    this.slotOf[chunk] = slot + 1;
    this.docOfChunk[chunk] = doc;
    this.perDoc[doc]!++;
    this.count++;
  }

  delete(chunk: number): void {
    const slot = chunk < this.slotOf.length ? this.slotOf[chunk]! - 1 : -1;
    if (slot < 0) return;
    this.perDoc[this.docOfChunk[chunk]!]!--;
    this.slotOf[chunk] = 0;
    this.docOfChunk[chunk] = 0;
    this.chunkOf[slot] = 0;
    this.free.push(slot);
    this.count--;
  }

  /** Exact top-k by dot product among chunks whose document passes `readable` (a bitmap over document rowids). */
  scan(query: Float32Array, k: number, readable: Uint8Array): { rowid: number; score: number }[] {
    const d = this.dimensions;
    const top = new TopK<number>(k);
    const data = this.data;
    for (let slot = 0; slot < this.used; slot++) {
      const chunk = this.chunkOf[slot]!;
      if (chunk === 0) continue;
      const doc = this.docOfChunk[chunk]!;
      if (doc >= readable.length || readable[doc] !== 1) continue;
      let s = 0;
      const o = slot * d;
      for (let j = 0; j < d; j++) s += data[o + j]! * query[j]!;
      // Ties break by rowid, zero-padded so string order is numeric order.
      if (top.admits(s)) top.push({ score: s, key: String(chunk).padStart(12, "0"), item: chunk });
    }
    return top.sorted().map((e) => ({ rowid: e.item, score: e.score }));
  }
}
