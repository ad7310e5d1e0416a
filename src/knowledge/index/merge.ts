// Log-structured merging (Lucene's LogMergePolicy, by chunk count): segments sit at level
// floor(log10(chunks)); whenever MERGE_FACTOR neighbouring segments share a level, they are
// rewritten as one, dropping the postings of tombstoned chunks. Only neighbours merge, so
// segments keep disjoint ascending rowid ranges and a term's blobs still concatenate in order.
// Each merge is one transaction: a reader sees the segments before it or after it, never both.
import { BLOCK_SIZE, CorruptPostings, encodePostings, PostingsBlob, type PostingColumns } from "./postings-codec.js";
import { indexCorrupt, type LexicalIndex, type SegmentInfo } from "./lexical-index.js";

export const MERGE_FACTOR = 10;
/** Term ids read per page while merging: bounds the memory of a large merge. */
const TERMS_PER_PAGE = 4096;

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
  const segId = state.next_seg_id;
  db.prepare("UPDATE lex_state SET next_seg_id = next_seg_id + 1 WHERE id = 1").run();
  const put = db.prepare("INSERT INTO lex_postings (seg_id, term_id, data) VALUES (?, ?, ?)");
  const page = db.prepare("SELECT term_id, data FROM lex_postings WHERE seg_id = ? AND term_id >= ? AND term_id < ? ORDER BY term_id").raw();
  const maxTerm = (db.prepare("SELECT max(term_id) FROM terms").pluck().get() as number | null) ?? 0;
  const rowids = new Float64Array(BLOCK_SIZE), tfb = new Uint32Array(BLOCK_SIZE), tft = new Uint32Array(BLOCK_SIZE);
  // Term ids a range at a time: every segment's blobs for the range, then one merged blob per term.
  for (let lo = 0; lo <= maxTerm; lo += TERMS_PER_PAGE) {
    const byTerm = new Map<number, PostingsBlob[]>();
    for (const id of ids) {
      for (const [termId, data] of page.all(id, lo, lo + TERMS_PER_PAGE) as [number, Buffer][]) {
        let blob: PostingsBlob;
        try {
          blob = new PostingsBlob(data);
        } catch (e) {
          if (e instanceof CorruptPostings) throw indexCorrupt(index.location, `segment ${id}, term ${termId}: ${e.message}`);
          throw e;
        }
        const list = byTerm.get(termId);
        if (list) list.push(blob);
        else byTerm.set(termId, [blob]);
      }
    }
    for (const termId of [...byTerm.keys()].sort((a, b) => a - b)) {
      const out: PostingColumns = { rowids: [], tfBody: [], tfTitle: [], lenBody: [], lenTitle: [] };
      // Blobs arrive in segment (rowid) order.
      for (const blob of byTerm.get(termId)!) {
        for (let b = 0; b < blob.blocks; b++) {
          const n = blob.decode(b, rowids, tfb, tft);
          for (let i = 0; i < n; i++) {
            const r = rowids[i]!;
            if (live[r] !== 1) continue;
            out.rowids.push(r);
            out.tfBody.push(tfb[i]!);
            out.tfTitle.push(tft[i]!);
            out.lenBody.push(lenBody[r]!);
            out.lenTitle.push(lenTitle[r]!);
          }
        }
      }
      if (out.rowids.length > 0) put.run(segId, termId, encodePostings(out));
    }
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
