// The agent store's file: versioned like the knowledge store (a newer schema or a foreign file is
// refused, nothing is changed), WAL, and one process per running thread.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { graph, START } from "../../src/agents/graph/graph.js";
import { resumeGraph, runGraph } from "../../src/agents/graph/runtime.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AGENT_SCHEMA_VERSION } from "../../src/agents/store/schema.js";
import { StrataError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/paths.js";

const code = (f: () => unknown): string => {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as StrataError).code;
  }
};

test("a new store is created on demand, in WAL mode, with its format and schema version", () => {
  const dir = join(tempDir(), "agents");
  assert.equal(code(() => AgentStore.open(dir)), "NOT_A_STORE", "reading commands do not create a store");
  const store = AgentStore.open(dir, { create: true });
  assert.equal(store.db.pragma("journal_mode", { simple: true }), "wal");
  const meta = Object.fromEntries((store.db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  assert.equal(meta.format, "strata-agent-store");
  assert.equal(meta.schema_version, String(AGENT_SCHEMA_VERSION));
  store.close();
  assert.equal(code(() => AgentStore.open(dir).close()), "ok");
});

test("a store from a newer Strata, a foreign database or a file in its place is refused", () => {
  const newer = join(tempDir(), "agents");
  AgentStore.open(newer, { create: true }).close();
  const db = new Database(join(newer, "agents.db"));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(AGENT_SCHEMA_VERSION + 1));
  db.close();
  assert.equal(code(() => AgentStore.open(newer)), "STORE_TOO_NEW");

  const foreign = tempDir();
  const f = new Database(join(foreign, "agents.db"));
  f.exec("CREATE TABLE t (x)");
  f.close();
  assert.equal(code(() => AgentStore.open(foreign)), "NOT_A_STORE");
  const knowledge = tempDir();
  const k = new Database(join(knowledge, "agents.db"));
  k.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('format', 'strata-knowledge-base')");
  k.close();
  assert.equal(code(() => AgentStore.open(knowledge)), "NOT_A_STORE");

  const fileDir = tempDir();
  writeFileSync(join(fileDir, "store"), "x");
  assert.equal(code(() => AgentStore.open(join(fileDir, "store"), { create: true })), "NOT_A_STORE");
  mkdirSync(join(fileDir, "empty"));
  assert.equal(code(() => AgentStore.open(join(fileDir, "empty"))), "NOT_A_STORE");
});

test("a thread held by another live process is THREAD_BUSY; one left by a dead process is taken over", async () => {
  const store = AgentStore.open(tempDir(), { create: true });
  const stopped = graph<{ n: number }>({ name: "g" }).node("a", (s) => ({ n: s.n + 1 }), { maxVisits: 1 }).edge(START, "a").edge("a", "a").compile();
  const r = await runGraph(stopped, { n: 0 }, { store });
  assert.equal(r.status, "budget_exceeded");
  store.db.prepare("UPDATE threads SET lease_pid = ?, lease_host = ? WHERE thread_id = ?").run(process.ppid, hostname(), r.threadId);
  await assert.rejects(resumeGraph(stopped, r.threadId, { store }), (e: StrataError) => e.code === "THREAD_BUSY");
  store.db.prepare("UPDATE threads SET lease_pid = ? WHERE thread_id = ?").run(2 ** 22 + 12345, r.threadId);
  const again = await resumeGraph(stopped, r.threadId, { store });
  assert.equal(again.status, "budget_exceeded", "taken over (and stopped at the same limit)");
  assert.equal(store.getThread(r.threadId)!.leasePid, null);
});
