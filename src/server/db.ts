// The server's own database, `server.db` in the data folder: users and their groups, API keys
// (scrypt hashes only), the knowledge-base registry with its members, page spans of uploaded
// PDFs, and usage per key. Versioned like every Strata store (core/sqlite-store.ts): a file from a
// newer Strata, or a foreign one, is refused with a clear error instead of being misread; an older
// one is migrated in one transaction.
import type Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StrataError } from "../core/errors.js";
import { openVersionedDatabase, type ForeignFileReason, type VersionedSchema, type VersionedStoreErrors } from "../core/sqlite-store.js";

export const SERVER_DB_FILE = "server.db";
export const SERVER_DB_FORMAT = "strata-server";
export const SERVER_SCHEMA_VERSION = 2;

const DDL_V2 = `
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
  revoked_at TEXT,
  -- SHA-256 of a generated key (256 random bits: a fast hash is as strong as scrypt for it), so a
  -- request is checked in microseconds; NULL for chosen keys (STRATA_ADMIN_KEY) and for keys made
  -- before schema 2 until their first successful use.
  check_hash TEXT
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

// 1 → 2: api_keys.check_hash (filled for each generated key at its next successful use).
const SCHEMA: VersionedSchema = {
  format: SERVER_DB_FORMAT,
  version: SERVER_SCHEMA_VERSION,
  ddl: DDL_V2,
  migrations: { 1: (db) => db.exec("ALTER TABLE api_keys ADD COLUMN check_hash TEXT") },
};

function notServerDb(file: string, why: string): StrataError {
  return new StrataError("NOT_A_STORE", `${file} is not a Strata server database: ${why}`, "point --data at the folder `strata serve` created, or at a new empty folder");
}

function whyNotServerDb(reason: ForeignFileReason): string {
  switch (reason.problem) {
    case "cannot-open":
    case "unreadable":
      return reason.detail;
    case "no-meta-table":
      return "it has no meta table";
    case "wrong-format":
      return `its format is ${reason.format ?? "none"}`;
  }
}

function serverDbErrors(file: string): VersionedStoreErrors {
  return {
    notAStore: (reason) => notServerDb(file, whyNotServerDb(reason)),
    corrupt: () => new StrataError("STORE_CORRUPT", `${file}: the schema version is unreadable`, "restore the data folder from a backup"),
    tooNew: (found) => new StrataError("STORE_TOO_NEW", `${file} was written by a newer Strata (schema ${found}; this one reads up to ${SERVER_SCHEMA_VERSION})`, "upgrade Strata to serve this data folder; nothing was changed"),
  };
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
  const db = openVersionedDatabase(file, { ...SCHEMA, errors: serverDbErrors(file), initializeEmpty: true });
  return { db, created };
}
