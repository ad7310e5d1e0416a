// Log-structured merging (Lucene's LogMergePolicy, by chunk count): segments sit at level
// floor(log10(chunks)); whenever MERGE_FACTOR neighbouring segments share a level, they are
// rewritten as one, dropping the postings of tombstoned chunks. Only neighbours merge, so
// segments keep disjoint ascending rowid ranges and a term's blobs still concatenate in order.
// Each merge is one transaction: a reader sees the segments before it or after it, never both.
import { encodePostings, type PostingColumns } from "./postings-codec.js";
import type { LexicalIndex, SegmentInfo } from "./lexical-index.js";

export const MERGE_FACTOR = 10;

const level = (s: SegmentInfo): number => Math.floor(Math.log10(Math.max(1, s.chunks)));

/** The first run of segments due for a merge, or undefined. With `all`, every segment at once. */
export function dueRun(segments: SegmentInfo[], all: boolean): SegmentInfo[] | undefined {
  if (all) return segments.length > 1 ? segments : undefined;
  for (let i = 0; i + MERGE_FACTOR <= segments.length; i++) {
    const run = segments.slice(i, i + MERGE_FACTOR);
    if (run.every((s) => level(s) === level(run[0]!))) return run;
  }
  return undefined;
}

/** Performs one due merge inside the caller's (write) transaction; false when none is due. */
export function mergeOnce(index: LexicalIndex, all: boolean): boolean {
  const run = dueRun(index.listSegments(), all);
  if (!run) return false;
  const db = index.db;
  const state = index.state();
  index.chunks.refresh(state.generation);
  const { live, lenBody, lenTitle } = index.chunks;
  const ids = run.map((s) => s.segId);
  const termIds = db
    .prepare(`SELECT DISTINCT term_id FROM lex_postings WHERE seg_id IN (${ids.map(() => "?").join(",")}) ORDER BY term_id`)
    .pluck()
    .all(...ids) as number[];
  const segId = state.next_seg_id;
  db.prepare("UPDATE lex_state SET next_seg_id = next_seg_id + 1 WHERE id = 1").run();
  const put = db.prepare("INSERT INTO lex_postings (seg_id, term_id, data) VALUES (?, ?, ?)");
  for (const termId of termIds) {
    const out: PostingColumns = { rowids: [], tfBody: [], tfTitle: [], lenBody: [], lenTitle: [] };
    for (const s of run) {
      const blob = index.blob(s.segId, termId);
      if (!blob) continue;
      for (const e of blob.entries()) {
        if (live[e.rowid] !== 1) continue;
        out.rowids.push(e.rowid);
        out.tfBody.push(e.tfBody);
        out.tfTitle.push(e.tfTitle);
        out.lenBody.push(lenBody[e.rowid]!);
        out.lenTitle.push(lenTitle[e.rowid]!);
      }
    }
    if (out.rowids.length > 0) put.run(segId, termId, encodePostings(out));
  }
  const minRowid = run[0]!.minRowid;
  const maxRowid = run[run.length - 1]!.maxRowid;
  let chunks = 0;
  for (let r = minRowid; r <= maxRowid && r < live.length; r++) chunks += live[r]!;
  const dropPostings = db.prepare("DELETE FROM lex_postings WHERE seg_id = ?");
  const dropSegment = db.prepare("DELETE FROM lex_segments WHERE seg_id = ?");
  for (const id of ids) {
    dropPostings.run(id);
    dropSegment.run(id);
  }
  db.prepare("INSERT INTO lex_segments (seg_id, min_rowid, max_rowid, chunks, level) VALUES (?, ?, ?, ?, ?)").run(segId, minRowid, maxRowid, chunks, level({ segId, minRowid, maxRowid, chunks }));
  index.bumpGeneration();
  return true;
}
