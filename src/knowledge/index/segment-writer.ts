// Writes one immutable segment: the postings of a batch of new chunks (all with rowids above every
// existing segment's), one blob per term, plus the batch's document-frequency changes, in the
// caller's transaction. A batch of hundreds of documents costs one statement per distinct term,
// not one per posting.
import type Database from "better-sqlite3";
import { encodePostings, type PostingColumns } from "./postings-codec.js";
import type { ChunkTerms } from "./chunk-terms.js";

export class SegmentBuilder {
  readonly postings = new Map<string, PostingColumns>();
  chunks = 0;
  minRowid = Infinity;
  maxRowid = 0;
  sumBody = 0;
  sumTitle = 0;

  /** Adds a chunk; rowids must come in ascending order. */
  add(rowid: number, t: ChunkTerms): void {
    const put = (term: string, tfBody: number, tfTitle: number): void => {
      let p = this.postings.get(term);
      if (!p) this.postings.set(term, (p = { rowids: [], tfBody: [], tfTitle: [], lenBody: [], lenTitle: [] }));
      p.rowids.push(rowid);
      p.tfBody.push(tfBody);
      p.tfTitle.push(tfTitle);
      p.lenBody.push(t.lenBody);
      p.lenTitle.push(t.lenTitle);
    };
    for (const [term, tf] of t.body) put(term, tf, t.title.get(term) ?? 0);
    for (const [term, tf] of t.title) if (!t.body.has(term)) put(term, 0, tf);
    this.chunks++;
    this.minRowid = Math.min(this.minRowid, rowid);
    this.maxRowid = Math.max(this.maxRowid, rowid);
    this.sumBody += t.lenBody;
    this.sumTitle += t.lenTitle;
  }
}

export interface SegmentStatements {
  upsertTerms: Database.Statement;
  putPosting: Database.Statement;
  putSegment: Database.Statement;
  addStats: Database.Statement;
}

export function segmentStatements(db: Database.Database): SegmentStatements {
  return {
    // One statement for the whole batch's terms: new ones inserted, known ones' df raised.
    upsertTerms: db
      .prepare("INSERT INTO terms (term, df) SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true ON CONFLICT (term) DO UPDATE SET df = df + excluded.df RETURNING term, term_id")
      .raw(),
    putPosting: db.prepare("INSERT INTO lex_postings (seg_id, term_id, data) VALUES (?, ?, ?)"),
    putSegment: db.prepare("INSERT INTO lex_segments (seg_id, min_rowid, max_rowid, chunks, level) VALUES (?, ?, ?, ?, 0)"),
    addStats: db.prepare("UPDATE stats SET chunks = chunks + ?, sum_len_body = sum_len_body + ?, sum_len_title = sum_len_title + ? WHERE id = 1"),
  };
}

/** Writes the batch as segment `segId` and adds its chunks to the document frequencies and stats. */
export function writeSegment(st: SegmentStatements, segId: number, b: SegmentBuilder): void {
  if (b.chunks === 0) return;
  const counts: [string, number][] = [];
  for (const [term, p] of b.postings) counts.push([term, p.rowids.length]);
  const byId: [number, PostingColumns][] = [];
  for (const [term, id] of st.upsertTerms.all(JSON.stringify(counts)) as [string, number][]) byId.push([id, b.postings.get(term)!]);
  // In key order: appends to the postings B-tree instead of splitting pages at random.
  byId.sort((x, y) => x[0] - y[0]);
  for (const [termId, p] of byId) st.putPosting.run(segId, termId, encodePostings(p));
  st.putSegment.run(segId, b.minRowid, b.maxRowid, b.chunks);
  st.addStats.run(b.chunks, b.sumBody, b.sumTitle);
}
