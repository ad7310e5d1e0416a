// Where a knowledge base lives, from the one string users give (`--kb`, `strata serve --database`):
// a folder (the embedded SQLite store) or a postgres:// / postgresql:// URL (the PostgreSQL store).
// Anything else that looks like a URL is refused with the backends there are, so a typo such as
// `postgress://…` never silently becomes a local folder named after it.
import { StrataError } from "../../core/errors.js";

export type StoreLocation = { kind: "folder"; path: string } | { kind: "postgres"; url: string };

export const BACKENDS = "a folder (embedded SQLite) or a postgres:// or postgresql:// URL (PostgreSQL)";

/** scheme:// with a scheme of two or more characters (a one-letter scheme is a Windows drive). */
const URL_LIKE = /^([A-Za-z][A-Za-z0-9+.-]+):\/\//;

export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export function storeLocation(location: string): StoreLocation {
  if (isPostgresLocation(location)) return { kind: "postgres", url: location };
  const m = URL_LIKE.exec(location);
  if (m) {
    throw new StrataError("USAGE", `no knowledge-base backend handles ${m[1]}:// locations`, `give ${BACKENDS}`);
  }
  return { kind: "folder", path: location };
}
