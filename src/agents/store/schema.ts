// The agent store's on-disk layout: one SQLite file, `agents.db`, in its own folder (by default
// .strata/agents), opened the way the knowledge store is: WAL, foreign keys, a busy timeout, and a
// meta table whose format and schema version are checked on every open, so a file from a newer
// Strata, or one that is not ours, is refused instead of misread. Every write the runtime makes is
// one transaction: a kill -9 leaves each thread at its last checkpoint or the next, never between.
import Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StrataError } from "../../core/errors.js";

export const AGENT_STORE_FILE = "agents.db";
export const AGENT_STORE_FORMAT = "strata-agent-store";
/** 2 added threads.owner (the server's user a run belongs to); version 1 files are migrated on open. */
export const AGENT_SCHEMA_VERSION = 2;

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE threads (
  thread_id TEXT PRIMARY KEY,
  root_id TEXT NOT NULL,
  parent_id TEXT,
  graph TEXT NOT NULL,
  graph_hash TEXT NOT NULL,
  spec TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed', 'budget_exceeded')),
  head TEXT,
  runtime TEXT NOT NULL,
  error TEXT,
  stop TEXT,
  result TEXT,
  forked_from TEXT,
  owner TEXT,
  lease_pid INTEGER,
  lease_host TEXT,
  audit_seq INTEGER NOT NULL DEFAULT 0,
  audit_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX threads_by_root ON threads (root_id);
CREATE INDEX threads_by_owner ON threads (owner, created_at);
CREATE TABLE checkpoints (
  checkpoint_id TEXT PRIMARY KEY,
  thread_id TEXT NOT NULL REFERENCES threads(thread_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  parent_id TEXT,
  step INTEGER NOT NULL,
  ran TEXT NOT NULL,
  next TEXT NOT NULL,
  state TEXT NOT NULL,
  meta TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (thread_id, seq)
);
CREATE TABLE pending_writes (
  checkpoint_id TEXT NOT NULL REFERENCES checkpoints(checkpoint_id) ON DELETE CASCADE,
  node TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (checkpoint_id, node)
) WITHOUT ROWID;
CREATE TABLE journal (
  thread_id TEXT NOT NULL REFERENCES threads(thread_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('tool', 'model')),
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('started', 'done')),
  result TEXT,
  attempts INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  PRIMARY KEY (thread_id, key)
) WITHOUT ROWID;
CREATE TABLE approvals (
  thread_id TEXT NOT NULL REFERENCES threads(thread_id) ON DELETE CASCADE,
  call_id TEXT NOT NULL,
  root_id TEXT NOT NULL,
  node TEXT NOT NULL,
  tool TEXT,
  args TEXT NOT NULL,
  reason TEXT NOT NULL,
  risk TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by TEXT,
  decided_at TEXT,
  edited_args TEXT,
  comment TEXT,
  requested_at TEXT NOT NULL,
  PRIMARY KEY (thread_id, call_id)
) WITHOUT ROWID;
CREATE INDEX approvals_by_root ON approvals (root_id, status);
CREATE TABLE audit (
  root_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (root_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

function tune(db: Database.Database): void {
  if (!db.readonly) db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
}

function notAStore(dir: string, why: string): StrataError {
  return new StrataError("NOT_A_STORE", `${dir} is not a Strata agent store: ${why}`, "pass the folder given to --store when the run started (default .strata/agents), or a new folder to create one");
}

function initialize(db: Database.Database): void {
  db.transaction(() => {
    db.exec(DDL);
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    put.run("format", AGENT_STORE_FORMAT);
    put.run("schema_version", String(AGENT_SCHEMA_VERSION));
    put.run("created_at", new Date().toISOString());
  })();
}

/**
 * Upgrades an older file in place, one version at a time, each in the same transaction as its new
 * version number: a crash leaves the file at the old version or the new, never between.
 */
const MIGRATIONS: Record<number, string> = {
  // v1 → v2: runs get an owner (NULL for runs made before, e.g. by the CLI).
  1: "ALTER TABLE threads ADD COLUMN owner TEXT; CREATE INDEX threads_by_owner ON threads (owner, created_at);",
};

function migrate(db: Database.Database): void {
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated the file meanwhile.
    const from = Number((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value);
    for (let v = from; v < AGENT_SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]!);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(v + 1));
    }
  }).immediate();
}

/** The file's schema version, after checking it is an agent store this Strata can read. */
function checkMeta(db: Database.Database, dir: string): number {
  let rows: { key: string; value: string }[];
  try {
    rows = db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[];
  } catch {
    throw notAStore(dir, `${AGENT_STORE_FILE} has no meta table`);
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get("format") !== AGENT_STORE_FORMAT) throw notAStore(dir, `${AGENT_STORE_FILE} has format ${meta.get("format") ?? "none"}`);
  const version = Number(meta.get("schema_version"));
  if (!Number.isInteger(version) || version < 1) throw new StrataError("STORE_CORRUPT", `${dir}: the agent store's schema version is unreadable`, "restore the folder from a backup or start runs in a new --store");
  if (version > AGENT_SCHEMA_VERSION) {
    throw new StrataError("STORE_TOO_NEW", `${dir} was written by a newer Strata (agent store schema ${version}; this one reads up to ${AGENT_SCHEMA_VERSION})`, "upgrade Strata to open it; nothing in the store was changed");
  }
  return version;
}

export interface AgentStoreOpenOptions {
  /** Create the folder and the database when absent (runs); otherwise it must exist (show, approve, verify). */
  create?: boolean;
  readonly?: boolean;
}

/** Opens (or creates) `<dir>/agents.db`, checking that it is an agent store this Strata can read. */
export function openAgentDatabase(location: string, opts: AgentStoreOpenOptions = {}): Database.Database {
  const dir = resolve(location);
  const file = join(dir, AGENT_STORE_FILE);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw notAStore(location, "it is a file, not a folder");
  if (!existsSync(file)) {
    if (!opts.create) throw new StrataError("NOT_A_STORE", `no agent store at ${location} (no ${AGENT_STORE_FILE})`, "pass the --store folder the run was started with (default .strata/agents)");
    mkdirSync(dir, { recursive: true });
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: !opts.create });
    tune(db);
  } catch (e) {
    throw notAStore(location, `${AGENT_STORE_FILE} cannot be opened as a database (${(e as Error).message})`);
  }
  try {
    const empty = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
    if (empty && !db.readonly) initialize(db);
    const version = checkMeta(db, location);
    // A read-only open leaves an old file as it is; its runs read as having no owner.
    if (version < AGENT_SCHEMA_VERSION && !db.readonly) migrate(db);
  } catch (e) {
    db.close();
    if (e instanceof StrataError) throw e;
    throw notAStore(location, `${AGENT_STORE_FILE} is not a readable database (${(e as Error).message})`);
  }
  return db;
}
