// The PostgreSQL knowledge store (decision 0018): the KnowledgeStoreBackend of a knowledge base
// kept in a PostgreSQL schema, reached through a `pg` pool (or PGlite in tests). Documents, chunks,
// ACLs, tags, conversations, traces and the lexical index live in tables; ranking is the embedded
// store's code over the same postings layout, so answers do not change with the backend. Writes
// take the knowledge base's advisory lock; a connection lost to a server restart is retried (a
// batch is all-or-nothing and re-writing it is idempotent), and what cannot be reached is a
// one-line BACKEND_UNAVAILABLE error.
import { StrataError } from "../../../core/errors.js";
import type { Bm25Params } from "../../bm25.js";
import type { Acl, DocumentRecord, SearchFilter, SearchHit } from "../../types.js";
import type { Access } from "../access.js";
import type { DenseQueryOptions, IntegrityReport, KnowledgeStoreBackend } from "../backend.js";
import type { DocumentInput, StoredDocumentInfo, WriteResult, WriteStatus } from "../document-writer.js";
import type { ChunkToEmbed, EmbeddingModelInfo, StoredVector } from "../sqlite-store.js";
import { PgConversations, PgTraces } from "./conversations.js";
import { PgDense, enablePgvector } from "./dense.js";
import { aclOf, findBySource, isUnchanged, removeDocumentIn, tagsOf, writeDocumentsIn } from "./document-writer.js";
import { PgLexicalSearch } from "./lexical-search.js";
import { mergeOnceIn } from "./merge.js";
import { parsePgLocation } from "./location.js";
import { PgReadableDocuments } from "./readable-documents.js";
import { pgReadableClause } from "./readable.js";
import { migrate } from "./schema.js";
import { connectionError, isConnectionLoss, PgPoolClient, redactUrl, type SqlClient, type SqlRunner } from "./sql.js";

export interface PgOpenOptions {
  /** Create the tables when the schema holds none (ingest); otherwise the knowledge base must exist. */
  create?: boolean;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** One-time notices (no pgvector); default: a process warning. */
  onNotice?: (message: string) => void;
  /** How long to keep retrying after a lost connection before giving up (default 30 s). */
  retryMs?: number;
}

interface HitRow {
  rowid: number;
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

/** Errors of the connection class (08…, 57P…, 28…, 3D000, 42501, socket errors) become StrataErrors. */
function isServerTrouble(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? "";
  return /^(08|57P|28)/.test(code) || code === "3D000" || code === "42501" || /^E[A-Z]+$/.test(code) || isConnectionLoss(e);
}

export class PgKnowledgeStore implements KnowledgeStoreBackend {
  readonly readable: PgReadableDocuments;
  readonly conversations: PgConversations;
  readonly traces: PgTraces;
  private readonly lexical: PgLexicalSearch;

  private constructor(
    readonly db: SqlClient,
    readonly where: string,
    private readonly dense: PgDense,
    private readonly retryMs: number,
  ) {
    this.readable = new PgReadableDocuments(db);
    this.conversations = new PgConversations(db);
    this.traces = new PgTraces(db);
    this.lexical = new PgLexicalSearch(where);
  }

  /** Opens (and migrates, or with `create` makes) the knowledge base at a postgres:// URL. */
  static async open(url: string, opts: PgOpenOptions = {}): Promise<PgKnowledgeStore> {
    const loc = parsePgLocation(url);
    const db = new PgPoolClient(loc.connectionString, { max: opts.poolSize, schema: loc.schema });
    try {
      await db.query("SELECT 1");
    } catch (e) {
      await db.close().catch(() => undefined);
      throw connectionError(loc.connectionString, e);
    }
    return PgKnowledgeStore.openOn(db, loc.schema, redactUrl(url), opts);
  }

  /** Opens on an existing client (PGlite in tests), in `schema`. */
  static async openOn(db: SqlClient, schema: string, where: string, opts: PgOpenOptions = {}): Promise<PgKnowledgeStore> {
    try {
      // PGlite is one connection: its search path is set once (a pool sets it per connection).
      if (db.kind === "pglite") await db.query(`SET search_path TO "${schema}", public`);
      await migrate(db, schema, { create: opts.create ?? false, where });
      const pgvector = await enablePgvector(db);
      const notice = opts.onNotice ?? ((m: string) => process.emitWarning(m, { code: "STRATA_NO_PGVECTOR" }));
      return new PgKnowledgeStore(db, where, new PgDense(db, pgvector, notice), opts.retryMs ?? 30_000);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e instanceof StrataError || !isServerTrouble(e) ? e : connectionError(where, e);
    }
  }

  /** Whether dense search uses pgvector's HNSW here (false: the exact scan). */
  get usesPgvector(): boolean {
    return this.dense.usesPgvector;
  }

  /** Runs `fn`, retrying while the server is restarting; a lasting failure is a one-line error. */
  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.retryMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof StrataError || !isServerTrouble(e)) throw e;
        if (!isConnectionLoss(e) || Date.now() + wait > until) throw connectionError(this.where, e);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private read<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return this.retry(() => fn(this.db));
  }

  private snapshot<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return this.retry(() => this.db.transaction(fn, { snapshot: true }));
  }

  private write<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return this.retry(() => this.db.transaction(fn));
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  // ---- documents ----
  findBySource = (source: string): Promise<StoredDocumentInfo | undefined> => this.read((q) => findBySource(q, source));
  isUnchanged = (info: StoredDocumentInfo, hash: string, acl: Acl, tags: string[]): Promise<boolean> => this.read((q) => isUnchanged(q, info, hash, acl, tags));

  async writeDocument(input: DocumentInput): Promise<{ status: WriteStatus; version: number }> {
    const r = (await this.writeDocuments([input]))[0]!;
    if ("error" in r) throw r.error;
    return r;
  }

  /** A batch in one transaction and one index segment; retried whole after a lost connection. */
  async writeDocuments(inputs: DocumentInput[]): Promise<WriteResult[]> {
    const results = await this.write((tx) => writeDocumentsIn(tx, inputs));
    await this.mergeDue();
    return results;
  }

  async removeDocument(docId: string): Promise<boolean> {
    const removed = await this.write((tx) => removeDocumentIn(tx, docId));
    if (removed) await this.mergeDue();
    return removed;
  }

  /** Merges runs of same-sized segments, one transaction each, until none is due; returns how many. */
  async mergeDue(): Promise<number> {
    let merges = 0;
    while (await this.write((tx) => mergeOnceIn(tx))) merges++;
    return merges;
  }

  /** Index segments now (tests and checks). */
  segmentCount = (): Promise<number> => this.read(async (q) => (await q.query<{ n: number }>("SELECT count(*)::int AS n FROM lex_segments"))[0]!.n);

  listSources = (): Promise<{ docId: string; source: string }[]> =>
    this.read(async (q) => (await q.query<{ doc_id: string; source: string }>('SELECT doc_id, source FROM documents ORDER BY source COLLATE "C"')).map((r) => ({ docId: r.doc_id, source: r.source })));

  getDocument(docId: string, access: Access): Promise<DocumentRecord | undefined> {
    return this.read(async (q) => {
      const params: unknown[] = [docId];
      const cond = pgReadableClause(access, undefined, params);
      const row = (await q.query<{ rowid: number; doc_id: string; source: string; title: string; mime: string; hash: string; version: number; ingested_at: string; text: string }>(
        `SELECT d.rowid, d.doc_id, d.source, d.title, d.mime, d.hash, d.version, d.ingested_at, d.text FROM documents d WHERE d.doc_id = $1 AND ${cond}`,
        params,
      ))[0];
      if (!row) return undefined;
      const rowid = Number(row.rowid);
      return { docId: row.doc_id, source: row.source, title: row.title, mime: row.mime, hash: row.hash, version: row.version, ingestedAt: row.ingested_at, tags: await tagsOf(q, rowid), acl: await aclOf(q, rowid), text: row.text };
    });
  }

  // ---- chunks and lexical search ----
  chunkCount = (): Promise<number> => this.read(async (q) => (await q.query<{ n: number }>("SELECT count(*)::int AS n FROM chunks"))[0]!.n);

  termStats(terms: Iterable<string>): Promise<{ chunks: number; df: Map<string, { termId: number; df: number }> }> {
    const list = [...new Set(terms)];
    return this.snapshot(async (q) => {
      const chunks = Number((await q.query<{ chunks: number }>("SELECT chunks FROM stats WHERE id = 1"))[0]!.chunks);
      const rows = await q.query<{ term: string; term_id: number; df: number }>("SELECT term, term_id, df FROM terms WHERE term = ANY($1::text[]) AND df > 0", [list]);
      return { chunks, df: new Map(rows.map((r) => [r.term, { termId: r.term_id, df: r.df }])) };
    });
  }

  /** BM25F over the chunks the caller may read: ranked and read back in one snapshot. */
  lexicalSearch(queryTerms: string[], opts: { k: number; access: Access; filter?: SearchFilter; params: Bm25Params }): Promise<SearchHit[]> {
    return this.snapshot(async (q) => this.hitsByRowid(q, await this.lexical.search(q, queryTerms, opts), opts.access, opts.filter));
  }

  /** Search hits for chunks by rowid, in the order given, re-checking the caller's rights. */
  private async hitsByRowid(q: SqlRunner, ranked: { rowid: number; score: number }[], access: Access, filter?: SearchFilter): Promise<SearchHit[]> {
    if (ranked.length === 0) return [];
    const params: unknown[] = [ranked.map((r) => r.rowid)];
    const cond = pgReadableClause(access, filter, params);
    const rows = await q.query<HitRow>(
      `SELECT c.rowid, d.doc_id, d.source, d.title, c.chunk_id, c.heading_path, c.page, c.start, c."end", c.text
         FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid WHERE c.rowid = ANY($1::bigint[]) AND ${cond}`,
      params,
    );
    const byRowid = new Map(rows.map((r) => [Number(r.rowid), r]));
    const hits: SearchHit[] = [];
    for (const r of ranked) {
      const row = byRowid.get(r.rowid);
      if (!row) continue;
      hits.push({ rank: hits.length + 1, score: r.score, docId: row.doc_id, source: row.source, title: row.title, chunkId: row.chunk_id, headingPath: JSON.parse(row.heading_path) as string[], page: row.page, start: row.start, end: row.end, text: row.text });
    }
    return hits;
  }

  // ---- dense vectors ----
  embeddingModel = (modelId: string): Promise<EmbeddingModelInfo | undefined> => this.retry(() => this.dense.model(modelId));
  listEmbeddingModels = (): Promise<EmbeddingModelInfo[]> => this.retry(() => this.dense.list());
  countChunksWithoutVector = (modelId: string): Promise<number> => this.retry(() => this.dense.countWithout(modelId));
  chunksWithoutVector = (modelId: string, afterRowid: number, limit: number): Promise<ChunkToEmbed[]> => this.retry(() => this.dense.chunksWithout(modelId, afterRowid, limit));
  writeVectors = (modelId: string, dimensions: number, vectors: StoredVector[]): Promise<number> => this.retry(() => this.dense.write(modelId, dimensions, vectors));
  dropVectors = (modelId: string): Promise<number> => this.retry(() => this.dense.drop(modelId));

  denseSearch(modelId: string, query: Float32Array, opts: DenseQueryOptions): Promise<SearchHit[]> {
    // Not read-only: the HNSW path sets transaction-local search parameters.
    return this.retry(() => this.db.transaction(async (q) => this.hitsByRowid(q, await this.dense.search(q, modelId, query, opts), opts.access, opts.filter)));
  }

  // ---- settings and health ----
  setting = (key: string): Promise<string | undefined> =>
    this.read(async (q) => (await q.query<{ value: string }>("SELECT value FROM strata_meta WHERE key = $1", [`setting.${key}`]))[0]?.value);

  async setSetting(key: string, value: string | undefined): Promise<void> {
    await this.read((q) =>
      value === undefined
        ? q.query("DELETE FROM strata_meta WHERE key = $1", [`setting.${key}`])
        : q.query("INSERT INTO strata_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [`setting.${key}`, value]),
    );
  }

  /** Counts, and whether the index statistics agree with the chunks they describe. */
  integrityCheck(): Promise<IntegrityReport> {
    return this.snapshot(async (q) => {
      const r = (await q.query<{ documents: number; chunks: number; counted: number; orphans: number }>(
        `SELECT (SELECT count(*)::int FROM documents) AS documents, (SELECT count(*)::int FROM chunks) AS chunks,
                (SELECT chunks FROM stats WHERE id = 1)::int AS counted,
                (SELECT count(*)::int FROM chunks c WHERE c.rowid >= (SELECT next_chunk_rowid FROM lex_state WHERE id = 1)) AS orphans`,
      ))[0]!;
      const problems: string[] = [];
      if (r.counted !== r.chunks) problems.push(`the index counts ${r.counted} chunks, the chunks table holds ${r.chunks}`);
      if (r.orphans > 0) problems.push(`${r.orphans} chunks have rowids the index has not allocated`);
      return { ok: problems.length === 0, problems, documents: r.documents, chunks: r.chunks };
    });
  }
}
