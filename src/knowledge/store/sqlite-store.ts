// The embedded knowledge store: documents with lineage and ACLs, their chunks, and a BM25F inverted
// index, all in one SQLite file. Each document is written in one transaction, so a crash leaves the
// old version or the new one, never a mix; ranking and access control run in one query.
import type Database from "better-sqlite3";
import type { Acl, ChunkDraft, DocumentRecord, SearchFilter, SearchHit } from "../types.js";
import { termFrequencies } from "../analyzer.js";
import { idf, type Bm25Params } from "../bm25.js";
import { decodeVector, dimensionMismatch, encodeVector } from "../dense/vectors.js";
import { accessClause, type Access } from "./access.js";
import type { DenseQueryOptions, IntegrityReport, KnowledgeStoreBackend } from "./backend.js";
import { ConversationStore } from "./conversation-store.js";
import { DenseVectorSearch } from "./dense-vector-search.js";
import { checkIntegrity } from "./integrity.js";
import { ReadableDocuments } from "./readable-documents.js";
import { openDatabase, type OpenOptions } from "./schema.js";
import { TraceStore } from "./trace-store.js";

export interface DocumentInput {
  docId: string;
  source: string;
  title: string;
  mime: string;
  hash: string;
  size: number;
  text: string;
  acl: Acl;
  tags: string[];
  chunks: ChunkDraft[];
}

export type WriteStatus = "added" | "updated" | "unchanged";

export interface StoredDocumentInfo {
  rowid: number;
  docId: string;
  source: string;
  hash: string;
  version: number;
}

interface DocRow {
  rowid: number;
  doc_id: string;
  source: string;
  title: string;
  mime: string;
  hash: string;
  version: number;
  ingested_at: string;
  text: string;
}

interface HitRow {
  score: number;
  doc_id: string;
  source: string;
  title: string;
  chunk_id: string;
  heading_path: string;
  page: number | null;
  start: number;
  end: number;
  text: string;
}

/** Title field of a chunk: its document's title and the headings above it. */
export function titleFieldOf(docTitle: string, headingPath: string[]): string {
  return [docTitle, ...headingPath].join(" \n ");
}

/**
 * The conditions every retriever puts on documents `d`: the caller's rights and the search filters.
 * One function, so lexical and dense retrieval cannot disagree about what a caller may see.
 */
export function readableClause(access: Access, filter?: SearchFilter): { sql: string; params: Record<string, string> } {
  const acl = accessClause(access);
  const where = [acl.sql];
  const params: Record<string, string> = { ...acl.params };
  if (filter?.tags && filter.tags.length > 0) {
    where.push("EXISTS (SELECT 1 FROM doc_tags t WHERE t.doc_rowid = d.rowid AND t.tag IN (SELECT value FROM json_each(@tags)))");
    params.tags = JSON.stringify(filter.tags);
  }
  if (filter?.sourcePrefix) {
    where.push("substr(d.source, 1, length(@prefix)) = @prefix");
    params.prefix = filter.sourcePrefix;
  }
  return { sql: where.join(" AND "), params };
}

function toHit(r: Omit<HitRow, "score">, rank: number, score: number): SearchHit {
  return {
    rank,
    score,
    docId: r.doc_id,
    source: r.source,
    title: r.title,
    chunkId: r.chunk_id,
    headingPath: JSON.parse(r.heading_path) as string[],
    page: r.page,
    start: r.start,
    end: r.end,
    text: r.text,
  };
}

/** A chunk waiting for its vector: what the embedder reads. */
export interface ChunkToEmbed {
  rowid: number;
  chunkId: string;
  title: string;
  headingPath: string[];
  text: string;
}

export interface StoredVector {
  rowid: number;
  chunkId: string;
  vector: Float32Array;
}

export interface EmbeddingModelInfo {
  modelId: string;
  dimensions: number;
  createdAt: string;
  /** Vectors stored for this model. */
  vectors: number;
}

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join("\0") === [...b].sort().join("\0");

export class KnowledgeStore implements KnowledgeStoreBackend {
  private readonly statements = new Map<string, Database.Statement>();
  readonly readable: ReadableDocuments;
  readonly conversations: ConversationStore;
  readonly traces: TraceStore;
  readonly dense: DenseVectorSearch;

  /** `db` is for code inside src/knowledge/store and tests; everything else uses the typed operations. */
  private constructor(readonly db: Database.Database) {
    this.readable = new ReadableDocuments(db);
    this.conversations = new ConversationStore(db);
    this.traces = new TraceStore(db);
    this.dense = new DenseVectorSearch(db, this);
  }

  /** A prepared statement, compiled once per store: ingest runs the same few per chunk. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  static open(location: string, opts: OpenOptions = {}): KnowledgeStore {
    return new KnowledgeStore(openDatabase(location, opts));
  }

  close(): void {
    this.dense.close();
    this.db.close();
  }

  integrityCheck = (): IntegrityReport => checkIntegrity(this.db);

  /** Top-k by cosine among readable chunks; exact or approximate (see dense-vector-search.ts). */
  denseSearch = (modelId: string, query: Float32Array, opts: DenseQueryOptions): SearchHit[] => this.dense.search(modelId, query, opts);

  findBySource(source: string): StoredDocumentInfo | undefined {
    const row = this.stmt("SELECT rowid, doc_id, source, hash, version FROM documents WHERE source = ?").get(source) as
      | { rowid: number; doc_id: string; source: string; hash: string; version: number }
      | undefined;
    return row && { rowid: row.rowid, docId: row.doc_id, source: row.source, hash: row.hash, version: row.version };
  }

  private aclOf(rowid: number): Acl {
    const rows = this.stmt("SELECT kind, principal FROM doc_acl WHERE doc_rowid = ? ORDER BY principal").all(rowid) as { kind: string; principal: string }[];
    return { users: rows.filter((r) => r.kind === "user").map((r) => r.principal), groups: rows.filter((r) => r.kind === "group").map((r) => r.principal) };
  }

  private tagsOf(rowid: number): string[] {
    return (this.stmt("SELECT tag FROM doc_tags WHERE doc_rowid = ? ORDER BY tag").all(rowid) as { tag: string }[]).map((r) => r.tag);
  }

  /** Whether a stored document already has this content, ACL and tags (re-ingest skips it). */
  isUnchanged(info: StoredDocumentInfo, hash: string, acl: Acl, tags: string[]): boolean {
    if (info.hash !== hash) return false;
    const stored = this.aclOf(info.rowid);
    return sameSet(stored.users, acl.users) && sameSet(stored.groups, acl.groups) && sameSet(this.tagsOf(info.rowid), tags);
  }

  /** Adds or replaces a document with its chunks and index entries, atomically. */
  writeDocument(input: DocumentInput): { status: WriteStatus; version: number } {
    return this.db.transaction(() => {
      const existing = this.findBySource(input.source);
      if (existing && this.isUnchanged(existing, input.hash, input.acl, input.tags)) return { status: "unchanged" as const, version: existing.version };
      const now = new Date().toISOString();
      const isPublic = input.acl.users.length === 0 && input.acl.groups.length === 0 ? 1 : 0;
      let rowid: number;
      let version: number;
      if (existing && existing.hash === input.hash) {
        // Same content, new ACL or tags: keep chunks and version, replace the metadata.
        rowid = existing.rowid;
        version = existing.version;
        this.stmt("UPDATE documents SET is_public = ?, ingested_at = ? WHERE rowid = ?").run(isPublic, now, rowid);
      } else if (existing) {
        rowid = existing.rowid;
        version = existing.version + 1;
        this.deleteChunks(rowid);
        this.db
          .prepare("UPDATE documents SET title = ?, mime = ?, hash = ?, version = ?, ingested_at = ?, size = ?, is_public = ?, text = ? WHERE rowid = ?")
          .run(input.title, input.mime, input.hash, version, now, input.size, isPublic, input.text, rowid);
        this.insertChunks(rowid, input.docId, version, input.title, input.chunks);
      } else {
        version = 1;
        rowid = Number(
          this.db
            .prepare("INSERT INTO documents (doc_id, source, title, mime, hash, version, ingested_at, size, is_public, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .run(input.docId, input.source, input.title, input.mime, input.hash, version, now, input.size, isPublic, input.text).lastInsertRowid,
        );
        this.insertChunks(rowid, input.docId, version, input.title, input.chunks);
      }
      this.stmt("DELETE FROM doc_acl WHERE doc_rowid = ?").run(rowid);
      this.stmt("DELETE FROM doc_tags WHERE doc_rowid = ?").run(rowid);
      const putAcl = this.stmt("INSERT OR IGNORE INTO doc_acl (doc_rowid, kind, principal) VALUES (?, ?, ?)");
      for (const u of input.acl.users) putAcl.run(rowid, "user", u);
      for (const g of input.acl.groups) putAcl.run(rowid, "group", g);
      const putTag = this.stmt("INSERT OR IGNORE INTO doc_tags (doc_rowid, tag) VALUES (?, ?)");
      for (const t of input.tags) putTag.run(rowid, t);
      return { status: existing ? ("updated" as const) : ("added" as const), version };
    })();
  }

  /** Many documents in one transaction (bulk loads): all stored, or none. */
  writeDocuments = (inputs: DocumentInput[]): { status: WriteStatus; version: number }[] => this.db.transaction(() => inputs.map((i) => this.writeDocument(i)))();

  private insertChunks(docRowid: number, docId: string, version: number, title: string, chunks: ChunkDraft[]): void {
    const putChunk = this.stmt(
      `INSERT INTO chunks (chunk_id, doc_rowid, ordinal, heading_path, start, "end", page, text, token_count, len_body, len_title)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const putTerm = this.stmt("INSERT INTO terms (term, df) VALUES (?, 1) ON CONFLICT (term) DO UPDATE SET df = df + 1 RETURNING term_id");
    const putPosting = this.stmt("INSERT INTO postings (term_id, chunk_rowid, tf_body, tf_title) VALUES (?, ?, ?, ?)");
    let sumBody = 0;
    let sumTitle = 0;
    for (const c of chunks) {
      const body = termFrequencies(c.text);
      const titleTf = termFrequencies(titleFieldOf(title, c.headingPath));
      const lenBody = [...body.values()].reduce((a, b) => a + b, 0);
      const lenTitle = [...titleTf.values()].reduce((a, b) => a + b, 0);
      const chunkRowid = Number(
        putChunk.run(`${docId}-v${version}-${c.ordinal}`, docRowid, c.ordinal, JSON.stringify(c.headingPath), c.start, c.end, c.page ?? null, c.text, lenBody, lenBody, lenTitle)
          .lastInsertRowid,
      );
      for (const term of new Set([...body.keys(), ...titleTf.keys()])) {
        const { term_id } = putTerm.get(term) as { term_id: number };
        putPosting.run(term_id, chunkRowid, body.get(term) ?? 0, titleTf.get(term) ?? 0);
      }
      sumBody += lenBody;
      sumTitle += lenTitle;
    }
    this.stmt("UPDATE stats SET chunks = chunks + ?, sum_len_body = sum_len_body + ?, sum_len_title = sum_len_title + ? WHERE id = 1").run(chunks.length, sumBody, sumTitle);
  }

  /** Removes a document's chunks and their index entries (postings are found by re-analysing the text). */
  private deleteChunks(docRowid: number): void {
    const rows = this.stmt("SELECT c.rowid, c.text, c.heading_path, c.len_body, c.len_title, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid WHERE c.doc_rowid = ?").all(docRowid) as {
      rowid: number;
      text: string;
      heading_path: string;
      len_body: number;
      len_title: number;
      title: string;
    }[];
    const termId = this.stmt("SELECT term_id FROM terms WHERE term = ?");
    const dropPosting = this.stmt("DELETE FROM postings WHERE term_id = ? AND chunk_rowid = ?");
    const decDf = this.stmt("UPDATE terms SET df = df - 1 WHERE term_id = ?");
    let sumBody = 0;
    let sumTitle = 0;
    for (const r of rows) {
      const terms = new Set([...termFrequencies(r.text).keys(), ...termFrequencies(titleFieldOf(r.title, JSON.parse(r.heading_path) as string[])).keys()]);
      for (const term of terms) {
        const t = termId.get(term) as { term_id: number } | undefined;
        if (!t) continue;
        if (dropPosting.run(t.term_id, r.rowid).changes > 0) decDf.run(t.term_id);
      }
      sumBody += r.len_body;
      sumTitle += r.len_title;
    }
    this.stmt("DELETE FROM chunks WHERE doc_rowid = ?").run(docRowid);
    this.stmt("DELETE FROM terms WHERE df <= 0").run();
    this.stmt("UPDATE stats SET chunks = chunks - ?, sum_len_body = sum_len_body - ?, sum_len_title = sum_len_title - ? WHERE id = 1").run(rows.length, sumBody, sumTitle);
  }

  /** Deletes a document and everything derived from it, atomically. */
  removeDocument(docId: string): boolean {
    return this.db.transaction(() => {
      const row = this.stmt("SELECT rowid FROM documents WHERE doc_id = ?").get(docId) as { rowid: number } | undefined;
      if (!row) return false;
      this.deleteChunks(row.rowid);
      this.stmt("DELETE FROM documents WHERE rowid = ?").run(row.rowid);
      return true;
    })();
  }

  listSources(): { docId: string; source: string }[] {
    return (this.stmt("SELECT doc_id, source FROM documents ORDER BY source").all() as { doc_id: string; source: string }[]).map((r) => ({ docId: r.doc_id, source: r.source }));
  }

  /** A document with its extracted text, if it exists and the caller may read it. */
  getDocument(docId: string, access: Access): DocumentRecord | undefined {
    const acl = accessClause(access);
    const row = this.stmt(`SELECT d.* FROM documents d WHERE d.doc_id = @doc_id AND ${acl.sql}`).get({ doc_id: docId, ...acl.params }) as DocRow | undefined;
    if (!row) return undefined;
    return {
      docId: row.doc_id,
      source: row.source,
      title: row.title,
      mime: row.mime,
      hash: row.hash,
      version: row.version,
      ingestedAt: row.ingested_at,
      tags: this.tagsOf(row.rowid),
      acl: this.aclOf(row.rowid),
      text: row.text,
    };
  }

  /** Chunk count and document frequencies: what idf needs. */
  termStats(terms: Iterable<string>): { chunks: number; df: Map<string, { termId: number; df: number }> } {
    const { chunks } = this.stmt("SELECT chunks FROM stats WHERE id = 1").get() as { chunks: number };
    const get = this.stmt("SELECT term_id, df FROM terms WHERE term = ?");
    const df = new Map<string, { termId: number; df: number }>();
    for (const t of terms) {
      const r = get.get(t) as { term_id: number; df: number } | undefined;
      if (r) df.set(t, { termId: r.term_id, df: r.df });
    }
    return { chunks, df };
  }

  /**
   * BM25F ranking over chunks the caller may read. Field-weighted, length-normalised term
   * frequencies are summed per chunk, saturated by k1 and weighted by idf; access and filters are
   * conditions of the same query, so an excluded chunk is never ranked or returned.
   */
  lexicalSearch(queryTerms: string[], opts: { k: number; access: Access; filter?: SearchFilter; params: Bm25Params }): SearchHit[] {
    const qtf = new Map<string, number>();
    for (const t of queryTerms) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const stats = this.termStats(qtf.keys());
    if (stats.chunks === 0 || stats.df.size === 0) return [];
    const weights = [...stats.df.entries()].map(([term, { termId, df }]) => [termId, idf(df, stats.chunks) * (qtf.get(term) ?? 1)]);
    const sums = this.stmt("SELECT sum_len_body, sum_len_title FROM stats WHERE id = 1").get() as { sum_len_body: number; sum_len_title: number };
    const avgBody = Math.max(sums.sum_len_body / stats.chunks, 1e-9);
    const avgTitle = Math.max(sums.sum_len_title / stats.chunks, 1e-9);
    const where = readableClause(opts.access, opts.filter);
    const params: Record<string, string | number> = {
      q: JSON.stringify(weights),
      k1: opts.params.k1,
      b: opts.params.b,
      bt: opts.params.bTitle,
      wb: opts.params.weightBody,
      wt: opts.params.weightTitle,
      avgb: avgBody,
      avgt: avgTitle,
      k: opts.k,
      ...where.params,
    };
    const rows = this.db
      .prepare(
        `WITH q AS (SELECT value ->> 0 AS term_id, value ->> 1 AS w FROM json_each(@q)),
         f AS (
           SELECT p.chunk_rowid AS chunk_rowid, q.w AS w,
                  @wb * p.tf_body / (1.0 - @b + @b * c.len_body * 1.0 / @avgb) + @wt * p.tf_title / (1.0 - @bt + @bt * c.len_title * 1.0 / @avgt) AS tf
           FROM q JOIN postings p ON p.term_id = q.term_id JOIN chunks c ON c.rowid = p.chunk_rowid
         ),
         s AS (SELECT chunk_rowid, SUM(w * tf * (@k1 + 1.0) / (tf + @k1)) AS score FROM f GROUP BY chunk_rowid),
         -- Rank and cut to k on narrow rows (access and filters included), then read text for k rows
         -- only: sorting full rows with their text was most of the query's time.
         top AS MATERIALIZED (
           SELECT s.chunk_rowid, s.score, c.chunk_id
           FROM s JOIN chunks c ON c.rowid = s.chunk_rowid JOIN documents d ON d.rowid = c.doc_rowid
           WHERE ${where.sql}
           ORDER BY s.score DESC, c.chunk_id
           LIMIT @k
         )
         SELECT top.score, d.doc_id, d.source, d.title, c.chunk_id, c.heading_path, c.page, c.start, c."end", c.text
         FROM top JOIN chunks c ON c.rowid = top.chunk_rowid JOIN documents d ON d.rowid = c.doc_rowid
         ORDER BY top.score DESC, top.chunk_id`,
      )
      .all(params) as HitRow[];
    return rows.map((r, i) => toHit(r, i + 1, r.score));
  }

  // ---- Dense vectors (schema 2): one vector per chunk and embedding model id. ----

  /** The model's recorded width and how many vectors it has; undefined when never used here. */
  embeddingModel(modelId: string): EmbeddingModelInfo | undefined {
    const row = this.stmt("SELECT model_id, dimensions, created_at FROM embedding_models WHERE model_id = ?").get(modelId) as
      | { model_id: string; dimensions: number; created_at: string }
      | undefined;
    if (!row) return undefined;
    const { n } = this.stmt("SELECT count(*) AS n FROM chunk_vectors WHERE model_id = ?").get(modelId) as { n: number };
    return { modelId: row.model_id, dimensions: row.dimensions, createdAt: row.created_at, vectors: n };
  }

  listEmbeddingModels(): EmbeddingModelInfo[] {
    const ids = this.stmt("SELECT model_id FROM embedding_models ORDER BY model_id").all() as { model_id: string }[];
    return ids.map((r) => this.embeddingModel(r.model_id)!);
  }

  chunkCount(): number {
    return (this.stmt("SELECT count(*) AS n FROM chunks").get() as { n: number }).n;
  }

  countChunksWithoutVector(modelId: string): number {
    return (
      this.stmt("SELECT count(*) AS n FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.model_id = ? AND v.chunk_rowid = c.rowid)").get(modelId) as { n: number }
    ).n;
  }

  /** The next chunks (by rowid, after `afterRowid`) that have no vector for the model. */
  chunksWithoutVector(modelId: string, afterRowid: number, limit: number): ChunkToEmbed[] {
    const rows = this.db
      .prepare(
        `SELECT c.rowid AS rowid, c.chunk_id, c.heading_path, c.text, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
         WHERE c.rowid > ? AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.model_id = ? AND v.chunk_rowid = c.rowid)
         ORDER BY c.rowid LIMIT ?`,
      )
      .all(afterRowid, modelId, limit) as { rowid: number; chunk_id: string; heading_path: string; text: string; title: string }[];
    return rows.map((r) => ({ rowid: r.rowid, chunkId: r.chunk_id, title: r.title, headingPath: JSON.parse(r.heading_path) as string[], text: r.text }));
  }

  /**
   * Stores a batch of vectors in one transaction, recording the model's width on first use and
   * refusing another width later. A chunk replaced since it was read (its chunk id changed) gets no
   * vector: the next embed run picks up its successor. Returns how many vectors were written.
   */
  writeVectors(modelId: string, dimensions: number, vectors: StoredVector[]): number {
    return this.db.transaction(() => {
      const known = this.stmt("SELECT dimensions FROM embedding_models WHERE model_id = ?").get(modelId) as { dimensions: number } | undefined;
      if (known && known.dimensions !== dimensions) throw dimensionMismatch(modelId, known.dimensions, dimensions);
      if (!known) this.stmt("INSERT INTO embedding_models (model_id, dimensions, created_at) VALUES (?, ?, ?)").run(modelId, dimensions, new Date().toISOString());
      const put = this.stmt("INSERT OR REPLACE INTO chunk_vectors (model_id, chunk_rowid, vector) SELECT ?, rowid, ? FROM chunks WHERE rowid = ? AND chunk_id = ?");
      let written = 0;
      for (const v of vectors) {
        if (v.vector.length !== dimensions) throw dimensionMismatch(modelId, dimensions, v.vector.length);
        written += put.run(modelId, encodeVector(v.vector), v.rowid, v.chunkId).changes;
      }
      return written;
    })();
  }

  /** Forgets a model and all its vectors (before a rebuild). */
  dropVectors(modelId: string): number {
    return this.db.transaction(() => {
      const n = this.stmt("DELETE FROM chunk_vectors WHERE model_id = ?").run(modelId).changes;
      this.db.prepare("DELETE FROM embedding_models WHERE model_id = ?").run(modelId);
      return n;
    })();
  }

  /**
   * Streams the vectors of one model over the chunks the caller may read, with the filters applied
   * in the same query: a chunk outside the caller's rights is never read.
   */
  *readableVectors(modelId: string, access: Access, filter?: SearchFilter): Generator<StoredVector> {
    const where = readableClause(access, filter);
    const rows = this.db
      .prepare(
        `SELECT v.chunk_rowid AS rowid, c.chunk_id AS chunk_id, v.vector AS vector
         FROM chunk_vectors v JOIN chunks c ON c.rowid = v.chunk_rowid JOIN documents d ON d.rowid = c.doc_rowid
         WHERE v.model_id = @model AND ${where.sql}`,
      )
      .iterate({ model: modelId, ...where.params }) as IterableIterator<{ rowid: number; chunk_id: string; vector: Buffer }>;
    for (const r of rows) yield { rowid: r.rowid, chunkId: r.chunk_id, vector: decodeVector(r.vector) };
  }

  /** Search hits for chunks by rowid, in the order given, re-checking the caller's rights. */
  hitsByRowid(ranked: { rowid: number; score: number }[], access: Access, filter?: SearchFilter): SearchHit[] {
    if (ranked.length === 0) return [];
    const where = readableClause(access, filter);
    const rows = this.db
      .prepare(
        `SELECT c.rowid AS rowid, d.doc_id, d.source, d.title, c.chunk_id, c.heading_path, c.page, c.start, c."end", c.text
         FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
         WHERE c.rowid IN (SELECT value FROM json_each(@ids)) AND ${where.sql}`,
      )
      .all({ ids: JSON.stringify(ranked.map((r) => r.rowid)), ...where.params }) as (Omit<HitRow, "score"> & { rowid: number })[];
    const byRowid = new Map(rows.map((r) => [r.rowid, r]));
    const hits: SearchHit[] = [];
    for (const r of ranked) {
      const row = byRowid.get(r.rowid);
      if (row) hits.push(toHit(row, hits.length + 1, r.score));
    }
    return hits;
  }
}
