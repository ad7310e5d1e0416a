// Copies an embedded knowledge base into an empty PostgreSQL one (`strata migrate`): documents with
// their ids, versions, chunks, ACLs and tags (so chunk ids, and with them rankings, are the same),
// vectors of every embedding model, conversations with their messages, traces and settings. Each
// batch is one transaction on the target; progress goes through the one event interface. Then
// verifyCopy compares counts and the top 5 of a sample of searches on both sides.
import { StrataError, throwIfAborted } from "../../../core/errors.js";
import type { LongOperationOptions } from "../../../core/events.js";
import { analyze } from "../../analyzer.js";
import { DEFAULT_BM25 } from "../../bm25.js";
import { decodeVector } from "../../dense/vectors.js";
import type { Acl } from "../../types.js";
import { OWNER } from "../access.js";
import type { DocumentInput } from "../document-writer.js";
import type { KnowledgeStore } from "../sqlite-store.js";
import { insertRows } from "./index-writer.js";
import type { PgKnowledgeStore } from "./pg-store.js";

export interface CopyReport {
  documents: number;
  chunks: number;
  vectors: Record<string, number>;
  conversations: number;
  messages: number;
  traces: number;
  settings: number;
}

const BATCH = 500;

interface DocRow {
  rowid: number;
  doc_id: string;
  source: string;
  title: string;
  mime: string;
  hash: string;
  version: number;
  size: number;
  text: string;
}

function documentInput(from: KnowledgeStore, d: DocRow): DocumentInput {
  const chunks = from.stmt('SELECT ordinal, heading_path, start, "end", page, text FROM chunks WHERE doc_rowid = ? ORDER BY ordinal').all(d.rowid) as {
    ordinal: number;
    heading_path: string;
    start: number;
    end: number;
    page: number | null;
    text: string;
  }[];
  const acl = from.stmt("SELECT kind, principal FROM doc_acl WHERE doc_rowid = ?").all(d.rowid) as { kind: string; principal: string }[];
  const tags = (from.stmt("SELECT tag FROM doc_tags WHERE doc_rowid = ?").all(d.rowid) as { tag: string }[]).map((t) => t.tag);
  const a: Acl = { users: acl.filter((x) => x.kind === "user").map((x) => x.principal), groups: acl.filter((x) => x.kind === "group").map((x) => x.principal) };
  return {
    docId: d.doc_id,
    source: d.source,
    title: d.title,
    mime: d.mime,
    hash: d.hash,
    size: d.size,
    text: d.text,
    acl: a,
    tags,
    version: d.version,
    chunks: chunks.map((c) => ({ ordinal: c.ordinal, headingPath: JSON.parse(c.heading_path) as string[], start: c.start, end: c.end, text: c.text, ...(c.page === null ? {} : { page: c.page }) })),
  };
}

/** Copies everything; the target must hold no documents yet. */
export async function copyToPostgres(from: KnowledgeStore, to: PgKnowledgeStore, opts: LongOperationOptions = {}): Promise<CopyReport> {
  if ((await to.chunkCount()) > 0 || (await to.listSources()).length > 0) {
    throw new StrataError("USAGE", `${to.where} already holds documents`, "migrate into a new database or schema (?schema=name)");
  }
  const total = (from.stmt("SELECT count(*) AS n FROM documents").get() as { n: number }).n;
  const report: CopyReport = { documents: 0, chunks: 0, vectors: {}, conversations: 0, messages: 0, traces: 0, settings: 0 };
  let after = 0;
  for (;;) {
    throwIfAborted(opts.signal);
    const docs = from.stmt("SELECT rowid, doc_id, source, title, mime, hash, version, size, text FROM documents WHERE rowid > ? ORDER BY rowid LIMIT ?").all(after, BATCH) as DocRow[];
    if (docs.length === 0) break;
    const inputs = docs.map((d) => documentInput(from, d));
    for (const [i, r] of (await to.writeDocuments(inputs)).entries()) {
      if ("error" in r) throw r.error;
      report.documents++;
      report.chunks += inputs[i]!.chunks.length;
    }
    after = docs[docs.length - 1]!.rowid;
    opts.onProgress?.({ phase: "documents", done: report.documents, total });
  }
  for (const m of from.listEmbeddingModels()) {
    let copied = 0;
    let last = "";
    for (;;) {
      throwIfAborted(opts.signal);
      const rows = from.db
        .prepare("SELECT c.chunk_id, v.vector FROM chunk_vectors v JOIN chunks c ON c.rowid = v.chunk_rowid WHERE v.model_id = ? AND c.chunk_id > ? ORDER BY c.chunk_id LIMIT ?")
        .all(m.modelId, last, BATCH) as { chunk_id: string; vector: Buffer }[];
      if (rows.length === 0) break;
      const ids = await to.db.query<{ rowid: number; chunk_id: string }>("SELECT rowid, chunk_id FROM chunks WHERE chunk_id = ANY($1::text[])", [rows.map((r) => r.chunk_id)]);
      const rowidOf = new Map(ids.map((r) => [r.chunk_id, Number(r.rowid)]));
      const vectors = rows.filter((r) => rowidOf.has(r.chunk_id)).map((r) => ({ rowid: rowidOf.get(r.chunk_id)!, chunkId: r.chunk_id, vector: decodeVector(r.vector) }));
      copied += await to.writeVectors(m.modelId, m.dimensions, vectors);
      last = rows[rows.length - 1]!.chunk_id;
      opts.onProgress?.({ phase: `vectors ${m.modelId}`, done: copied, total: m.vectors });
    }
    report.vectors[m.modelId] = copied;
  }
  await copyRecords(from, to, report);
  return report;
}

/** Conversations, messages, traces and settings, as stored (owners and times kept). */
async function copyRecords(from: KnowledgeStore, to: PgKnowledgeStore, report: CopyReport): Promise<void> {
  const conversations = from.db.prepare("SELECT id, owner, created_at, updated_at FROM conversations ORDER BY id").raw().all() as unknown[][];
  const messages = from.db.prepare("SELECT conversation_id, ordinal, role, content, data, created_at FROM messages ORDER BY rowid").raw().all() as unknown[][];
  const traces = from.db.prepare("SELECT id, kind, owner, created_at, data FROM traces ORDER BY created_at").raw().all() as unknown[][];
  const settings = from.db.prepare("SELECT key, value FROM meta WHERE key LIKE 'setting.%'").raw().all() as unknown[][];
  await to.db.transaction(async (tx) => {
    if (conversations.length > 0) await insertRows(tx, "INSERT INTO conversations (id, owner, created_at, updated_at)", conversations);
    if (messages.length > 0) await insertRows(tx, "INSERT INTO messages (conversation_id, ordinal, role, content, data, created_at)", messages);
    if (traces.length > 0) await insertRows(tx, "INSERT INTO traces (id, kind, owner, created_at, data)", traces);
    if (settings.length > 0) await insertRows(tx, "INSERT INTO strata_meta (key, value)", settings, "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  });
  report.conversations = conversations.length;
  report.messages = messages.length;
  report.traces = traces.length;
  report.settings = settings.length;
}

export interface CopyCheck {
  ok: boolean;
  problems: string[];
  /** Searches compared (top 5 chunk ids and scores). */
  sampled: number;
}

/** Counts on both sides, and the top 5 of searches for a sample of the documents' titles. */
export async function verifyCopy(from: KnowledgeStore, to: PgKnowledgeStore, sample = 20): Promise<CopyCheck> {
  const problems: string[] = [];
  const a = from.integrityCheck();
  const b = await to.integrityCheck();
  if (!b.ok) problems.push(...b.problems);
  if (a.documents !== b.documents) problems.push(`documents: ${a.documents} embedded, ${b.documents} on PostgreSQL`);
  if (a.chunks !== b.chunks) problems.push(`chunks: ${a.chunks} embedded, ${b.chunks} on PostgreSQL`);
  for (const m of from.listEmbeddingModels()) {
    const n = (await to.embeddingModel(m.modelId))?.vectors ?? 0;
    if (n !== m.vectors) problems.push(`vectors of ${m.modelId}: ${m.vectors} embedded, ${n} on PostgreSQL`);
  }
  const titles = (from.db.prepare("SELECT title || ' ' || substr(text, 1, 80) AS q FROM documents ORDER BY rowid").pluck().all() as string[]).filter((t) => analyze(t).length > 0);
  const step = Math.max(1, Math.floor(titles.length / sample));
  let sampled = 0;
  for (let i = 0; i < titles.length && sampled < sample; i += step, sampled++) {
    const terms = analyze(titles[i]!);
    const opts = { k: 5, access: OWNER, params: DEFAULT_BM25 };
    const x = from.lexicalSearch(terms, opts).map((h) => `${h.chunkId}:${h.score}`);
    const y = (await to.lexicalSearch(terms, opts)).map((h) => `${h.chunkId}:${h.score}`);
    if (x.join() !== y.join()) problems.push(`search "${titles[i]!.slice(0, 40)}" ranks differently`);
  }
  return { ok: problems.length === 0, problems, sampled };
}
