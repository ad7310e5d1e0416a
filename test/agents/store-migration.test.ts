// A version 1 agent store (before runs had owners), made with that version's DDL, opens with this
// Strata: it is migrated in place to the current schema, and every thread, checkpoint and audit
// entry is kept; the migrated runs have no owner.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AuditLog } from "../../src/agents/store/audit.js";
import { AGENT_SCHEMA_VERSION } from "../../src/agents/store/schema.js";
import { tempDir } from "../helpers/paths.js";

const V1_DDL = `
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
  lease_pid INTEGER,
  lease_host TEXT,
  audit_seq INTEGER NOT NULL DEFAULT 0,
  audit_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX threads_by_root ON threads (root_id);
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

function v1Store(): string {
  const dir = join(tempDir(), "agents");
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, "agents.db"));
  db.exec(V1_DDL);
  db.prepare("INSERT INTO meta (key, value) VALUES ('format', 'strata-agent-store'), ('schema_version', '1'), ('created_at', '2026-01-01T00:00:00.000Z')").run();
  const at = "2026-01-02T03:04:05.000Z";
  db.prepare(
    `INSERT INTO threads (thread_id, root_id, parent_id, graph, graph_hash, spec, status, head, runtime, created_at, updated_at)
     VALUES ('thr_00000000000000a1', 'thr_00000000000000a1', NULL, 'agent', 'h1', '{"v":1}', 'interrupted', NULL, '{}', ?, ?)`,
  ).run(at, at);
  db.prepare(
    `INSERT INTO approvals (thread_id, call_id, root_id, node, tool, args, reason, risk, status, requested_at)
     VALUES ('thr_00000000000000a1', 'call_1', 'thr_00000000000000a1', 'tools', 'calculator', '{"expression":"1+1"}', 'needs approval', 'read', 'pending', ?)`,
  ).run(at);
  db.close();
  return dir;
}

test("a version 1 store is migrated on open: threads, approvals and the audit chain are kept, runs have no owner", () => {
  const dir = v1Store();
  const store = AgentStore.open(dir);
  const version = (store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
  assert.equal(version, String(AGENT_SCHEMA_VERSION));
  const t = store.requireThread("thr_00000000000000a1");
  assert.equal(t.status, "interrupted");
  assert.equal(t.owner, null);
  assert.equal(t.createdAt, "2026-01-02T03:04:05.000Z");
  assert.equal(store.approvalsOfRun(t.rootId, "pending")[0]?.callId, "call_1");
  assert.deepEqual(store.listThreads().map((x) => x.threadId), ["thr_00000000000000a1"]);
  assert.deepEqual(store.listThreadsOf("dana"), [], "runs from before owners belong to nobody");
  // The migrated file takes new, owned runs and keeps a valid audit chain.
  const audit = new AuditLog(store);
  audit.append(t.rootId, { threadId: t.threadId, type: "run.resume", actor: "dana", data: {} });
  assert.equal(audit.verify(t.rootId).ok, true);
  store.createThread({ threadId: "thr_00000000000000b2", rootId: "thr_00000000000000b2", parentId: null, graph: "agent", graphHash: "h2", spec: { v: 1, owner: "dana" }, runtime: { usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, modelCalls: 0, toolCalls: 0, steps: 0, elapsedMs: 0 }, taint: [] } });
  assert.deepEqual(store.listThreadsOf("dana").map((x) => x.threadId), ["thr_00000000000000b2"]);
  store.close();
  // Opening again changes nothing.
  const again = AgentStore.open(dir);
  assert.equal(again.listThreads().length, 2);
  again.close();
});

test("a version 1 store opened read-only is read as it is, without migrating", () => {
  const dir = v1Store();
  const store = AgentStore.open(dir, { readonly: true });
  assert.equal(store.requireThread("thr_00000000000000a1").owner, null);
  const version = (store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
  assert.equal(version, "1");
  store.close();
});

test("runs left running by a dead process read as failed and resumable after abandonStaleRuns", () => {
  const store = AgentStore.open(join(tempDir(), "agents"), { create: true });
  store.createThread({ threadId: "thr_00000000000000c3", rootId: "thr_00000000000000c3", parentId: null, graph: "agent", graphHash: "h", spec: null, runtime: { usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, modelCalls: 0, toolCalls: 0, steps: 0, elapsedMs: 0 }, taint: [] } });
  store.db.prepare("UPDATE threads SET lease_pid = 2147483646, lease_host = ? WHERE thread_id = 'thr_00000000000000c3'").run(hostname());
  assert.deepEqual(store.abandonStaleRuns((id) => ({ code: "ABORTED", message: `stopped ${id}`, hint: "resume it" })), ["thr_00000000000000c3"]);
  const t = store.requireThread("thr_00000000000000c3");
  assert.equal(t.status, "failed");
  assert.equal(t.error?.message, "stopped thr_00000000000000c3");
  assert.equal(t.leasePid, null);
  store.close();
});
