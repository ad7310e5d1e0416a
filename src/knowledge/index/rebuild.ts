// Rebuilds the lexical index from the stored chunks: the migration from schema 2, `strata index
// rebuild` after damage, and the reference the reliability tests compare against. Runs inside one
// write transaction (the caller's): a crash leaves the old index, and the needs_build flag of a
// migration stays set until the new index is committed.
import type { ProgressListener } from "../../core/events.js";
import { ChunkAnalyzer, titleFieldOf } from "./chunk-terms.js";
import type { LexicalIndex } from "./lexical-index.js";
import { SegmentBuilder } from "./segment-writer.js";

/** Chunks per segment written by a rebuild (merges then combine them). */
const REBUILD_SEGMENT = 50_000;
const PAGE = 5_000;

export function rebuildIndex(index: LexicalIndex, onProgress?: ProgressListener): void {
  const db = index.db;
  db.exec(`DROP TABLE IF EXISTS postings;
    DELETE FROM lex_postings; DELETE FROM lex_segments; DELETE FROM lex_tombstones; DELETE FROM terms;
    UPDATE stats SET chunks = 0, sum_len_body = 0, sum_len_title = 0 WHERE id = 1;`);
  const total = (db.prepare("SELECT count(*) FROM chunks").pluck().get() as number);
  const page = db.prepare(
    `SELECT c.rowid, c.text, c.heading_path, c.len_body, c.len_title, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
     WHERE c.rowid > ? ORDER BY c.rowid LIMIT ${PAGE}`,
  ).raw();
  const fixLengths = db.prepare("UPDATE chunks SET len_body = ?, len_title = ?, token_count = ? WHERE rowid = ?");
  const analyzer = new ChunkAnalyzer();
  let builder = new SegmentBuilder();
  let after = 0;
  let done = 0;
  onProgress?.({ phase: "index", done, total });
  for (;;) {
    const rows = page.all(after) as [number, string, string, number, number, string][];
    if (rows.length === 0) break;
    for (const [rowid, text, headingPath, lb, lt, title] of rows) {
      const t = analyzer.analyze(text, titleFieldOf(title, JSON.parse(headingPath) as string[]));
      if (t.lenBody !== lb || t.lenTitle !== lt) fixLengths.run(t.lenBody, t.lenTitle, t.lenBody, rowid);
      builder.add(rowid, t);
      after = rowid;
    }
    done += rows.length;
    if (builder.chunks >= REBUILD_SEGMENT) {
      index.commitSegment(builder);
      builder = new SegmentBuilder();
    }
    onProgress?.({ phase: "index", done, total });
  }
  index.commitSegment(builder);
  db.prepare("UPDATE lex_state SET needs_build = 0, next_chunk_rowid = max(next_chunk_rowid, ?) WHERE id = 1").run(after + 1);
  index.bumpGeneration();
}
