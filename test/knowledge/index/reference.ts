// The reference rankings the new index is held to. sqlReference is schema 2's ranking query,
// verbatim, over a postings table recounted from the stored chunks (what the previous release
// stored); every hit, score and tie-break of the index must match it.
import type Database from "better-sqlite3";
import { ChunkAnalyzer, termsOf, titleFieldOf } from "../../../src/knowledge/index/chunk-terms.js";
import { idf, type Bm25Params } from "../../../src/knowledge/bm25.js";
import { readableClause } from "../../../src/knowledge/store/readable-clause.js";
import type { Access } from "../../../src/knowledge/store/access.js";
import type { SearchFilter } from "../../../src/knowledge/types.js";

/** (Re)creates TEMP table ref_postings from the chunks, as schema 2's `postings`. */
export function recountPostings(db: Database.Database): void {
  db.exec("DROP TABLE IF EXISTS temp.ref_postings; CREATE TEMP TABLE ref_postings (term_id INTEGER NOT NULL, chunk_rowid INTEGER NOT NULL, tf_body INTEGER NOT NULL, tf_title INTEGER NOT NULL, PRIMARY KEY (term_id, chunk_rowid)) WITHOUT ROWID");
  const ids = new Map((db.prepare("SELECT term, term_id FROM terms").raw().all() as [string, number][]));
  const put = db.prepare("INSERT INTO temp.ref_postings VALUES (?, ?, ?, ?)");
  const a = new ChunkAnalyzer();
  const rows = db.prepare("SELECT c.rowid, c.text, c.heading_path, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid").raw().all() as [number, string, string, string][];
  db.transaction(() => {
    for (const [rowid, text, hp, title] of rows) {
      const t = a.analyze(text, titleFieldOf(title, JSON.parse(hp) as string[]));
      for (const term of termsOf(t)) put.run(ids.get(term)!, rowid, t.body.get(term) ?? 0, t.title.get(term) ?? 0);
    }
  })();
}

/** Schema 2's ranking query (sqlite-store.ts at the base commit) over ref_postings (or a schema-2 store's own `postings`). */
export function sqlReference(
  db: Database.Database,
  queryTerms: string[],
  opts: { k: number; access: Access; filter?: SearchFilter; params: Bm25Params },
  postings = "temp.ref_postings",
): { chunkId: string; score: number }[] {
  const qtf = new Map<string, number>();
  for (const t of queryTerms) qtf.set(t, (qtf.get(t) ?? 0) + 1);
  const { chunks } = db.prepare("SELECT chunks FROM stats WHERE id = 1").get() as { chunks: number };
  const df = new Map<string, { termId: number; df: number }>();
  for (const t of qtf.keys()) {
    const r = db.prepare("SELECT term_id, df FROM terms WHERE term = ? AND df > 0").get(t) as { term_id: number; df: number } | undefined;
    if (r) df.set(t, { termId: r.term_id, df: r.df });
  }
  if (chunks === 0 || df.size === 0) return [];
  const weights = [...df.entries()].map(([term, { termId, df: d }]) => [termId, idf(d, chunks) * (qtf.get(term) ?? 1)]);
  const sums = db.prepare("SELECT sum_len_body, sum_len_title FROM stats WHERE id = 1").get() as { sum_len_body: number; sum_len_title: number };
  const where = readableClause(opts.access, opts.filter);
  const params = {
    q: JSON.stringify(weights), k1: opts.params.k1, b: opts.params.b, bt: opts.params.bTitle, wb: opts.params.weightBody, wt: opts.params.weightTitle,
    avgb: Math.max(sums.sum_len_body / chunks, 1e-9), avgt: Math.max(sums.sum_len_title / chunks, 1e-9), k: opts.k, ...where.params,
  };
  return db
    .prepare(
      `WITH q AS (SELECT value ->> 0 AS term_id, value ->> 1 AS w FROM json_each(@q)),
       f AS (
         SELECT p.chunk_rowid AS chunk_rowid, q.w AS w,
                @wb * p.tf_body / (1.0 - @b + @b * c.len_body * 1.0 / @avgb) + @wt * p.tf_title / (1.0 - @bt + @bt * c.len_title * 1.0 / @avgt) AS tf
         FROM q JOIN ${postings} p ON p.term_id = q.term_id JOIN chunks c ON c.rowid = p.chunk_rowid
       ),
       s AS (SELECT chunk_rowid, SUM(w * tf * (@k1 + 1.0) / (tf + @k1)) AS score FROM f GROUP BY chunk_rowid)
       SELECT s.score AS score, c.chunk_id AS chunkId
       FROM s JOIN chunks c ON c.rowid = s.chunk_rowid JOIN documents d ON d.rowid = c.doc_rowid
       WHERE ${where.sql}
       ORDER BY s.score DESC, c.chunk_id
       LIMIT @k`,
    )
    .all(params) as { chunkId: string; score: number }[];
}
