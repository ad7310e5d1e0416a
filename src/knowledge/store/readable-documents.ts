// What a caller may see of a store's documents without searching: the list, the counts and the
// page spans of one document. Each query puts the caller's rights in its own WHERE clause through
// `readableClause` (the function BM25F and dense search use), so these can never show more than
// search does. They take a Principal, never OWNER: they serve requests from other people.
import type Database from "better-sqlite3";
import type { Acl, Principal, SearchFilter } from "../types.js";
import type { Access } from "./access.js";
import { readableClause } from "./sqlite-store.js";

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

/** Filters and paging of `page`: tags and source prefix as in search, plus who the ACL names. */
export interface DocumentQuery extends SearchFilter {
  /** Only documents whose access list names this user. */
  aclUser?: string;
  /** Only documents whose access list names this group. */
  aclGroup?: string;
  /** Only documents everyone may read (no access list). */
  publicOnly?: boolean;
  offset?: number;
  limit?: number;
}

export interface DocumentPage {
  /** Documents that match, over all pages. */
  total: number;
  offset: number;
  documents: DocumentSummary[];
}

export interface PageSpan {
  page: number;
  start: number;
  end: number;
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

const SUMMARY_SELECT = `SELECT d.doc_id, d.source, d.title, d.mime, d.version, d.ingested_at, d.size,
        (SELECT json_group_array(json_object('kind', a.kind, 'principal', a.principal)) FROM doc_acl a WHERE a.doc_rowid = d.rowid) AS acl,
        (SELECT json_group_array(t.tag) FROM doc_tags t WHERE t.doc_rowid = d.rowid) AS tags
   FROM documents d`;

function toSummary(r: DocRow): DocumentSummary {
  return {
    docId: r.doc_id,
    source: r.source,
    title: r.title,
    mime: r.mime,
    version: r.version,
    ingestedAt: r.ingested_at,
    size: r.size,
    acl: parseAcl(r.acl),
    tags: (JSON.parse(r.tags) as string[]).sort(),
  };
}

export class ReadableDocuments {
  constructor(private readonly db: Database.Database) {}

  /** Documents the principal may read, by source. */
  list(principal: Principal): DocumentSummary[] {
    const where = readableClause(principal);
    const rows = this.db.prepare(`${SUMMARY_SELECT} WHERE ${where.sql} ORDER BY d.source`).all(where.params) as DocRow[];
    return rows.map(toSummary);
  }

  /**
   * One page of the documents `access` may read that match the query, by source, with the total.
   * Takes Access so the CLI's owner sees everything; the server passes its caller's Principal.
   */
  page(access: Access, q: DocumentQuery = {}): DocumentPage {
    const where = readableClause(access, q);
    const sql = [where.sql];
    const params: Record<string, string | number> = { ...where.params };
    const names = (kind: "user" | "group", param: string, value: string): void => {
      sql.push(`EXISTS (SELECT 1 FROM doc_acl n WHERE n.doc_rowid = d.rowid AND n.kind = '${kind}' AND n.principal = @${param})`);
      params[param] = value;
    };
    if (q.aclUser) names("user", "acl_names_user", q.aclUser);
    if (q.aclGroup) names("group", "acl_names_group", q.aclGroup);
    if (q.publicOnly) sql.push("d.is_public = 1");
    const cond = sql.join(" AND ");
    const total = (this.db.prepare(`SELECT count(*) AS n FROM documents d WHERE ${cond}`).get(params) as { n: number }).n;
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    const limit = Math.max(0, Math.floor(q.limit ?? 50));
    const rows = this.db.prepare(`${SUMMARY_SELECT} WHERE ${cond} ORDER BY d.source LIMIT @limit OFFSET @offset`).all({ ...params, limit, offset }) as DocRow[];
    return { total, offset, documents: rows.map(toSummary) };
  }

  /** Documents and chunks the principal may read. */
  counts(principal: Principal): { documents: number; chunks: number } {
    const where = readableClause(principal);
    return this.db
      .prepare(`SELECT count(*) AS documents, coalesce(sum((SELECT count(*) FROM chunks c WHERE c.doc_rowid = d.rowid)), 0) AS chunks FROM documents d WHERE ${where.sql}`)
      .get(where.params) as { documents: number; chunks: number };
  }

  /**
   * Where each page of a paged document (PDF) begins and ends in its text, as well as the chunks
   * tell: a page runs from its first chunk's start to the next page's, so a chunk that crosses a
   * page break counts toward the page it starts on. Empty for unpaged or unreadable documents.
   */
  pageSpans(docId: string, principal: Principal): PageSpan[] {
    const where = readableClause(principal);
    const rows = this.db
      .prepare(
        `SELECT c.page AS page, min(c.start) AS start, (SELECT length(d.text)) AS length
           FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
          WHERE d.doc_id = @doc_id AND c.page IS NOT NULL AND ${where.sql}
          GROUP BY c.page ORDER BY c.page`,
      )
      .all({ doc_id: docId, ...where.params }) as { page: number; start: number; length: number }[];
    return rows.map((r, i) => ({ page: r.page, start: i === 0 ? 0 : r.start, end: rows[i + 1]?.start ?? r.length }));
  }
}
