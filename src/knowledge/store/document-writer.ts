// Writing documents: a batch of documents is one transaction and one new index segment; each
// document runs in its own savepoint, so one that fails is reported and the others are written.
// A changed document's old chunks are deleted and tombstoned in the index; its new chunks get
// fresh rowids (never reused), so old postings can never be mistaken for them.
import type Database from "better-sqlite3";
import { ChunkAnalyzer, titleFieldOf, type ChunkTerms } from "../index/chunk-terms.js";
import type { LexicalIndex, RowidAllocator } from "../index/lexical-index.js";
import { SegmentBuilder } from "../index/segment-writer.js";
import type { Acl, ChunkDraft } from "../types.js";

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
  /** The version a new document starts at (a copy keeps its source's; default 1, embedded always 1). */
  version?: number;
}

export type WriteStatus = "added" | "updated" | "unchanged";
export type WriteResult = { status: WriteStatus; version: number } | { error: unknown };

export interface StoredDocumentInfo {
  rowid: number;
  docId: string;
  source: string;
  hash: string;
  version: number;
}

/** What the writer needs of the store: lookups it already has, and its statement cache. */
export interface WriterHost {
  db: Database.Database;
  index: LexicalIndex;
  stmt(sql: string): Database.Statement;
  findBySource(source: string): StoredDocumentInfo | undefined;
  isUnchanged(info: StoredDocumentInfo, hash: string, acl: Acl, tags: string[]): boolean;
}

interface Pending {
  rowids: RowidAllocator;
  added: { rowid: number; terms: ChunkTerms }[];
  removed: { rowid: number; terms: ChunkTerms }[];
}

function insertChunks(h: WriterHost, analyzer: ChunkAnalyzer, docRowid: number, docId: string, version: number, title: string, chunks: ChunkDraft[], p: Pending): void {
  if (chunks.length === 0) return;
  const put = h.stmt(
    `INSERT INTO chunks (rowid, chunk_id, doc_rowid, ordinal, heading_path, start, "end", page, text, token_count, len_body, len_title)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let rowid = p.rowids.take(chunks.length);
  for (const c of chunks) {
    const terms = analyzer.analyze(c.text, titleFieldOf(title, c.headingPath));
    put.run(rowid, `${docId}-v${version}-${c.ordinal}`, docRowid, c.ordinal, JSON.stringify(c.headingPath), c.start, c.end, c.page ?? null, c.text, terms.lenBody, terms.lenBody, terms.lenTitle);
    p.added.push({ rowid, terms });
    rowid++;
  }
}

/** Deletes a document's chunks; their index entries are found by re-analysing the text. */
export function deleteChunks(h: WriterHost, analyzer: ChunkAnalyzer, docRowid: number, removed: Pending["removed"]): void {
  const rows = h.stmt("SELECT c.rowid, c.text, c.heading_path, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid WHERE c.doc_rowid = ?").all(docRowid) as {
    rowid: number;
    text: string;
    heading_path: string;
    title: string;
  }[];
  for (const r of rows) removed.push({ rowid: r.rowid, terms: analyzer.analyze(r.text, titleFieldOf(r.title, JSON.parse(r.heading_path) as string[])) });
  h.stmt("DELETE FROM chunks WHERE doc_rowid = ?").run(docRowid);
}

function writeOne(h: WriterHost, analyzer: ChunkAnalyzer, input: DocumentInput, p: Pending): { status: WriteStatus; version: number } {
  const existing = h.findBySource(input.source);
  if (existing && h.isUnchanged(existing, input.hash, input.acl, input.tags)) return { status: "unchanged", version: existing.version };
  const now = new Date().toISOString();
  const isPublic = input.acl.users.length === 0 && input.acl.groups.length === 0 ? 1 : 0;
  let rowid: number;
  let version: number;
  if (existing && existing.hash === input.hash) {
    // Same content, new ACL or tags: keep chunks and version, replace the metadata.
    rowid = existing.rowid;
    version = existing.version;
    h.stmt("UPDATE documents SET is_public = ?, ingested_at = ? WHERE rowid = ?").run(isPublic, now, rowid);
  } else if (existing) {
    rowid = existing.rowid;
    version = existing.version + 1;
    deleteChunks(h, analyzer, rowid, p.removed);
    h.stmt("UPDATE documents SET title = ?, mime = ?, hash = ?, version = ?, ingested_at = ?, size = ?, is_public = ?, text = ? WHERE rowid = ?")
      .run(input.title, input.mime, input.hash, version, now, input.size, isPublic, input.text, rowid);
    insertChunks(h, analyzer, rowid, input.docId, version, input.title, input.chunks, p);
  } else {
    version = 1;
    rowid = Number(
      h.stmt("INSERT INTO documents (doc_id, source, title, mime, hash, version, ingested_at, size, is_public, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(input.docId, input.source, input.title, input.mime, input.hash, version, now, input.size, isPublic, input.text).lastInsertRowid,
    );
    insertChunks(h, analyzer, rowid, input.docId, version, input.title, input.chunks, p);
  }
  if (existing) {
    h.stmt("DELETE FROM doc_acl WHERE doc_rowid = ?").run(rowid);
    h.stmt("DELETE FROM doc_tags WHERE doc_rowid = ?").run(rowid);
  }
  const putAcl = h.stmt("INSERT OR IGNORE INTO doc_acl (doc_rowid, kind, principal) VALUES (?, ?, ?)");
  for (const u of input.acl.users) putAcl.run(rowid, "user", u);
  for (const g of input.acl.groups) putAcl.run(rowid, "group", g);
  const putTag = h.stmt("INSERT OR IGNORE INTO doc_tags (doc_rowid, tag) VALUES (?, ?)");
  for (const t of input.tags) putTag.run(rowid, t);
  return { status: existing ? "updated" : "added", version };
}

/**
 * Writes documents in one transaction (the caller's, if one is open) and their chunks as one
 * segment. The batch is first tried in one savepoint; only if a document fails is it redone with a
 * savepoint per document (two statements each, a tenth of a small document's write time), so the
 * failing one is reported and the others are written.
 */
export function writeDocuments(h: WriterHost, inputs: DocumentInput[]): WriteResult[] {
  return h.db.transaction(() => {
    try {
      return h.db.transaction(() => writeBatch(h, inputs, false))();
    } catch {
      return writeBatch(h, inputs, true);
    }
  })();
}

function writeBatch(h: WriterHost, inputs: DocumentInput[], isolate: boolean): WriteResult[] {
  const analyzer = new ChunkAnalyzer();
  const builder = new SegmentBuilder();
  const removed: Pending["removed"] = [];
  const rowids = h.index.rowidAllocator();
  let changed = false;
  const results = inputs.map((input): WriteResult => {
    const p: Pending = { rowids, added: [], removed: [] };
    if (!isolate) {
      const r = writeOne(h, analyzer, input, p);
      for (const a of p.added) builder.add(a.rowid, a.terms);
      removed.push(...p.removed);
      if (r.status !== "unchanged") changed = true;
      return r;
    }
    try {
      const r = h.db.transaction(() => writeOne(h, analyzer, input, p))();
      // Only a committed savepoint's chunks enter the segment.
      for (const a of p.added) builder.add(a.rowid, a.terms);
      removed.push(...p.removed);
      if (r.status !== "unchanged") changed = true;
      return r;
    } catch (error) {
      return { error };
    }
  });
  rowids.close();
  // New postings first: a chunk written and replaced within the batch is counted, then uncounted.
  h.index.commitSegment(builder);
  h.index.removeChunks(removed);
  if (changed) h.index.bumpGeneration();
  return results;
}
