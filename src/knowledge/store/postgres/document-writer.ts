// Writing documents to PostgreSQL with the embedded writer's rules: a batch is one transaction and
// one index segment, each document a savepoint (one that fails is returned as its error, the
// others are written); a changed document's old chunks are deleted and tombstoned, its new chunks
// get fresh rowids. The knowledge base's write lock (an advisory lock) is taken first, so two
// processes ingesting the same source write it once: the second finds it unchanged.
import { ChunkAnalyzer, titleFieldOf, type ChunkTerms } from "../../index/chunk-terms.js";
import { SegmentBuilder } from "../../index/segment-writer.js";
import type { Acl } from "../../types.js";
import type { DocumentInput, StoredDocumentInfo, WriteResult, WriteStatus } from "../document-writer.js";
import { insertRows, lockForWrite, readWriteState, removeChunks, saveWriteState, writeSegment, type LexWriteState } from "./index-writer.js";
import { isConnectionLoss, type SqlRunner } from "./sql.js";

type Removed = { rowid: number; terms: ChunkTerms }[];

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join("\0") === [...b].sort().join("\0");

export async function findBySource(q: SqlRunner, source: string): Promise<StoredDocumentInfo | undefined> {
  const r = (await q.query<{ rowid: number; doc_id: string; source: string; hash: string; version: number }>("SELECT rowid, doc_id, source, hash, version FROM documents WHERE source = $1", [source]))[0];
  return r && { rowid: Number(r.rowid), docId: r.doc_id, source: r.source, hash: r.hash, version: r.version };
}

export async function aclOf(q: SqlRunner, rowid: number): Promise<Acl> {
  const rows = await q.query<{ kind: string; principal: string }>("SELECT kind, principal FROM doc_acl WHERE doc_rowid = $1 ORDER BY principal", [rowid]);
  return { users: rows.filter((r) => r.kind === "user").map((r) => r.principal), groups: rows.filter((r) => r.kind === "group").map((r) => r.principal) };
}

export async function tagsOf(q: SqlRunner, rowid: number): Promise<string[]> {
  return (await q.query<{ tag: string }>("SELECT tag FROM doc_tags WHERE doc_rowid = $1 ORDER BY tag", [rowid])).map((r) => r.tag);
}

export async function isUnchanged(q: SqlRunner, info: StoredDocumentInfo, hash: string, acl: Acl, tags: string[]): Promise<boolean> {
  if (info.hash !== hash) return false;
  const stored = await aclOf(q, info.rowid);
  return sameSet(stored.users, acl.users) && sameSet(stored.groups, acl.groups) && sameSet(await tagsOf(q, info.rowid), tags);
}

/** Deletes a document's chunks; their index entries are found by re-analysing the text. */
export async function deleteChunks(tx: SqlRunner, analyzer: ChunkAnalyzer, docRowid: number, removed: Removed): Promise<void> {
  const rows = await tx.query<{ rowid: number; text: string; heading_path: string; title: string }>(
    "SELECT c.rowid, c.text, c.heading_path, d.title FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid WHERE c.doc_rowid = $1",
    [docRowid],
  );
  for (const r of rows) removed.push({ rowid: Number(r.rowid), terms: analyzer.analyze(r.text, titleFieldOf(r.title, JSON.parse(r.heading_path) as string[])) });
  await tx.query("DELETE FROM chunks WHERE doc_rowid = $1", [docRowid]);
}

async function insertChunks(tx: SqlRunner, analyzer: ChunkAnalyzer, s: LexWriteState, docRowid: number, input: DocumentInput, version: number, added: Removed): Promise<void> {
  const rows: unknown[][] = [];
  for (const c of input.chunks) {
    const terms = analyzer.analyze(c.text, titleFieldOf(input.title, c.headingPath));
    const rowid = s.nextRowid++;
    rows.push([rowid, `${input.docId}-v${version}-${c.ordinal}`, docRowid, c.ordinal, JSON.stringify(c.headingPath), c.start, c.end, c.page ?? null, c.text, terms.lenBody, terms.lenBody, terms.lenTitle]);
    added.push({ rowid, terms });
  }
  await insertRows(tx, `INSERT INTO chunks (rowid, chunk_id, doc_rowid, ordinal, heading_path, start, "end", page, text, token_count, len_body, len_title)`, rows);
}

async function writeOne(tx: SqlRunner, analyzer: ChunkAnalyzer, s: LexWriteState, input: DocumentInput, added: Removed, removed: Removed): Promise<{ status: WriteStatus; version: number }> {
  const existing = await findBySource(tx, input.source);
  if (existing && (await isUnchanged(tx, existing, input.hash, input.acl, input.tags))) return { status: "unchanged", version: existing.version };
  const now = new Date().toISOString();
  const isPublic = input.acl.users.length === 0 && input.acl.groups.length === 0;
  let rowid: number;
  let version: number;
  if (existing && existing.hash === input.hash) {
    rowid = existing.rowid;
    version = existing.version;
    await tx.query("UPDATE documents SET is_public = $1, ingested_at = $2 WHERE rowid = $3", [isPublic, now, rowid]);
  } else if (existing) {
    rowid = existing.rowid;
    version = existing.version + 1;
    await deleteChunks(tx, analyzer, rowid, removed);
    await tx.query("UPDATE documents SET title = $1, mime = $2, hash = $3, version = $4, ingested_at = $5, size = $6, is_public = $7, text = $8 WHERE rowid = $9", [
      input.title, input.mime, input.hash, version, now, input.size, isPublic, input.text, rowid,
    ]);
    await insertChunks(tx, analyzer, s, rowid, input, version, added);
  } else {
    version = input.version ?? 1;
    const r = await tx.query<{ rowid: number }>(
      "INSERT INTO documents (doc_id, source, title, mime, hash, version, ingested_at, size, is_public, text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING rowid",
      [input.docId, input.source, input.title, input.mime, input.hash, version, now, input.size, isPublic, input.text],
    );
    rowid = Number(r[0]!.rowid);
    await insertChunks(tx, analyzer, s, rowid, input, version, added);
  }
  if (existing) {
    await tx.query("DELETE FROM doc_acl WHERE doc_rowid = $1", [rowid]);
    await tx.query("DELETE FROM doc_tags WHERE doc_rowid = $1", [rowid]);
  }
  const acl = [...new Set(input.acl.users)].map((u) => [rowid, "user", u]).concat([...new Set(input.acl.groups)].map((g) => [rowid, "group", g]));
  if (acl.length > 0) await insertRows(tx, "INSERT INTO doc_acl (doc_rowid, kind, principal)", acl, "ON CONFLICT DO NOTHING");
  const tags = [...new Set(input.tags)].map((t) => [rowid, t]);
  if (tags.length > 0) await insertRows(tx, "INSERT INTO doc_tags (doc_rowid, tag)", tags, "ON CONFLICT DO NOTHING");
  return { status: existing ? "updated" : "added", version };
}

/** Writes documents in the caller's transaction; returns one result per input. */
export async function writeDocumentsIn(tx: SqlRunner, inputs: DocumentInput[]): Promise<WriteResult[]> {
  await lockForWrite(tx);
  const s = await readWriteState(tx);
  const analyzer = new ChunkAnalyzer();
  const builder = new SegmentBuilder();
  const removed: Removed = [];
  let changed = false;
  const results: WriteResult[] = [];
  for (const input of inputs) {
    const added: Removed = [];
    const gone: Removed = [];
    const rowidBefore = s.nextRowid;
    await tx.query("SAVEPOINT strata_doc");
    try {
      const r = await writeOne(tx, analyzer, s, input, added, gone);
      await tx.query("RELEASE SAVEPOINT strata_doc");
      // Only a committed savepoint's chunks enter the segment.
      for (const a of added) builder.add(a.rowid, a.terms);
      removed.push(...gone);
      if (r.status !== "unchanged") changed = true;
      results.push(r);
    } catch (error) {
      if (isConnectionLoss(error)) throw error;
      await tx.query("ROLLBACK TO SAVEPOINT strata_doc");
      s.nextRowid = Math.max(s.nextRowid, rowidBefore);
      results.push({ error });
    }
  }
  if (changed) {
    s.generation++;
    // New postings first: a chunk written and replaced within the batch is counted, then uncounted.
    await writeSegment(tx, s, builder);
    await removeChunks(tx, s.generation, removed);
  }
  await saveWriteState(tx, s);
  return results;
}

/** Deletes a document and everything derived from it, in the caller's transaction. */
export async function removeDocumentIn(tx: SqlRunner, docId: string): Promise<boolean> {
  await lockForWrite(tx);
  const row = (await tx.query<{ rowid: number }>("SELECT rowid FROM documents WHERE doc_id = $1", [docId]))[0];
  if (!row) return false;
  const s = await readWriteState(tx);
  s.generation++;
  const removed: Removed = [];
  await deleteChunks(tx, new ChunkAnalyzer(), Number(row.rowid), removed);
  await removeChunks(tx, s.generation, removed);
  await tx.query("DELETE FROM documents WHERE rowid = $1", [row.rowid]);
  await saveWriteState(tx, s);
  return true;
}
