// Who may read what. The CLI on a local store acts as its owner unless told `--as`; everything
// served to other people passes a principal, and the store turns it into a WHERE clause so a chunk
// outside the caller's rights is never read, ranked or returned.
import type { Principal } from "../types.js";

/** Full access: the operator of a local store. Never used for requests from other people. */
export const OWNER = Object.freeze({ owner: true as const });
export type Access = typeof OWNER | Principal;

export function isOwner(access: Access): access is typeof OWNER {
  return "owner" in access && access.owner === true;
}

/** SQL condition over documents alias `d`, and its named parameters. */
export function accessClause(access: Access): { sql: string; params: Record<string, string> } {
  if (isOwner(access)) return { sql: "1", params: {} };
  const user = access.user ?? "";
  const groups = JSON.stringify(access.groups ?? []);
  return {
    sql: `(d.is_public = 1 OR EXISTS (SELECT 1 FROM doc_acl a WHERE a.doc_rowid = d.rowid AND (
            (a.kind = 'user' AND a.principal = @acl_user AND @acl_user <> '')
         OR (a.kind = 'group' AND a.principal IN (SELECT value FROM json_each(@acl_groups))))))`,
    params: { acl_user: user, acl_groups: groups },
  };
}
