// The conditions every retriever puts on documents `d`: the caller's rights and the search filters.
// One function, so lexical and dense retrieval cannot disagree about what a caller may see.
import type { SearchFilter } from "../types.js";
import { accessClause, type Access } from "./access.js";

export function readableClause(access: Access, filter?: SearchFilter): { sql: string; params: Record<string, string> } {
  const acl = accessClause(access);
  const where = [acl.sql];
  const params: Record<string, string> = { ...acl.params };
  if (filter?.tags && filter.tags.length > 0) {
    where.push("EXISTS (SELECT 1 FROM doc_tags t WHERE t.doc_rowid = d.rowid AND t.tag IN (SELECT value FROM json_each(@tags)))");
    params.tags = JSON.stringify(filter.tags);
  }
  if (filter?.sourcePrefix) {
    where.push("substr(d.source, 1, length(@prefix)) = @prefix");
    params.prefix = filter.sourcePrefix;
  }
  return { sql: where.join(" AND "), params };
}
