// The audit trail: append-only in the store, hash-chained, and `verify` finds every kind of
// tampering — an edited entry, a deleted one (in the middle or at the end), entries reordered, a log
// rewritten without the HMAC key.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { join } from "node:path";
import { runAgent } from "../../src/agents/loop/agent.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AuditLog } from "../../src/agents/store/audit.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { tempDir } from "../helpers/paths.js";
import { scriptedModel } from "./helpers/scripted-model.js";

/** A finished run with a few entries, in its own store; returns the store folder and thread. */
async function recordedRun(auditKey?: string): Promise<{ dir: string; threadId: string; entries: number }> {
  const dir = tempDir("strata-audit-");
  const store = AgentStore.open(dir, { create: true });
  const model = scriptedModel([{ calls: [{ name: "calculator", args: { expression: "1+1" } }] }, { calls: [{ name: "calculator", args: { expression: "2+2" } }] }, { text: "2 and 4" }]);
  const r = await runAgent({ goal: "sums", model, tools: [calculatorTool()], store, auditKey });
  const entries = new AuditLog(store, auditKey).entries(r.threadId).length;
  store.close();
  return { dir, threadId: r.threadId, entries };
}

/** Opens the database file directly, as someone with write access to it would, without the guard triggers. */
function tamper(dir: string, sql: string, ...params: unknown[]): void {
  const db = new Database(join(dir, "agents.db"));
  db.exec("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;");
  db.prepare(sql).run(...params);
  db.close();
}

function verify(dir: string, threadId: string, key?: string) {
  const store = AgentStore.open(dir);
  try {
    return new AuditLog(store, key).verify(threadId);
  } finally {
    store.close();
  }
}

test("an untouched log verifies; the store itself refuses to update or delete entries", async () => {
  const { dir, threadId, entries } = await recordedRun();
  const v = verify(dir, threadId);
  assert.deepEqual({ ok: v.ok, entries: v.entries, problems: v.problems }, { ok: true, entries, problems: [] });
  assert.match(v.head, /^[0-9a-f]{64}$/);
  const db = new Database(join(dir, "agents.db"));
  assert.throws(() => db.prepare("UPDATE audit SET data = '{}' WHERE seq = 2").run(), /append-only/);
  assert.throws(() => db.prepare("DELETE FROM audit WHERE seq = 2").run(), /append-only/);
  db.close();
});

test("an edited entry is found: its content no longer matches its hash", async () => {
  const { dir, threadId } = await recordedRun();
  tamper(dir, "UPDATE audit SET data = replace(data, '1+1', '1+2') WHERE root_id = ? AND type = 'tool.call' AND seq = (SELECT min(seq) FROM audit WHERE type = 'tool.call')", threadId);
  const v = verify(dir, threadId);
  assert.equal(v.ok, false);
  assert.equal(v.problems.length, 1);
  assert.match(v.problems[0]!.problem, /was edited/);
  // Changing the actor or the time is an edit too.
  const other = await recordedRun();
  tamper(other.dir, "UPDATE audit SET actor = 'mallory' WHERE root_id = ? AND seq = 1", other.threadId);
  assert.match(verify(other.dir, other.threadId).problems[0]!.problem, /was edited/);
});

test("a deleted entry is found, in the middle and at the end", async () => {
  const mid = await recordedRun();
  tamper(mid.dir, "DELETE FROM audit WHERE root_id = ? AND seq = 3", mid.threadId);
  const v = verify(mid.dir, mid.threadId);
  assert.equal(v.ok, false);
  assert.ok(v.problems.some((p) => p.seq === 4 && /entries 3–3 are missing/.test(p.problem)));
  assert.ok(v.problems.some((p) => p.seq === 4 && /does not link/.test(p.problem)));

  const end = await recordedRun();
  tamper(end.dir, "DELETE FROM audit WHERE root_id = ? AND seq = ?", end.threadId, end.entries);
  const w = verify(end.dir, end.threadId);
  assert.equal(w.ok, false);
  assert.match(w.problems.at(-1)!.problem, /entries at the end were deleted/);
});

test("reordered entries are found (swapped sequence numbers), and so is a renumbered log", async () => {
  const { dir, threadId } = await recordedRun();
  tamper(dir, "UPDATE audit SET seq = -2 WHERE root_id = ? AND seq = 2", threadId);
  tamper(dir, "UPDATE audit SET seq = 2 WHERE root_id = ? AND seq = 3", threadId);
  tamper(dir, "UPDATE audit SET seq = 3 WHERE root_id = ? AND seq = -2", threadId);
  const v = verify(dir, threadId);
  assert.equal(v.ok, false);
  assert.ok(v.problems.some((p) => p.seq === 2));
  assert.ok(v.problems.some((p) => p.seq === 3));

  const other = await recordedRun();
  // Delete entry 2 and shift the rest down so the numbers have no gap.
  tamper(other.dir, "DELETE FROM audit WHERE root_id = ? AND seq = 2", other.threadId);
  for (let seq = 3; seq <= other.entries; seq++) tamper(other.dir, "UPDATE audit SET seq = seq - 1 WHERE root_id = ? AND seq = ?", other.threadId, seq);
  const w = verify(other.dir, other.threadId);
  assert.equal(w.ok, false);
  assert.ok(w.problems.some((p) => /does not link|was edited/.test(p.problem)));
});

test("with an HMAC key, a log re-chained without the key (or checked with another) does not verify", async () => {
  const { dir, threadId } = await recordedRun("s3cret");
  assert.equal(verify(dir, threadId, "s3cret").ok, true);
  assert.equal(verify(dir, threadId, "other").ok, false);
  assert.equal(verify(dir, threadId).ok, false, "a keyed log is not a plain SHA-256 chain");
});
