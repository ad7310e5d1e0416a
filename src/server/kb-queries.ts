// Reads of a knowledge base that the server needs and the library does not offer yet: document
// lists, page spans, readable counts and a user's conversations. Each puts the caller's rights in
// the same query that reads the rows, through the store's own `readableClause` (the function BM25F
// and dense search use) or the owner column, so these lists can never show more than search does.
import type { KnowledgeBase } from "../knowledge/knowledge-base.js";
import { readableClause } from "../knowledge/store/sqlite-store.js";
import { ownerOf } from "../knowledge/store/trace-store.js";
import type { Acl, Principal } from "../knowledge/types.js";

export interface DocumentSummary {
  docId: string;
  source: string;
  title: string;
  mime: string;
  version: number;
  ingestedAt: string;
  size: number;
  acl: Acl;
  tags: string[];
}

export interface PageSpan {
  page: number;
  start: number;
  end: number;
}

export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
}

interface DocRow {
  doc_id: string;
  source: string;
  title: string;
  mime: string;
  version: number;
  ingested_at: string;
  size: number;
  acl: string;
  tags: string;
}

function parseAcl(json: string): Acl {
  const rows = JSON.parse(json) as { kind: string; principal: string }[];
  return { users: rows.filter((r) => r.kind === "user").map((r) => r.principal).sort(), groups: rows.filter((r) => r.kind === "group").map((r) => r.principal).sort() };
}

/** Documents the principal may read, by source. */
export function listReadableDocuments(kb: KnowledgeBase, principal: Principal): DocumentSummary[] {
  const where = readableClause(principal);
  const rows = kb.store.db
    .prepare(
      `SELECT d.doc_id, d.source, d.title, d.mime, d.version, d.ingested_at, d.size,
              (SELECT json_group_array(json_object('kind', a.kind, 'principal', a.principal)) FROM doc_acl a WHERE a.doc_rowid = d.rowid) AS acl,
              (SELECT json_group_array(t.tag) FROM doc_tags t WHERE t.doc_rowid = d.rowid) AS tags
         FROM documents d WHERE ${where.sql} ORDER BY d.source`,
    )
    .all(where.params) as DocRow[];
  return rows.map((r) => ({
    docId: r.doc_id,
    source: r.source,
    title: r.title,
    mime: r.mime,
    version: r.version,
    ingestedAt: r.ingested_at,
    size: r.size,
    acl: parseAcl(r.acl),
    tags: (JSON.parse(r.tags) as string[]).sort(),
  }));
}

/** Documents and chunks the principal may read. */
export function readableCounts(kb: KnowledgeBase, principal: Principal): { documents: number; chunks: number } {
  const where = readableClause(principal);
  return kb.store.db
    .prepare(`SELECT count(*) AS documents, coalesce(sum((SELECT count(*) FROM chunks c WHERE c.doc_rowid = d.rowid)), 0) AS chunks FROM documents d WHERE ${where.sql}`)
    .get(where.params) as { documents: number; chunks: number };
}

/**
 * Where each page of a paged document (PDF) begins and ends in its text, as well as the chunks
 * tell: a page runs from its first chunk's start to the next page's, so a chunk that crosses a
 * page break counts toward the page it starts on. Empty for unpaged or unreadable documents.
 */
export function pageSpans(kb: KnowledgeBase, docId: string, principal: Principal): PageSpan[] {
  const where = readableClause(principal);
  const rows = kb.store.db
    .prepare(
      `SELECT c.page AS page, min(c.start) AS start, (SELECT length(d.text)) AS length
         FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
        WHERE d.doc_id = @doc_id AND c.page IS NOT NULL AND ${where.sql}
        GROUP BY c.page ORDER BY c.page`,
    )
    .all({ doc_id: docId, ...where.params }) as { page: number; start: number; length: number }[];
  return rows.map((r, i) => ({ page: r.page, start: i === 0 ? 0 : r.start, end: rows[i + 1]?.start ?? r.length }));
}

/** The principal's own conversations in this base, most recent first, titled by their first question. */
export function listOwnConversations(kb: KnowledgeBase, principal: Principal): ConversationSummary[] {
  const rows = kb.store.db
    .prepare(
      `SELECT c.id, c.created_at, c.updated_at,
              (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS messages,
              (SELECT m.content FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user' ORDER BY m.ordinal LIMIT 1) AS title
         FROM conversations c WHERE c.owner = @owner ORDER BY c.updated_at DESC, c.id`,
    )
    .all({ owner: ownerOf(principal) }) as { id: string; created_at: string; updated_at: string; messages: number; title: string | null }[];
  return rows.map((r) => ({ id: r.id, title: (r.title ?? "").slice(0, 200), createdAt: r.created_at, updatedAt: r.updated_at, messages: r.messages }));
}

/** Whether the principal owns a conversation with this id here (owner in the same query). */
export function ownsConversation(kb: KnowledgeBase, id: string, principal: Principal): boolean {
  return kb.store.db.prepare("SELECT 1 FROM conversations WHERE id = ? AND owner = ?").get(id, ownerOf(principal)) !== undefined;
}
