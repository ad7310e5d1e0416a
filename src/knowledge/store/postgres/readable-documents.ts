// What a principal may see of the documents without searching, in PostgreSQL: the list, counts
// and page spans, each query carrying the caller's rights (pgReadableClause), as embedded.
import type { Acl, Principal } from "../../types.js";
import type { ReadableDocumentOps } from "../backend.js";
import type { DocumentSummary, PageSpan } from "../readable-documents.js";
import { pgReadableClause } from "./readable.js";
import type { SqlClient } from "./sql.js";

interface Row {
  doc_id: string;
  source: string;
  title: string;
  mime: string;
  version: number;
  ingested_at: string;
  size: number;
  acl: { kind: string; principal: string }[] | string;
  tags: string[] | string;
}

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

function toSummary(r: Row): DocumentSummary {
  const acl = json(r.acl);
  const a: Acl = { users: acl.filter((x) => x.kind === "user").map((x) => x.principal).sort(), groups: acl.filter((x) => x.kind === "group").map((x) => x.principal).sort() };
  return { docId: r.doc_id, source: r.source, title: r.title, mime: r.mime, version: r.version, ingestedAt: r.ingested_at, size: Number(r.size), acl: a, tags: [...json(r.tags)].sort() };
}

const SUMMARY = `SELECT d.doc_id, d.source, d.title, d.mime, d.version, d.ingested_at, d.size,
    coalesce((SELECT json_agg(json_build_object('kind', a.kind, 'principal', a.principal)) FROM doc_acl a WHERE a.doc_rowid = d.rowid), '[]'::json) AS acl,
    coalesce((SELECT json_agg(t.tag) FROM doc_tags t WHERE t.doc_rowid = d.rowid), '[]'::json) AS tags
  FROM documents d`;

export class PgReadableDocuments implements ReadableDocumentOps {
  constructor(private readonly db: SqlClient) {}

  async list(principal: Principal): Promise<DocumentSummary[]> {
    const params: unknown[] = [];
    const cond = pgReadableClause(principal, undefined, params);
    return (await this.db.query<Row>(`${SUMMARY} WHERE ${cond} ORDER BY d.source COLLATE "C"`, params)).map(toSummary);
  }

  async counts(principal: Principal): Promise<{ documents: number; chunks: number }> {
    const params: unknown[] = [];
    const cond = pgReadableClause(principal, undefined, params);
    const r = (await this.db.query<{ documents: number; chunks: number }>(
      `SELECT count(*)::int AS documents, coalesce(sum((SELECT count(*) FROM chunks c WHERE c.doc_rowid = d.rowid)), 0)::int AS chunks FROM documents d WHERE ${cond}`,
      params,
    ))[0]!;
    return { documents: r.documents, chunks: r.chunks };
  }

  async pageSpans(docId: string, principal: Principal): Promise<PageSpan[]> {
    const params: unknown[] = [docId];
    const cond = pgReadableClause(principal, undefined, params);
    const rows = await this.db.query<{ page: number; start: number; length: number }>(
      `SELECT c.page, min(c.start) AS start, min(length(d.text)) AS length
         FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid
        WHERE d.doc_id = $1 AND c.page IS NOT NULL AND ${cond}
        GROUP BY c.page ORDER BY c.page`,
      params,
    );
    return rows.map((r, i) => ({ page: r.page, start: i === 0 ? 0 : r.start, end: rows[i + 1]?.start ?? r.length }));
  }
}
