// The server's own database, `server.db` in the data folder: users and their groups, API keys
// (scrypt hashes only), the knowledge-base registry with its members, page spans of uploaded
// PDFs, and usage per key. Versioned
// like the knowledge-base store: a file from a newer Strata, or a foreign one, is refused with a
// clear error instead of being misread; an older one is migrated in one transaction.
import Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StrataError } from "../core/errors.js";

export const SERVER_DB_FILE = "server.db";
export const SERVER_DB_FORMAT = "strata-server";
export const SERVER_SCHEMA_VERSION = 1;

const DDL_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE user_groups (
  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  grp TEXT NOT NULL,
  PRIMARY KEY (user, grp)
) WITHOUT ROWID;
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  origin TEXT NOT NULL,
  name TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_keys_by_origin ON api_keys (origin, revoked_at);
CREATE TABLE kbs (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE kb_members (
  kb TEXT NOT NULL REFERENCES kbs(name) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
  principal TEXT NOT NULL,
  PRIMARY KEY (kb, kind, principal)
) WITHOUT ROWID;
CREATE INDEX kb_members_by_principal ON kb_members (kind, principal, kb);
-- Page spans of uploaded paged documents (PDF), from the loader's blocks: the knowledge store
-- keeps each chunk's first page only, which cannot say where a page ends.
CREATE TABLE doc_pages (
  kb TEXT NOT NULL REFERENCES kbs(name) ON DELETE CASCADE,
  doc_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  pages TEXT NOT NULL,
  PRIMARY KEY (kb, doc_id)
) WITHOUT ROWID;
CREATE TABLE usage (
  key_id TEXT PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
  requests INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  last_used_at TEXT
);
`;

/** MIGRATIONS[i] takes the schema from version i+1 to i+2 (none yet). */
const MIGRATIONS: readonly string[] = [];

function notServerDb(file: string, why: string): StrataError {
  return new StrataError("NOT_A_STORE", `${file} is not a Strata server database: ${why}`, "point --data at the folder `strata serve` created, or at a new empty folder");
}

export interface OpenedServerDb {
  db: Database.Database;
  /** True when this call created the database (first start). */
  created: boolean;
}

/** Opens (creating on first use) the data folder's server.db and checks its format and version. */
export function openServerDb(dataDir: string): OpenedServerDb {
  const dir = resolve(dataDir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new StrataError("USAGE", `--data ${dataDir} is a file, not a folder`, "pass a folder (it is created when missing)");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, SERVER_DB_FILE);
  const created = !existsSync(file);
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
  } catch (e) {
    throw notServerDb(file, (e as Error).message);
  }
  try {
    const empty = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
    if (empty) initialize(db);
    else check(db, file);
  } catch (e) {
    db.close();
    if (e instanceof StrataError) throw e;
    throw notServerDb(file, (e as Error).message);
  }
  return { db, created };
}

function initialize(db: Database.Database): void {
  db.transaction(() => {
    db.exec(DDL_V1);
    for (const m of MIGRATIONS) db.exec(m);
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    put.run("format", SERVER_DB_FORMAT);
    put.run("schema_version", String(SERVER_SCHEMA_VERSION));
    put.run("created_at", new Date().toISOString());
  })();
}

function check(db: Database.Database, file: string): void {
  let rows: { key: string; value: string }[];
  try {
    rows = db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[];
  } catch {
    throw notServerDb(file, "it has no meta table");
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get("format") !== SERVER_DB_FORMAT) throw notServerDb(file, `its format is ${meta.get("format") ?? "none"}`);
  const version = Number(meta.get("schema_version"));
  if (!Number.isInteger(version) || version < 1) throw new StrataError("STORE_CORRUPT", `${file}: the schema version is unreadable`, "restore the data folder from a backup");
  if (version > SERVER_SCHEMA_VERSION) {
    throw new StrataError("STORE_TOO_NEW", `${file} was written by a newer Strata (schema ${version}; this one reads up to ${SERVER_SCHEMA_VERSION})`, "upgrade Strata to serve this data folder; nothing was changed");
  }
  if (version < SERVER_SCHEMA_VERSION) {
    db.transaction(() => {
      for (let v = version; v < SERVER_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v - 1]!);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SERVER_SCHEMA_VERSION));
    })();
  }
}
