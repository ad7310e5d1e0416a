// The embedded store's on-disk layout: one SQLite file in the knowledge-base folder. Opening checks
// that the file is ours and not from a newer Strata, so an old binary never misreads a new store.
import Database from "better-sqlite3";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StrataError } from "../../core/errors.js";
import { ANALYZER_VERSION } from "../analyzer.js";

export const STORE_FILE = "strata.db";
export const STORE_FORMAT = "strata-knowledge-base";
export const SCHEMA_VERSION = 2;

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
// answers. Each entry of MIGRATIONS takes a store from version i+1 to i+2.
const V2 = `
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

const MIGRATIONS: readonly string[] = [V2];

function tune(db: Database.Database): void {
  if (!db.readonly) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
}

function initialize(db: Database.Database): void {
  db.transaction(() => {
    db.exec(DDL);
    for (const m of MIGRATIONS) db.exec(m);
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    put.run("format", STORE_FORMAT);
    put.run("schema_version", String(SCHEMA_VERSION));
    put.run("analyzer", ANALYZER_VERSION);
    put.run("created_at", new Date().toISOString());
  })();
}

function notAStore(dir: string, why: string): StrataError {
  return new StrataError(
    "NOT_A_STORE",
    `${dir} is not a Strata knowledge base: ${why}`,
    "pass the folder created by `strata ingest --kb <dir>` (a new or empty folder creates one)",
  );
}

/** Brings an older store up to this schema in one transaction; a crash leaves it at its old version. */
function migrate(db: Database.Database, from: number): void {
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v - 1]!);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION));
  })();
}

function checkMeta(db: Database.Database, dir: string): void {
  let rows: { key: string; value: string }[];
  try {
    rows = db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[];
  } catch {
    throw notAStore(dir, `${STORE_FILE} is not a Strata store (no meta table)`);
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get("format") !== STORE_FORMAT) throw notAStore(dir, `${STORE_FILE} has format ${meta.get("format") ?? "none"}`);
  const version = Number(meta.get("schema_version"));
  if (!Number.isInteger(version)) throw new StrataError("STORE_CORRUPT", `${dir}: the store's schema version is unreadable`, "restore the folder from a backup or ingest into a new one");
  if (version > SCHEMA_VERSION) {
    throw new StrataError(
      "STORE_TOO_NEW",
      `${dir} was written by a newer Strata (schema ${version}; this one reads up to ${SCHEMA_VERSION})`,
      "upgrade Strata to open it; nothing in the store was changed",
    );
  }
  if (version < 1) throw new StrataError("STORE_CORRUPT", `${dir}: the store's schema version ${version} is invalid`, "restore the folder from a backup or ingest into a new one");
  if (version < SCHEMA_VERSION) {
    if (db.readonly) throw new StrataError("STORE_OUTDATED", `${dir} has schema ${version} and needs a migration to ${SCHEMA_VERSION}`, "open it once without read-only mode (any strata command) to migrate it");
    migrate(db, version);
  }
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
}

/** Opens (or creates) the SQLite database of a knowledge-base folder, checking it is ours and readable. */
export function openDatabase(location: string, opts: OpenOptions = {}): Database.Database {
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
    const db = new Database(file);
    tune(db);
    initialize(db);
    return db;
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: true });
    tune(db);
  } catch (e) {
    throw notAStore(location, `${STORE_FILE} cannot be opened as a database (${(e as Error).message})`);
  }
  try {
    // A crash between creating the file and committing the schema leaves an empty database.
    const empty = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
    if (empty && opts.create && !db.readonly) initialize(db);
    checkMeta(db, location);
  } catch (e) {
    db.close();
    if (e instanceof StrataError) throw e;
    throw notAStore(location, `${STORE_FILE} is not a readable database (${(e as Error).message})`);
  }
  return db;
}
