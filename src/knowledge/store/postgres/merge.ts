// Segment merges in PostgreSQL, by the embedded index's policy (index/merge.ts: MERGE_FACTOR
// neighbouring segments of one size level become one) and with its codec: the postings of chunks
// still in the chunks table are re-encoded into one segment, tombstoned ones dropped. One merge per
// transaction under the knowledge base's write lock; readers see the segments before or after it.
import { dueRun } from "../../index/merge.js";
import { BLOCK_SIZE, encodePostings, PostingsBlob, type PostingColumns } from "../../index/postings-codec.js";
import type { SegmentInfo } from "../../index/lexical-index.js";
import { insertRows, lockForWrite, readWriteState, saveWriteState } from "./index-writer.js";
import type { SqlRunner } from "./sql.js";

/** Performs one due merge in the caller's transaction; false when none is due. */
export async function mergeOnceIn(tx: SqlRunner): Promise<boolean> {
  await lockForWrite(tx);
  const segments = (await tx.query<{ seg_id: number; min_rowid: number; max_rowid: number; chunks: number }>("SELECT seg_id, min_rowid, max_rowid, chunks FROM lex_segments ORDER BY min_rowid")).map(
    (r): SegmentInfo => ({ segId: r.seg_id, minRowid: Number(r.min_rowid), maxRowid: Number(r.max_rowid), chunks: r.chunks }),
  );
  const run = dueRun(segments, false);
  if (!run) return false;
  const minRowid = run[0]!.minRowid;
  const maxRowid = run[run.length - 1]!.maxRowid;
  const lens = new Map<number, [number, number]>();
  for (const r of await tx.query<{ rowid: number; len_body: number; len_title: number }>("SELECT rowid, len_body, len_title FROM chunks WHERE rowid BETWEEN $1 AND $2", [minRowid, maxRowid])) {
    lens.set(Number(r.rowid), [r.len_body, r.len_title]);
  }
  const ids = run.map((s) => s.segId);
  const order = new Map(ids.map((id, i) => [id, i]));
  const rows = await tx.query<{ seg_id: number; term_id: number; data: Uint8Array }>("SELECT seg_id, term_id, data FROM lex_postings WHERE seg_id = ANY($1::int[])", [ids]);
  const byTerm = new Map<number, { seg: number; data: Uint8Array }[]>();
  for (const r of rows) {
    const list = byTerm.get(r.term_id) ?? [];
    list.push({ seg: order.get(r.seg_id)!, data: r.data });
    byTerm.set(r.term_id, list);
  }
  const s = await readWriteState(tx);
  const segId = s.nextSegId++;
  const out: [number, number, Buffer][] = [];
  const rowids = new Float64Array(BLOCK_SIZE), tfb = new Uint32Array(BLOCK_SIZE), tft = new Uint32Array(BLOCK_SIZE);
  for (const termId of [...byTerm.keys()].sort((a, b) => a - b)) {
    const cols: PostingColumns = { rowids: [], tfBody: [], tfTitle: [], lenBody: [], lenTitle: [] };
    // Segments in rowid order, so the merged list stays ascending.
    for (const { data } of byTerm.get(termId)!.sort((a, b) => a.seg - b.seg)) {
      const blob = new PostingsBlob(data);
      for (let b = 0; b < blob.blocks; b++) {
        const n = blob.decode(b, rowids, tfb, tft);
        for (let i = 0; i < n; i++) {
          const len = lens.get(rowids[i]!);
          if (!len) continue;
          cols.rowids.push(rowids[i]!);
          cols.tfBody.push(tfb[i]!);
          cols.tfTitle.push(tft[i]!);
          cols.lenBody.push(len[0]);
          cols.lenTitle.push(len[1]);
        }
      }
    }
    if (cols.rowids.length > 0) out.push([segId, termId, encodePostings(cols)]);
  }
  await tx.query("DELETE FROM lex_postings WHERE seg_id = ANY($1::int[])", [ids]);
  await tx.query("DELETE FROM lex_segments WHERE seg_id = ANY($1::int[])", [ids]);
  if (out.length > 0) await insertRows(tx, "INSERT INTO lex_postings (seg_id, term_id, data)", out);
  await tx.query("INSERT INTO lex_segments (seg_id, min_rowid, max_rowid, chunks, level) VALUES ($1, $2, $3, $4, $5)", [segId, minRowid, maxRowid, lens.size, Math.floor(Math.log10(Math.max(1, lens.size)))]);
  s.generation++;
  await saveWriteState(tx, s);
  return true;
}
