// Dense vectors in PostgreSQL. Every vector is kept as float32 bytes (the embedded encoding); where
// the server has pgvector (managed services, PGlite with its extension) each vector is also a
// `vector` column and each embedding model gets its own HNSW index (a partial expression index at
// that model's width), searched with iterative scans so filters inside the query still yield k
// rows. Where pgvector is missing (Debian's PostgreSQL 15), search is the exact scan over the
// readable vectors, announced once. Scores are always recomputed from the stored floats, so the
// two paths give the same score for the same chunk; ANN falls back to exact when it finds fewer
// than k readable chunks.
import { createHash } from "node:crypto";
import { TopK } from "../../dense/top-k.js";
import { decodeVector, dimensionMismatch, dot, encodeVector } from "../../dense/vectors.js";
import type { SearchFilter } from "../../types.js";
import type { Access } from "../access.js";
import type { DenseQueryOptions } from "../backend.js";
import type { ChunkToEmbed, EmbeddingModelInfo, StoredVector } from "../sqlite-store.js";
import { insertRows } from "./index-writer.js";
import { pgReadableClause } from "./readable.js";
import type { SqlClient, SqlRunner } from "./sql.js";

/** "auto" uses HNSW from this many vectors of a model on; below it the exact scan is as fast. */
export const ANN_MIN_VECTORS = 20_000;
const EF_SEARCH = 100;

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const indexName = (modelId: string): string => `chunk_vectors_hnsw_${createHash("sha256").update(modelId).digest("hex").slice(0, 16)}`;
const vectorText = (v: Float32Array): string => `[${Array.from(v).join(",")}]`;

/** Whether pgvector can be used here: installs it (and the column) when the server offers it. */
export async function enablePgvector(db: SqlClient): Promise<boolean> {
  const avail = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'");
  if (avail[0]!.n === 0) return false;
  try {
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('strata-pgvector:' || current_schema()))");
      await tx.query("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public");
      await tx.query("ALTER TABLE chunk_vectors ADD COLUMN IF NOT EXISTS embedding vector");
    });
    return true;
  } catch {
    // Offered but not ours to create (no rights): the exact scan still answers.
    return false;
  }
}

export class PgDense {
  private noticed = false;

  constructor(
    private readonly db: SqlClient,
    private readonly pgvector: boolean,
    private readonly notice: (message: string) => void,
  ) {}

  get usesPgvector(): boolean {
    return this.pgvector;
  }

  async model(modelId: string, q: SqlRunner = this.db): Promise<EmbeddingModelInfo | undefined> {
    const row = (await q.query<{ model_id: string; dimensions: number; created_at: string; n: number }>(
      "SELECT m.model_id, m.dimensions, m.created_at, (SELECT count(*)::int FROM chunk_vectors v WHERE v.model_id = m.model_id) AS n FROM embedding_models m WHERE m.model_id = $1",
      [modelId],
    ))[0];
    return row && { modelId: row.model_id, dimensions: row.dimensions, createdAt: row.created_at, vectors: row.n };
  }

  async list(): Promise<EmbeddingModelInfo[]> {
    const ids = await this.db.query<{ model_id: string }>("SELECT model_id FROM embedding_models ORDER BY model_id");
    const out: EmbeddingModelInfo[] = [];
    for (const r of ids) out.push((await this.model(r.model_id))!);
    return out;
  }

  async countWithout(modelId: string): Promise<number> {
    return (await this.db.query<{ n: number }>("SELECT count(*)::int AS n FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.model_id = $1 AND v.chunk_rowid = c.rowid)", [modelId]))[0]!.n;
  }

  async chunksWithout(modelId: string, afterRowid: number, limit: number): Promise<ChunkToEmbed[]> {
    const rows = await this.db.query<{ rowid: number; chunk_id: string; heading_path: string; text: string; title: string }>(
      `SELECT c.rowid, c.chunk_id, c.heading_path, c.text, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
        WHERE c.rowid > $1 AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.model_id = $2 AND v.chunk_rowid = c.rowid)
        ORDER BY c.rowid LIMIT $3`,
      [afterRowid, modelId, limit],
    );
    return rows.map((r) => ({ rowid: Number(r.rowid), chunkId: r.chunk_id, title: r.title, headingPath: JSON.parse(r.heading_path) as string[], text: r.text }));
  }

  /** Stores vectors in one transaction; a chunk replaced since it was read (new chunk id) gets none. */
  write(modelId: string, dimensions: number, vectors: StoredVector[]): Promise<number> {
    for (const v of vectors) if (v.vector.length !== dimensions) throw dimensionMismatch(modelId, dimensions, v.vector.length);
    return this.db.transaction(async (tx) => {
      await tx.query("INSERT INTO embedding_models (model_id, dimensions, created_at) VALUES ($1, $2, $3) ON CONFLICT (model_id) DO NOTHING", [modelId, dimensions, new Date().toISOString()]);
      const known = (await tx.query<{ dimensions: number }>("SELECT dimensions FROM embedding_models WHERE model_id = $1 FOR UPDATE", [modelId]))[0]!;
      if (known.dimensions !== dimensions) throw dimensionMismatch(modelId, known.dimensions, dimensions);
      if (this.pgvector) {
        await tx.query(`CREATE INDEX IF NOT EXISTS ${indexName(modelId)} ON chunk_vectors USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE model_id = ${literal(modelId)}`);
      }
      if (vectors.length === 0) return 0;
      const cols = this.pgvector ? "(model_id, chunk_rowid, chunk_id, vector, embedding)" : "(model_id, chunk_rowid, chunk_id, vector)";
      const rows = vectors.map((v) => (this.pgvector ? [modelId, v.rowid, v.chunkId, encodeVector(v.vector), vectorText(v.vector)] : [modelId, v.rowid, v.chunkId, encodeVector(v.vector)]));
      // Only chunks that still have the id the embedder read; others are skipped, not errors.
      const set = this.pgvector ? "vector = excluded.vector, embedding = excluded.embedding" : "vector = excluded.vector";
      const written = await insertRows<{ n: number }>(
        tx,
        `WITH input ${cols} AS (`,
        rows,
        `) INSERT INTO chunk_vectors (model_id, chunk_rowid, vector${this.pgvector ? ", embedding" : ""})
           SELECT i.model_id, i.chunk_rowid, i.vector${this.pgvector ? ", i.embedding" : ""} FROM input i JOIN chunks c ON c.rowid = i.chunk_rowid AND c.chunk_id = i.chunk_id
           ON CONFLICT (model_id, chunk_rowid) DO UPDATE SET ${set} RETURNING 1 AS n`,
        ["text", "bigint", "text", "bytea", "vector"],
      );
      return written.length;
    });
  }

  drop(modelId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const n = (await tx.query<{ n: number }>("WITH gone AS (DELETE FROM chunk_vectors WHERE model_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone", [modelId]))[0]!.n;
      await tx.query("DELETE FROM embedding_models WHERE model_id = $1", [modelId]);
      if (this.pgvector) await tx.query(`DROP INDEX IF EXISTS ${indexName(modelId)}`);
      return n;
    });
  }

  /** Top-k by cosine among readable chunks: rowids and scores, best first (ties by chunk id). */
  async search(tx: SqlRunner, modelId: string, query: Float32Array, opts: DenseQueryOptions): Promise<{ rowid: number; score: number }[]> {
    const model = (await tx.query<{ dimensions: number; n: number }>("SELECT dimensions, (SELECT count(*)::int FROM chunk_vectors v WHERE v.model_id = $1) AS n FROM embedding_models WHERE model_id = $1", [modelId]))[0];
    if (!model) return [];
    if (query.length !== model.dimensions) throw dimensionMismatch(modelId, model.dimensions, query.length);
    const method = opts.method ?? "auto";
    const wantAnn = method === "ann" || (method === "auto" && model.n >= ANN_MIN_VECTORS);
    if (wantAnn && !this.pgvector && !this.noticed) {
      this.noticed = true;
      this.notice("this PostgreSQL server has no pgvector extension: dense search scans the vectors exactly (correct, slower on large collections); install pgvector for HNSW");
    }
    if (wantAnn && this.pgvector) {
      const ann = await this.annSearch(tx, modelId, model.dimensions, query, opts);
      if (ann.length >= Math.min(opts.k, model.n)) return ann;
    }
    return this.exact(tx, modelId, query, opts.k, opts.access, opts.filter);
  }

  private rank(rows: { chunk_rowid: number; chunk_id: string; vector: Uint8Array }[], query: Float32Array, k: number): { rowid: number; score: number }[] {
    const top = new TopK<number>(k);
    for (const r of rows) {
      const score = dot(query, decodeVector(r.vector));
      if (top.admits(score)) top.push({ score, key: r.chunk_id, item: Number(r.chunk_rowid) });
    }
    return top.sorted().map((e) => ({ rowid: e.item, score: e.score }));
  }

  private async exact(tx: SqlRunner, modelId: string, query: Float32Array, k: number, access: Access, filter?: SearchFilter): Promise<{ rowid: number; score: number }[]> {
    const params: unknown[] = [modelId];
    const cond = pgReadableClause(access, filter, params);
    const rows = await tx.query<{ chunk_rowid: number; chunk_id: string; vector: Uint8Array }>(
      `SELECT v.chunk_rowid, c.chunk_id, v.vector FROM chunk_vectors v JOIN chunks c ON c.rowid = v.chunk_rowid JOIN documents d ON d.rowid = c.doc_rowid
        WHERE v.model_id = $1 AND ${cond}`,
      params,
    );
    return this.rank(rows, query, k);
  }

  private async annSearch(tx: SqlRunner, modelId: string, dims: number, query: Float32Array, opts: DenseQueryOptions): Promise<{ rowid: number; score: number }[]> {
    await tx.query(`SET LOCAL hnsw.ef_search = ${Math.max(EF_SEARCH, opts.k)}`);
    // pgvector 0.8+: keep walking the graph until k rows pass the filters (older servers ignore it).
    await tx.query("SAVEPOINT strata_guc");
    try {
      await tx.query("SET LOCAL hnsw.iterative_scan = strict_order");
      await tx.query("RELEASE SAVEPOINT strata_guc");
    } catch {
      await tx.query("ROLLBACK TO SAVEPOINT strata_guc");
    }
    const params: unknown[] = [vectorText(query)];
    const cond = pgReadableClause(opts.access, opts.filter, params);
    params.push(opts.k);
    const rows = await tx.query<{ chunk_rowid: number; chunk_id: string; vector: Uint8Array }>(
      `SELECT v.chunk_rowid, c.chunk_id, v.vector FROM chunk_vectors v JOIN chunks c ON c.rowid = v.chunk_rowid JOIN documents d ON d.rowid = c.doc_rowid
        WHERE v.model_id = ${literal(modelId)} AND ${cond}
        ORDER BY v.embedding::vector(${dims}) <=> $1::vector(${dims}) LIMIT $${params.length}`,
      params,
    );
    return this.rank(rows, query, opts.k);
  }
}
