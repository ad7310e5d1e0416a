// A postgres:// URL as the PostgreSQL store reads it: the connection string for the driver, and
// the schema that holds the knowledge base (`?schema=name`, default `strata`), taken out of it.
import { StrataError } from "../../../core/errors.js";
import { checkSchemaName } from "./schema.js";
import { redactUrl } from "./sql.js";

export const DEFAULT_SCHEMA = "strata";

export function parsePgLocation(url: string): { connectionString: string; schema: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StrataError("USAGE", `${redactUrl(url)} is not a valid PostgreSQL URL`, "write it as postgres://user:password@host:5432/database (?schema=name optional)");
  }
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new StrataError("USAGE", `${redactUrl(url)} is not a postgres:// URL`, "write it as postgres://user:password@host:5432/database");
  if (!u.hostname && !u.searchParams.get("host")) throw new StrataError("USAGE", `${redactUrl(url)} names no host`, "write it as postgres://user:password@host:5432/database");
  const schema = checkSchemaName(u.searchParams.get("schema") ?? DEFAULT_SCHEMA);
  u.searchParams.delete("schema");
  return { connectionString: u.toString(), schema };
}
