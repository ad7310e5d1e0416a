// A full check of the lexical index against a recount from the stored chunks: every live chunk's
// postings present exactly once with the right frequencies, no posting for anything else,
// document frequencies and length sums equal to the recount. `strata index check` and the
// reliability tests run it; it reads everything, so it is for checks, not for queries.
import { ChunkAnalyzer, termsOf, titleFieldOf } from "./chunk-terms.js";
import type { LexicalIndex } from "./lexical-index.js";

export interface IndexCheck {
  chunks: number;
  postings: number;
  /** Empty when the index agrees with the chunks. At most 20 are listed. */
  problems: string[];
}

export function checkIndex(index: LexicalIndex): IndexCheck {
  return index.db.transaction(() => {
    const db = index.db;
    const problems: string[] = [];
    const report = (p: string): void => void (problems.length < 20 && problems.push(p));
    const termIds = new Map((db.prepare("SELECT term, term_id FROM terms").raw().all() as [string, number][]).map(([t, id]) => [t, id]));
    const termNames = new Map([...termIds].map(([t, id]) => [id, t]));
    // Expected: rowid → term id → [tf body, tf title], from the chunks.
    const expected = new Map<number, Map<number, [number, number]>>();
    const df = new Map<string, number>();
    let sumBody = 0;
    let sumTitle = 0;
    const analyzer = new ChunkAnalyzer();
    const rows = db.prepare("SELECT c.rowid, c.text, c.heading_path, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid").raw().all() as [number, string, string, string][];
    for (const [rowid, text, hp, title] of rows) {
      const t = analyzer.analyze(text, titleFieldOf(title, JSON.parse(hp) as string[]));
      const m = new Map<number, [number, number]>();
      for (const term of termsOf(t)) {
        df.set(term, (df.get(term) ?? 0) + 1);
        const id = termIds.get(term);
        if (id === undefined) report(`term "${term}" of chunk ${rowid} is not in the dictionary`);
        else m.set(id, [t.body.get(term) ?? 0, t.title.get(term) ?? 0]);
      }
      expected.set(rowid, m);
      sumBody += t.lenBody;
      sumTitle += t.lenTitle;
    }
    const live = new Set(expected.keys());
    let postings = 0;
    let prevMax = 0;
    for (const seg of index.listSegments()) {
      if (seg.minRowid <= prevMax) report(`segment ${seg.segId} overlaps the rowids of the segment before it`);
      prevMax = seg.maxRowid;
      for (const termId of db.prepare("SELECT term_id FROM lex_postings WHERE seg_id = ?").pluck().all(seg.segId) as number[]) {
        const blob = index.blob(seg.segId, termId)!;
        for (const e of blob.entries()) {
          if (e.rowid < seg.minRowid || e.rowid > seg.maxRowid) report(`segment ${seg.segId} holds rowid ${e.rowid} outside its range`);
          if (!live.has(e.rowid)) continue;
          postings++;
          const want = expected.get(e.rowid)!.get(termId);
          if (!want) report(`chunk ${e.rowid} has a posting for "${termNames.get(termId)}" that its text does not have (or a duplicate)`);
          else if (want[0] !== e.tfBody || want[1] !== e.tfTitle) report(`chunk ${e.rowid}, "${termNames.get(termId)}": tf ${e.tfBody}/${e.tfTitle}, expected ${want[0]}/${want[1]}`);
          expected.get(e.rowid)!.delete(termId);
        }
      }
    }
    for (const [rowid, m] of expected) for (const termId of m.keys()) report(`chunk ${rowid} lacks its posting for "${termNames.get(termId)}"`);
    for (const [term, id] of termIds) {
      const stored = db.prepare("SELECT df FROM terms WHERE term_id = ?").pluck().get(id) as number;
      if (stored !== (df.get(term) ?? 0)) report(`df of "${term}" is ${stored}, the chunks say ${df.get(term) ?? 0}`);
    }
    const stats = db.prepare("SELECT chunks, sum_len_body, sum_len_title FROM stats").raw().get() as [number, number, number];
    if (stats[0] !== rows.length || stats[1] !== sumBody || stats[2] !== sumTitle) report(`stats ${stats.join("/")} differ from the recount ${rows.length}/${sumBody}/${sumTitle}`);
    return { chunks: rows.length, postings, problems };
  })();
}
