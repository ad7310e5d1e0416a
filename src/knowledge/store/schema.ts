// The embedded store's on-disk layout: one SQLite file in the knowledge-base folder. Opening checks
// that the file is ours and not from a newer Strata, so an old binary never misreads a new store.
import type Database from "better-sqlite3";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StrataError } from "../../core/errors.js";
import { createVersionedDatabase, openVersionedDatabase, type ForeignFileReason, type VersionedSchema, type VersionedStoreErrors } from "../../core/sqlite-store.js";
import type { ProgressListener } from "../../core/events.js";
import { ANALYZER_VERSION } from "../analyzer.js";

export const STORE_FILE = "strata.db";
export const STORE_FORMAT = "strata-knowledge-base";
export const SCHEMA_VERSION = 3;

const DDL_V1 = `
CREATE TABLE documents (
  rowid INTEGER PRIMARY KEY,
  doc_id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  mime TEXT NOT NULL,
  hash TEXT NOT NULL,
  version INTEGER NOT NULL,
  ingested_at TEXT NOT NULL,
  size INTEGER NOT NULL,
  is_public INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE TABLE doc_acl (
  doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
  principal TEXT NOT NULL,
  PRIMARY KEY (doc_rowid, kind, principal)
) WITHOUT ROWID;
CREATE INDEX doc_acl_by_principal ON doc_acl (kind, principal, doc_rowid);
CREATE TABLE doc_tags (
  doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (doc_rowid, tag)
) WITHOUT ROWID;
CREATE INDEX doc_tags_by_tag ON doc_tags (tag, doc_rowid);
CREATE TABLE chunks (
  rowid INTEGER PRIMARY KEY,
  chunk_id TEXT NOT NULL UNIQUE,
  doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  heading_path TEXT NOT NULL,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL,
  page INTEGER,
  text TEXT NOT NULL,
  token_count INTEGER NOT NULL,
  len_body INTEGER NOT NULL,
  len_title INTEGER NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks (doc_rowid, ordinal);
CREATE TABLE terms (term_id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, df INTEGER NOT NULL);
CREATE TABLE postings (
  term_id INTEGER NOT NULL,
  chunk_rowid INTEGER NOT NULL,
  tf_body INTEGER NOT NULL,
  tf_title INTEGER NOT NULL,
  PRIMARY KEY (term_id, chunk_rowid)
) WITHOUT ROWID;
CREATE TABLE stats (id INTEGER PRIMARY KEY CHECK (id = 1), chunks INTEGER NOT NULL, sum_len_body INTEGER NOT NULL, sum_len_title INTEGER NOT NULL);
INSERT INTO stats VALUES (1, 0, 0, 0);
`;

// Schema 2: dense vectors per embedding model, conversations with their messages, and traces of
// answers; a new store gets both, a version 1 store is migrated with the second.
const DDL_V2_ADDED = `
CREATE TABLE embedding_models (
  model_id TEXT PRIMARY KEY,
  dimensions INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
-- A rowid table, not WITHOUT ROWID: vectors of a few hundred floats would overflow a clustered
-- index's pages (measured: 2.3x the pages at 50k x 384).
CREATE TABLE chunk_vectors (
  model_id TEXT NOT NULL REFERENCES embedding_models(model_id) ON DELETE CASCADE,
  chunk_rowid INTEGER NOT NULL REFERENCES chunks(rowid) ON DELETE CASCADE,
  vector BLOB NOT NULL,
  UNIQUE (model_id, chunk_rowid)
);
CREATE INDEX chunk_vectors_by_chunk ON chunk_vectors (chunk_rowid);
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE messages (
  rowid INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  data TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (conversation_id, ordinal)
);
CREATE TABLE traces (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX traces_by_time ON traces (created_at);
`;

// Schema 3: the lexical index as immutable segments of compressed per-term postings (decision
// 0008). Chunk rowids only grow (lex_state.next_chunk_rowid), so a deleted chunk's postings,
// left in their segment until a merge, are recognised by the tombstone log and never reused.
// The row-per-posting table of schema 2 goes; a migrated store rebuilds the index from its chunks
// on first open (needs_build), with progress, in one transaction.
const DDL_V3_CHANGES = `
DROP TABLE IF EXISTS postings;
CREATE TABLE lex_segments (
  seg_id INTEGER PRIMARY KEY,
  min_rowid INTEGER NOT NULL,
  max_rowid INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  level INTEGER NOT NULL
);
CREATE TABLE lex_postings (
  seg_id INTEGER NOT NULL,
  term_id INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (seg_id, term_id)
) WITHOUT ROWID;
CREATE TABLE lex_tombstones (
  generation INTEGER NOT NULL,
  chunk_rowid INTEGER NOT NULL,
  PRIMARY KEY (generation, chunk_rowid)
) WITHOUT ROWID;
CREATE TABLE lex_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  next_chunk_rowid INTEGER NOT NULL,
  next_seg_id INTEGER NOT NULL,
  needs_build INTEGER NOT NULL
);
INSERT INTO lex_state VALUES (1, 1, 1, 1, 0);
`;

/** The schema-2 tables, for tests that write a store as the previous release did. */
export const SCHEMA_2_DDL = DDL_V1 + DDL_V2_ADDED;

const SCHEMA: VersionedSchema = {
  format: STORE_FORMAT,
  version: SCHEMA_VERSION,
  ddl: DDL_V1 + DDL_V2_ADDED + DDL_V3_CHANGES,
  migrations: {
    1: (db) => db.exec(DDL_V2_ADDED),
    2: (db) => {
      db.exec(DDL_V3_CHANGES);
      db.exec("UPDATE lex_state SET needs_build = 1");
    },
  },
  extraMeta: () => ({ analyzer: ANALYZER_VERSION }),
};

function notAStore(dir: string, why: string): StrataError {
  return new StrataError(
    "NOT_A_STORE",
    `${dir} is not a Strata knowledge base: ${why}`,
    "pass the folder created by `strata ingest --kb <dir>` (a new or empty folder creates one)",
  );
}

function whyNotAStore(reason: ForeignFileReason): string {
  switch (reason.problem) {
    case "cannot-open":
      return `${STORE_FILE} cannot be opened as a database (${reason.detail})`;
    case "no-meta-table":
      return `${STORE_FILE} is not a Strata store (no meta table)`;
    case "wrong-format":
      return `${STORE_FILE} has format ${reason.format ?? "none"}`;
    case "unreadable":
      return `${STORE_FILE} is not a readable database (${reason.detail})`;
  }
}

function storeErrors(dir: string): VersionedStoreErrors {
  return {
    notAStore: (reason) => notAStore(dir, whyNotAStore(reason)),
    corrupt: (found) =>
      Number.isInteger(found)
        ? new StrataError("STORE_CORRUPT", `${dir}: the store's schema version ${found} is invalid`, "restore the folder from a backup or ingest into a new one")
        : new StrataError("STORE_CORRUPT", `${dir}: the store's schema version is unreadable`, "restore the folder from a backup or ingest into a new one"),
    tooNew: (found) =>
      new StrataError(
        "STORE_TOO_NEW",
        `${dir} was written by a newer Strata (schema ${found}; this one reads up to ${SCHEMA_VERSION})`,
        "upgrade Strata to open it; nothing in the store was changed",
      ),
    outdated: (found) => new StrataError("STORE_OUTDATED", `${dir} has schema ${found} and needs a migration to ${SCHEMA_VERSION}`, "open it once without read-only mode (any strata command) to migrate it"),
  };
}

/** Postings are only comparable with the analyzer that made them. */
function checkAnalyzer(meta: ReadonlyMap<string, string>, dir: string): void {
  if (meta.get("analyzer") !== ANALYZER_VERSION) {
    throw new StrataError(
      "STORE_TOO_NEW",
      `${dir} was indexed with analyzer ${meta.get("analyzer")}, this Strata uses ${ANALYZER_VERSION}`,
      "re-ingest the sources into a new knowledge base",
    );
  }
}

export interface OpenOptions {
  /** Create the store when the folder is missing or empty (ingest); otherwise it must exist (search, ask). */
  create?: boolean;
  readonly?: boolean;
  /** Progress of building the lexical index when an older store is migrated. */
  onProgress?: ProgressListener;
}

/** Opens (or creates) the SQLite database of a knowledge-base folder, checking it is ours and readable. */
/** Page cache per open store (SQLite's default is 2 MiB): hits read chunk and document rows at random. */
const CACHE_KIB = 32 * 1024;

export function openDatabase(location: string, opts: OpenOptions = {}): Database.Database {
  const db = openStoreFile(location, opts);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  return db;
}

function openStoreFile(location: string, opts: OpenOptions): Database.Database {
  const dir = resolve(location);
  const file = join(dir, STORE_FILE);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw notAStore(location, "it is a file, not a folder");
  if (!existsSync(file)) {
    if (!opts.create) {
      throw existsSync(dir)
        ? notAStore(location, `there is no ${STORE_FILE} in it`)
        : new StrataError("NOT_A_STORE", `no knowledge base at ${location}`, "create one with `strata ingest <path> --kb <dir>`");
    }
    if (existsSync(dir) && readdirSync(dir).length > 0) throw notAStore(location, `the folder is not empty and has no ${STORE_FILE}`);
    mkdirSync(dir, { recursive: true });
    return createVersionedDatabase(file, SCHEMA);
  }
  return openVersionedDatabase(file, {
    ...SCHEMA,
    errors: storeErrors(location),
    readonly: opts.readonly ?? false,
    fileMustExist: true,
    // A crash between creating the file and committing the schema leaves an empty database.
    initializeEmpty: opts.create,
    checkMeta: (meta) => checkAnalyzer(meta, location),
  });
}
