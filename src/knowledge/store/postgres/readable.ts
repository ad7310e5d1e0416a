// The conditions every PostgreSQL query puts on documents `d`: the caller's rights and the search
// filters, as in the embedded store's readableClause (same meaning, PostgreSQL syntax with
// positional parameters). One function, so lexical, dense and the document lists cannot disagree.
import type { SearchFilter } from "../../types.js";
import { isOwner, type Access } from "../access.js";

/** Appends its parameters to `params` and returns the SQL condition naming them. */
export function pgReadableClause(access: Access, filter: SearchFilter | undefined, params: unknown[]): string {
  const where: string[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (!isOwner(access)) {
    const user = p(access.user ?? "");
    const groups = p(access.groups ?? []);
    where.push(`(d.is_public OR EXISTS (SELECT 1 FROM doc_acl a WHERE a.doc_rowid = d.rowid AND (
        (a.kind = 'user' AND a.principal = ${user}::text AND ${user}::text <> '')
     OR (a.kind = 'group' AND a.principal = ANY(${groups}::text[])))))`);
  }
  if (filter?.tags && filter.tags.length > 0) where.push(`EXISTS (SELECT 1 FROM doc_tags t WHERE t.doc_rowid = d.rowid AND t.tag = ANY(${p(filter.tags)}::text[]))`);
  if (filter?.sourcePrefix) where.push(`starts_with(d.source, ${p(filter.sourcePrefix)}::text)`);
  return where.length > 0 ? where.join(" AND ") : "TRUE";
}
