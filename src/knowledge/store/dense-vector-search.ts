// Dense search in the SQLite backend (decisions 0004 and 0009). Two paths over one model's vectors:
// the exact scan from SQLite, and an HNSW index (with the vectors in memory beside it) kept as a
// cache beside the store and caught up from the vector change log before each search. Access and
// filters are applied inside the search: the caller's readable documents become a bitmap; up to a
// quarter of the vectors readable, exactly those are scanned in memory; more, and the index is
// searched ever deeper until k readable chunks are found, the in-memory scan still the guarantee,
// so a caller who may read 1% gets k results, the exact ones.
import type Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import type { ProgressListener } from "../../core/events.js";
import { AnnIndex, DEFAULT_ANN_PARAMS, type AnnParams } from "../dense/ann-index.js";
import { TopK } from "../dense/top-k.js";
import { decodeVector, dimensionMismatch, dot } from "../dense/vectors.js";
import { VectorSlab } from "../dense/vector-slab.js";
import type { SearchFilter, SearchHit } from "../types.js";
import { isOwner, type Access } from "./access.js";
import type { DenseQueryOptions } from "./backend.js";
import { DenseChangeLog } from "./dense-change-log.js";
import { readableClause, type KnowledgeStore } from "./sqlite-store.js";

export interface DenseTuning {
  /** "auto" uses the index from this many vectors on (below it the exact scan is as fast). */
  annMinVectors: number;
  /** "auto" scans the readable vectors exactly (in memory) when they are at most this share of all. */
  exactReadableShare: number;
  /** HNSW parameters for indexes built from now on. */
  params: AnnParams;
  /** Progress of index builds (an on-demand build during a search has no other listener). */
  onProgress?: ProgressListener;
  /** Keep index files beside the store (default true for a store on disk). */
  persist: boolean;
}

export const DEFAULT_DENSE_TUNING: DenseTuning = { annMinVectors: 20_000, exactReadableShare: 0.25, params: DEFAULT_ANN_PARAMS, persist: true };

/** Changes replayed into a live index before a full rebuild is cheaper. */
const MAX_REPLAY = (size: number): number => Math.max(2_000, Math.floor(size / 10));
const BUILD_BATCH = 4_096;

interface ModelIndex {
  modelId: string;
  ann: AnnIndex;
  /** Change-log position the index reflects, and the one its saved file reflects. */
  seq: number;
  savedSeq: number;
  /** Chunks replayed since the file was saved: many of them make close() save again. */
  replayed: number;
  /** The change token when the index was last caught up: unchanged means no need to look at the log. */
  token: string;
  /** The same vectors in memory with each chunk's document: filtered search scans them exactly. */
  slab: VectorSlab;
}

interface Readable {
  /** Readable documents (that have vectors) as a bitmap over document rowids, and their vector count. */
  bitmap: Uint8Array;
  vectors: number;
}

export class DenseVectorSearch {
  private readonly log: DenseChangeLog;
  private readonly indexes = new Map<string, ModelIndex>();
  private readonly readableCache = new Map<string, { token: string; readable: Readable }>();
  private readonly prunable = new Map<string, number>();
  private readonly counts = new Map<string, { token: string; n: number }>();
  tuning: DenseTuning = DEFAULT_DENSE_TUNING;

  constructor(
    private readonly db: Database.Database,
    private readonly store: KnowledgeStore,
  ) {
    this.log = new DenseChangeLog(db);
    if (!db.readonly) this.log.ensure();
  }

  search(modelId: string, query: Float32Array, opts: DenseQueryOptions): SearchHit[] {
    const model = this.db.prepare("SELECT dimensions FROM embedding_models WHERE model_id = ?").get(modelId) as { dimensions: number } | undefined;
    if (!model) return [];
    if (query.length !== model.dimensions) throw dimensionMismatch(modelId, model.dimensions, query.length);
    const method = opts.method ?? "auto";
    if (method === "exact" || (method === "auto" && this.vectorCount(modelId) < this.tuning.annMinVectors)) return this.exact(modelId, query, opts);
    // One read transaction: catching up, ranking and fetching the winners see one snapshot.
    const hits = this.db.transaction(() => {
      const idx = this.index(modelId, model.dimensions);
      if (!idx) return this.exact(modelId, query, opts);
      const restricted = !isOwner(opts.access) || (opts.filter?.tags?.length ?? 0) > 0 || !!opts.filter?.sourcePrefix;
      if (!restricted) return this.hits(idx.ann.search(query, opts.k).map((m) => ({ rowid: m.key, score: m.score })), opts);
      const readable = this.readable(idx, opts.access, opts.filter);
      if (readable.vectors === 0) return [];
      const exact = (): SearchHit[] => this.hits(idx.slab.scan(query, opts.k, readable.bitmap), opts);
      if (method === "auto" && readable.vectors <= this.tuning.exactReadableShare * idx.slab.size()) return exact();
      const found = this.annFiltered(idx, readable, query, opts.k);
      return found.length >= Math.min(opts.k, readable.vectors) ? this.hits(found, opts) : exact();
    })();
    if (this.prunable.size > 0) this.prune();
    return hits;
  }

  /** Vectors of the model: the live index's size, else a count cached until the database changes. */
  private vectorCount(modelId: string): number {
    const live = this.indexes.get(modelId);
    const token = this.changeToken();
    if (live && live.token === token) return live.ann.size();
    const cached = this.counts.get(modelId);
    if (cached && cached.token === token) return cached.n;
    const { n } = this.db.prepare("SELECT count(*) AS n FROM chunk_vectors WHERE model_id = ?").get(modelId) as { n: number };
    this.counts.set(modelId, { token, n });
    return n;
  }

  /** Changes whenever any connection commits (data_version) or this one writes (total_changes). */
  private changeToken(): string {
    return `${String(this.db.pragma("data_version", { simple: true }))}:${(this.db.prepare("SELECT total_changes() AS n").get() as { n: number }).n}`;
  }

  /**
   * Oversampled index search: asks for enough neighbours that k readable ones are expected among
   * them (k / readable fraction, doubled), and asks four times deeper until it has k or has seen
   * the whole index. The caller falls back to the exact scan of the readable set if still short.
   */
  private annFiltered(idx: ModelIndex, readable: Readable, query: Float32Array, k: number): { rowid: number; score: number }[] {
    const size = idx.ann.size();
    let depth = Math.min(size, Math.ceil((k * size) / readable.vectors) * 2 + 16);
    for (;;) {
      const out: { rowid: number; score: number }[] = [];
      for (const m of idx.ann.search(query, depth)) {
        const doc = idx.slab.docOf(m.key);
        if (doc > 0 && doc < readable.bitmap.length && readable.bitmap[doc] === 1) {
          out.push({ rowid: m.key, score: m.score });
          if (out.length === k) return out;
        }
      }
      if (depth >= size) return out;
      depth = Math.min(size, depth * 4);
    }
  }

  /** Every readable vector scored; one read transaction, so the scan and the fetch see one snapshot. */
  exact(modelId: string, query: Float32Array, opts: DenseQueryOptions): SearchHit[] {
    return this.db.transaction(() => {
      const top = new TopK<number>(opts.k);
      for (const v of this.store.readableVectors(modelId, opts.access, opts.filter)) {
        const score = dot(query, v.vector);
        if (top.admits(score)) top.push({ score, key: v.chunkId, item: v.rowid });
      }
      return this.store.hitsByRowid(top.sorted().map((e) => ({ rowid: e.item, score: e.score })), opts.access, opts.filter);
    })();
  }

  private hits(ranked: { rowid: number; score: number }[], opts: { access: Access; filter?: SearchFilter }): SearchHit[] {
    return this.store.hitsByRowid(ranked, opts.access, opts.filter);
  }

  /** Readable documents as a bitmap, cached until the database changes (any connection). */
  private readable(idx: ModelIndex, access: Access, filter: SearchFilter | undefined): Readable {
    const key = `${idx.modelId}\0${JSON.stringify([access, filter ?? null])}`;
    const token = `${this.changeToken()}:${idx.seq}`;
    const hit = this.readableCache.get(key);
    if (hit && hit.token === token) return hit.readable;
    const where = readableClause(access, filter);
    const rowids = (this.db.prepare(`SELECT d.rowid AS rowid FROM documents d WHERE ${where.sql}`).raw().all(where.params) as [number][]).map((r) => r[0]);
    const bitmap = new Uint8Array(rowids.reduce((m, r) => Math.max(m, r), 0) + 1);
    let vectors = 0;
    for (const r of rowids) {
      const n = idx.slab.vectorsOf(r);
      if (n === 0) continue;
      bitmap[r] = 1;
      vectors += n;
    }
    const readable = { bitmap, vectors };
    if (this.readableCache.size >= 64) this.readableCache.delete(this.readableCache.keys().next().value!);
    this.readableCache.set(key, { token, readable });
    return readable;
  }

  private filePath(modelId: string): string | undefined {
    const name = this.db.name;
    if (!this.tuning.persist || this.db.memory || name === "" || name === ":memory:") return undefined;
    return join(dirname(name), `dense-${createHash("sha256").update(modelId).digest("hex").slice(0, 16)}.usearch`);
  }

  /**
   * The model's index, caught up with the store: loaded from its file, or rebuilt when the file is
   * missing, stale beyond the log, or damaged; then the logged changes since are replayed.
   * Undefined on a read-only store that has no change log (the caller scans exactly).
   */
  private index(modelId: string, dimensions: number, onProgress = this.tuning.onProgress): ModelIndex | undefined {
    if (!this.log.ensure()) return undefined;
    let idx = this.indexes.get(modelId);
    if (idx && (idx.ann.dimensions !== dimensions || idx.seq < this.log.floor(modelId))) idx = undefined;
    if (!idx) {
      idx = this.loadSaved(modelId, dimensions) ?? this.build(modelId, dimensions, onProgress);
      this.indexes.set(modelId, idx);
    }
    const token = this.changeToken();
    if (idx.token === token) return idx;
    const head = this.log.head(modelId);
    if (head > idx.seq) {
      const touched = this.log.touchedSince(modelId, idx.seq, MAX_REPLAY(idx.ann.size()));
      if (touched.rowids.length > MAX_REPLAY(idx.ann.size())) {
        idx = this.build(modelId, dimensions, onProgress);
        this.indexes.set(modelId, idx);
      } else {
        this.replay(idx, touched.rowids);
        idx.replayed += touched.rowids.length;
        idx.seq = touched.head;
      }
    }
    idx.token = token;
    return idx;
  }

  private loadSaved(modelId: string, dimensions: number): ModelIndex | undefined {
    const path = this.filePath(modelId);
    if (!path) return undefined;
    const loaded = AnnIndex.load(path, { modelId, dimensions, expansionSearch: this.tuning.params.expansionSearch });
    if ("problem" in loaded) {
      if (loaded.problem !== "no saved index") this.tuning.onProgress?.({ phase: "dense-index", done: 0, item: `rebuilding the index of ${modelId}: ${loaded.problem}` });
      return undefined;
    }
    if (loaded.meta.seq < this.log.floor(modelId)) return undefined;
    const idx: ModelIndex = { modelId, ann: loaded.index, seq: loaded.meta.seq, savedSeq: loaded.meta.seq, replayed: 0, token: "", slab: new VectorSlab(dimensions) };
    // The in-memory copy and each chunk's document come from SQLite, at the file's log position or
    // later: the replay that follows re-applies whatever changed since, which is idempotent.
    for (const r of this.vectorRows(modelId)) idx.slab.put(r.c, r.d, decodeVector(r.vector));
    return idx;
  }

  private vectorRows(modelId: string): IterableIterator<{ c: number; d: number; vector: Buffer }> {
    return this.db
      .prepare("SELECT v.chunk_rowid AS c, c.doc_rowid AS d, v.vector AS vector FROM chunk_vectors v JOIN chunks c ON c.rowid = v.chunk_rowid WHERE v.model_id = ?")
      .iterate(modelId) as IterableIterator<{ c: number; d: number; vector: Buffer }>;
  }

  /** Applies the current state of some chunks' vectors: removed, replaced or added. */
  private replay(idx: ModelIndex, rowids: number[]): void {
    const get = this.db.prepare("SELECT v.vector AS vector, c.doc_rowid AS doc FROM chunk_vectors v JOIN chunks c ON c.rowid = v.chunk_rowid WHERE v.model_id = ? AND v.chunk_rowid = ?");
    for (const rowid of rowids) {
      idx.ann.remove(rowid);
      idx.slab.delete(rowid);
      const r = get.get(idx.modelId, rowid) as { vector: Buffer; doc: number } | undefined;
      if (!r) continue;
      const v = decodeVector(r.vector);
      idx.ann.add([rowid], v);
      idx.slab.put(rowid, r.doc, v);
    }
  }

  /** Builds the model's index from every stored vector, with progress, and saves it beside the store. */
  build(modelId: string, dimensions: number, onProgress: ProgressListener | undefined = this.tuning.onProgress): ModelIndex {
    return this.db.transaction(() => {
      const seq = this.log.head(modelId);
      const total = (this.db.prepare("SELECT count(*) AS n FROM chunk_vectors WHERE model_id = ?").get(modelId) as { n: number }).n;
      const ann = AnnIndex.create(dimensions, this.tuning.params);
      const idx: ModelIndex = { modelId, ann, seq, savedSeq: -1, replayed: 0, token: "", slab: new VectorSlab(dimensions) };
      const keys: number[] = [];
      const matrix = new Float32Array(BUILD_BATCH * dimensions);
      const flush = (): void => {
        ann.add(keys, matrix.subarray(0, keys.length * dimensions));
        keys.length = 0;
        onProgress?.({ phase: "dense-index", done: ann.size(), total });
      };
      onProgress?.({ phase: "dense-index", done: 0, total });
      for (const r of this.vectorRows(modelId)) {
        const v = decodeVector(r.vector);
        if (v.length !== dimensions) throw dimensionMismatch(modelId, dimensions, v.length);
        matrix.set(v, keys.length * dimensions);
        keys.push(r.c);
        idx.slab.put(r.c, r.d, v);
        if (keys.length === BUILD_BATCH) flush();
      }
      if (keys.length > 0) flush();
      this.save(idx);
      return idx;
    })();
  }

  /**
   * Writes the index file when persistence is on. The log entries the file covers are pruned later,
   * outside the read transaction a search runs in (a write there could fail on a stale snapshot).
   */
  private save(idx: ModelIndex): void {
    const path = this.filePath(idx.modelId);
    if (!path || this.db.readonly) return;
    idx.ann.save(path, { modelId: idx.modelId, seq: idx.seq });
    idx.savedSeq = idx.seq;
    idx.replayed = 0;
    this.prunable.set(idx.modelId, idx.seq);
  }

  private prune(): void {
    if (this.db.inTransaction) return;
    for (const [modelId, seq] of this.prunable) {
      try {
        this.log.prune(modelId, seq);
        this.prunable.delete(modelId);
      } catch {
        // Busy: the log only grows a little longer; the next search or close retries.
      }
    }
  }

  /** Builds (or catches up) and saves the model's index now, e.g. right after embedding. */
  prepare(modelId: string, onProgress?: ProgressListener): { vectors: number; indexed: boolean } {
    const model = this.store.embeddingModel(modelId);
    if (!model || model.vectors < this.tuning.annMinVectors || !this.log.ensure()) return { vectors: model?.vectors ?? 0, indexed: false };
    const idx = this.db.transaction(() => this.index(modelId, model.dimensions, onProgress))();
    if (!idx) return { vectors: model.vectors, indexed: false };
    if (idx.savedSeq !== idx.seq) this.save(idx);
    this.prune();
    return { vectors: idx.ann.size(), indexed: true };
  }

  /** Saves indexes that replayed many changes since their file, so the next open starts close to current. */
  close(): void {
    for (const idx of this.indexes.values()) {
      if (idx.savedSeq >= 0 && idx.replayed > MAX_REPLAY(idx.ann.size()) / 4) {
        try {
          this.save(idx);
        } catch {
          // The file is a cache: failing to refresh it only costs a replay at the next open.
        }
      }
    }
    this.prune();
    this.indexes.clear();
    this.readableCache.clear();
  }
}
