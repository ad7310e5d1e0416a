// The exhaustive reference of bench/scale.ts: the store's live postings, read back from the index
// segments into flat typed arrays by term, every posting of every query term scored with the same
// BM25F formula and parameters (src/knowledge/bm25.ts), no pruning.
import { analyze } from "../src/knowledge/analyzer.js";
import { idf, type Bm25Params } from "../src/knowledge/bm25.js";
import { PostingsBlob } from "../src/knowledge/index/postings-codec.js";
import type { KnowledgeBase } from "../src/knowledge/knowledge-base.js";

/** The reference: the store's postings in memory as compressed rows by term, scored exhaustively. */
export class InMemoryBm25f {
  private constructor(
    private readonly terms: Map<string, { id: number; df: number }>,
    private readonly offsets: Int32Array,
    private readonly chunkOf: Int32Array,
    private readonly tfBody: Uint16Array,
    private readonly tfTitle: Uint16Array,
    private readonly lenBody: Float64Array,
    private readonly lenTitle: Float64Array,
    readonly chunks: number,
    private readonly avgBody: number,
    private readonly avgTitle: number,
    private readonly params: Bm25Params,
    readonly postings: number,
  ) {
    this.acc = new Float64Array(lenBody.length);
  }

  private readonly acc: Float64Array;

  static load(kb: KnowledgeBase, params: Bm25Params): InMemoryBm25f {
    const db = kb.store.db;
    const maxTerm = (db.prepare("SELECT coalesce(max(term_id), 0) AS m FROM terms").get() as { m: number }).m;
    const terms = new Map<string, { id: number; df: number }>();
    for (const [term, id, df] of db.prepare("SELECT term, term_id, df FROM terms").raw().iterate() as IterableIterator<[string, number, number]>) terms.set(term, { id, df });
    const maxChunk = (db.prepare("SELECT coalesce(max(rowid), 0) AS m FROM chunks").get() as { m: number }).m;
    const lenBody = new Float64Array(maxChunk + 1);
    const lenTitle = new Float64Array(maxChunk + 1);
    let chunks = 0;
    let sumBody = 0;
    let sumTitle = 0;
    for (const [rowid, b, t] of db.prepare("SELECT rowid, len_body, len_title FROM chunks").raw().iterate() as IterableIterator<[number, number, number]>) {
      lenBody[rowid] = b;
      lenTitle[rowid] = t;
      sumBody += b;
      sumTitle += t;
      chunks++;
    }
    // Postings of live chunks, read back from the index's segments (two passes: count, then fill).
    const live = new Uint8Array(maxChunk + 1);
    for (const r of db.prepare("SELECT rowid FROM chunks").pluck().iterate() as IterableIterator<number>) live[r] = 1;
    const segments = kb.store.index.listSegments();
    const perTerm = new Int32Array(maxTerm + 2);
    const eachBlob = (fn: (termId: number, blob: PostingsBlob) => void): void => {
      for (const seg of segments) {
        for (const [termId, data] of db.prepare("SELECT term_id, data FROM lex_postings WHERE seg_id = ?").raw().all(seg.segId) as [number, Buffer][]) fn(termId, new PostingsBlob(data));
      }
    };
    eachBlob((termId, blob) => (perTerm[termId] = (perTerm[termId] as number) + blob.count));
    const offsets = new Int32Array(maxTerm + 2);
    for (let t = 0, acc = 0; t <= maxTerm + 1; t++) {
      offsets[t] = acc;
      acc += perTerm[t] as number;
    }
    const fill = Int32Array.from(offsets);
    const capacity = offsets[maxTerm + 1] as number;
    const chunkOf = new Int32Array(capacity);
    const tfBody = new Uint16Array(capacity);
    const tfTitle = new Uint16Array(capacity);
    // Segments are in rowid order, so each term's list comes out sorted by chunk.
    eachBlob((termId, blob) => {
      for (const e of blob.entries()) {
        if (!live[e.rowid]) continue;
        const at = (fill[termId] as number);
        chunkOf[at] = e.rowid;
        tfBody[at] = e.tfBody;
        tfTitle[at] = e.tfTitle;
        fill[termId] = at + 1;
      }
    });
    // Compact away the room left by tombstoned postings.
    let i = 0;
    let lastTerm = -1;
    for (let t = 0; t <= maxTerm; t++) {
      const from = offsets[t] as number;
      const to = fill[t] as number;
      while (lastTerm < t) offsets[++lastTerm] = i;
      for (let p = from; p < to; p++, i++) {
        chunkOf[i] = chunkOf[p] as number;
        tfBody[i] = tfBody[p] as number;
        tfTitle[i] = tfTitle[p] as number;
      }
    }
    const total = i;
    while (lastTerm < maxTerm + 1) offsets[++lastTerm] = i;
    return new InMemoryBm25f(terms, offsets, chunkOf, tfBody, tfTitle, lenBody, lenTitle, chunks, Math.max(sumBody / chunks, 1e-9), Math.max(sumTitle / chunks, 1e-9), params, total);
  }

  /** Top k chunk rowids with scores, best first (ties by rowid; the caller treats ties at the cut as equal). */
  search(query: string, k: number): { rowid: number; score: number }[] {
    const { k1, b, bTitle, weightBody, weightTitle } = this.params;
    const qtf = new Map<string, number>();
    for (const t of analyze(query)) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const acc = this.acc;
    const touched: number[] = [];
    for (const [term, n] of qtf) {
      const t = this.terms.get(term);
      if (!t) continue;
      const w = idf(t.df, this.chunks) * n;
      const end = this.offsets[t.id + 1] as number;
      for (let p = this.offsets[t.id] as number; p < end; p++) {
        const c = this.chunkOf[p] as number;
        const tf =
          (weightBody * (this.tfBody[p] as number)) / (1 - b + (b * (this.lenBody[c] as number)) / this.avgBody) +
          (weightTitle * (this.tfTitle[p] as number)) / (1 - bTitle + (bTitle * (this.lenTitle[c] as number)) / this.avgTitle);
        if (acc[c] === 0) touched.push(c);
        acc[c] = (acc[c] as number) + (w * tf * (k1 + 1)) / (tf + k1);
      }
    }
    // Top k by a small sorted insertion buffer.
    const top: { rowid: number; score: number }[] = [];
    for (const c of touched) {
      const s = acc[c] as number;
      acc[c] = 0;
      if (top.length === k && s <= (top[k - 1] as { score: number }).score) continue;
      let j = top.length < k ? top.length : k - 1;
      if (top.length < k) top.push({ rowid: c, score: s });
      while (j > 0 && (top[j - 1] as { score: number }).score < s) {
        top[j] = top[j - 1] as { rowid: number; score: number };
        j--;
      }
      top[j] = { rowid: c, score: s };
    }
    return top;
  }
}
