// The agent store's on-disk layout: one SQLite file, `agents.db`, in its own folder (by default
// .strata/agents), opened like every Strata store (core/sqlite-store.ts): WAL, foreign keys, a busy
// timeout, and a meta table whose format and schema version are checked on every open, so a file
// from a newer Strata, or one that is not ours, is refused instead of misread. Every write the
// runtime makes is one transaction: a kill -9 leaves each thread at its last checkpoint or the
// next, never between.
import type Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StrataError } from "../../core/errors.js";
import { openVersionedDatabase, type ForeignFileReason, type VersionedSchema, type VersionedStoreErrors } from "../../core/sqlite-store.js";

export const AGENT_STORE_FILE = "agents.db";
export const AGENT_STORE_FORMAT = "strata-agent-store";
/** 2 added threads.owner (the server's user a run belongs to); version 1 files are migrated on open. */
export const AGENT_SCHEMA_VERSION = 2;

const DDL = `
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

const SCHEMA: VersionedSchema = {
  format: AGENT_STORE_FORMAT,
  version: AGENT_SCHEMA_VERSION,
  ddl: DDL,
  migrations: {
    // v1 → v2: runs get an owner (NULL for runs made before, e.g. by the CLI).
    1: (db) => db.exec("ALTER TABLE threads ADD COLUMN owner TEXT; CREATE INDEX threads_by_owner ON threads (owner, created_at);"),
  },
};

function notAStore(dir: string, why: string): StrataError {
  return new StrataError("NOT_A_STORE", `${dir} is not a Strata agent store: ${why}`, "pass the folder given to --store when the run started (default .strata/agents), or a new folder to create one");
}

function whyNotAStore(reason: ForeignFileReason): string {
  switch (reason.problem) {
    case "cannot-open":
      return `${AGENT_STORE_FILE} cannot be opened as a database (${reason.detail})`;
    case "no-meta-table":
      return `${AGENT_STORE_FILE} has no meta table`;
    case "wrong-format":
      return `${AGENT_STORE_FILE} has format ${reason.format ?? "none"}`;
    case "unreadable":
      return `${AGENT_STORE_FILE} is not a readable database (${reason.detail})`;
  }
}

function storeErrors(dir: string): VersionedStoreErrors {
  return {
    notAStore: (reason) => notAStore(dir, whyNotAStore(reason)),
    corrupt: () => new StrataError("STORE_CORRUPT", `${dir}: the agent store's schema version is unreadable`, "restore the folder from a backup or start runs in a new --store"),
    tooNew: (found) => new StrataError("STORE_TOO_NEW", `${dir} was written by a newer Strata (agent store schema ${found}; this one reads up to ${AGENT_SCHEMA_VERSION})`, "upgrade Strata to open it; nothing in the store was changed"),
    // No `outdated`: a read-only open leaves an old file as it is; its runs read as having no owner.
  };
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
  return openVersionedDatabase(file, {
    ...SCHEMA,
    errors: storeErrors(location),
    readonly: opts.readonly ?? false,
    fileMustExist: !opts.create,
    initializeEmpty: true,
  });
}
