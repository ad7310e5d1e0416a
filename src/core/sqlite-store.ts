// Opening one of Strata's versioned SQLite files (server.db, a knowledge base's strata.db, an agent
// store's agents.db). A new file gets its schema and a meta table (format, schema version, creation
// time) in one transaction; every later open checks that the file is ours and not from a newer
// Strata before anything reads it, and brings an older one up to date in one transaction. Each store
// words its own errors: the messages name the store kind and the fix.
import Database from "better-sqlite3";
import { StrataError } from "./errors.js";

/** Why a file is not the store it should be. */
export type ForeignFileReason =
  /** SQLite refused the file (not a database, unreadable, …). */
  | { problem: "cannot-open"; detail: string }
  | { problem: "no-meta-table" }
  | { problem: "wrong-format"; format: string | undefined }
  /** Any other failure while checking or preparing the file. */
  | { problem: "unreadable"; detail: string };

export interface VersionedStoreErrors {
  notAStore(reason: ForeignFileReason): StrataError;
  /** The schema version is not an integer of at least 1 (NaN when missing or not a number). */
  corrupt(found: number): StrataError;
  tooNew(found: number): StrataError;
  /** An older file opened read-only cannot be migrated: refuse it with this error; without it, it is read as it is. */
  outdated?(found: number): StrataError;
}

/** Takes an open file one schema version up; it runs inside the migration's transaction. */
export type Migration = (db: Database.Database) => void;

export interface VersionedSchema {
  format: string;
  version: number;
  /** The whole current schema for a new file, without the meta table (made here). */
  ddl: string;
  /** migrations[v] takes a file from version v to v + 1. */
  migrations: Readonly<Record<number, Migration>>;
  /** Further meta entries of a new file, written after format and schema version. */
  extraMeta?: () => Record<string, string>;
}

export interface OpenVersionedOptions extends VersionedSchema {
  errors: VersionedStoreErrors;
  readonly?: boolean;
  fileMustExist?: boolean;
  /** Give an empty database its schema (never when read-only): a new file, or one a crash left before its schema was committed. */
  initializeEmpty?: boolean;
  /** Checks of other meta entries, after the version checks and any migration; throw to refuse the file. */
  checkMeta?: (meta: ReadonlyMap<string, string>) => void;
}

const META_DDL = "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

function tune(db: Database.Database): void {
  if (!db.readonly) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
}

function initialize(db: Database.Database, schema: VersionedSchema): void {
  db.transaction(() => {
    db.exec(META_DDL);
    db.exec(schema.ddl);
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    put.run("format", schema.format);
    put.run("schema_version", String(schema.version));
    for (const [key, value] of Object.entries(schema.extraMeta?.() ?? {})) put.run(key, value);
    put.run("created_at", new Date().toISOString());
  })();
}

/**
 * Upgrades an older file in place, one version at a time, each step in the same transaction as its
 * new version number: a crash leaves the file at the old version or the new, never between.
 */
function migrate(db: Database.Database, schema: VersionedSchema): void {
  const setVersion = db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'");
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated the file meanwhile.
    const from = Number((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value);
    for (let v = from; v < schema.version; v++) {
      const step = schema.migrations[v];
      if (!step) throw new Error(`no migration from schema ${v} to ${v + 1}`);
      step(db);
      setVersion.run(String(v + 1));
    }
  }).immediate();
}

function checkAndMigrate(db: Database.Database, opts: OpenVersionedOptions): void {
  let rows: { key: string; value: string }[];
  try {
    rows = db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[];
  } catch {
    throw opts.errors.notAStore({ problem: "no-meta-table" });
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  const format = meta.get("format");
  if (format !== opts.format) throw opts.errors.notAStore({ problem: "wrong-format", format });
  const version = Number(meta.get("schema_version"));
  if (!Number.isInteger(version) || version < 1) throw opts.errors.corrupt(version);
  if (version > opts.version) throw opts.errors.tooNew(version);
  if (version < opts.version) {
    if (!db.readonly) migrate(db, opts);
    else if (opts.errors.outdated) throw opts.errors.outdated(version);
  }
  opts.checkMeta?.(meta);
}

/** Creates a new file with the schema; errors are SQLite's own (the caller has checked the file is new). */
export function createVersionedDatabase(file: string, schema: VersionedSchema): Database.Database {
  const db = new Database(file);
  tune(db);
  initialize(db, schema);
  return db;
}

/** Opens a file (creating an empty one unless fileMustExist), checks its format and version, and migrates an older one. */
export function openVersionedDatabase(file: string, opts: OpenVersionedOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.fileMustExist ?? false });
    tune(db);
  } catch (e) {
    throw opts.errors.notAStore({ problem: "cannot-open", detail: (e as Error).message });
  }
  try {
    const empty = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
    if (empty && opts.initializeEmpty && !db.readonly) initialize(db, opts);
    checkAndMigrate(db, opts);
  } catch (e) {
    db.close();
    if (e instanceof StrataError) throw e;
    throw opts.errors.notAStore({ problem: "unreadable", detail: (e as Error).message });
  }
  return db;
}
