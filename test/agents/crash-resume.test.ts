// kill -9 in the middle of a multi-step agent run, then `resume` in a new process: the final state
// equals an uninterrupted run's, and no side effect happened twice. Two kills: one at the worst
// moment (right after a tool's side effect, before the runtime recorded its result — the child
// kills itself there), one from outside at whatever moment the run has reached.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { runAgent } from "../../src/agents/loop/agent.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AuditLog } from "../../src/agents/store/audit.js";
import { tempDir } from "../helpers/paths.js";
import { crashAgent, STEPS } from "./fixtures/crash-child.js";

const fromSource = import.meta.url.endsWith(".ts");
const CHILD = fileURLToPath(new URL(`./fixtures/crash-child.${fromSource ? "ts" : "js"}`, import.meta.url));

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function child(args: string[], onSpawn?: (kill: () => void) => void): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...(fromSource ? ["--import", "tsx"] : []), CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    onSpawn?.(() => p.kill("SIGKILL"));
  });
}

function effects(db: string): { rows: Array<{ i: number }>; attempts: Array<{ i: number; n: number }> } {
  if (!existsSync(db)) return { rows: [], attempts: [] };
  const d = new Database(db, { readonly: true });
  try {
    const has = (d.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'effects'").get() as { n: number }).n > 0;
    if (!has) return { rows: [], attempts: [] };
    return {
      rows: d.prepare("SELECT i FROM effects ORDER BY i").all() as Array<{ i: number }>,
      attempts: d.prepare("SELECT i, count(*) AS n FROM attempts GROUP BY i ORDER BY i").all() as Array<{ i: number; n: number }>,
    };
  } finally {
    d.close();
  }
}

async function reference(): Promise<unknown> {
  const dir = tempDir("strata-crash-ref-");
  const store = AgentStore.open(join(dir, "store"), { create: true });
  const r = await runAgent({ ...crashAgent(join(dir, "effects.db")), store, goal: "record the steps" });
  store.close();
  assert.equal(r.status, "completed");
  return r.state;
}

function checkAfterResume(dir: string, threadId: string, resumed: ChildRun, expected: unknown): void {
  assert.equal(resumed.code, 0, resumed.stderr);
  const out = JSON.parse(resumed.stdout) as { status: string; result: string; state: unknown };
  assert.equal(out.status, "completed");
  assert.equal(out.result, `recorded ${STEPS} steps`);
  assert.deepEqual(out.state, expected, "the final state equals an uninterrupted run's");
  const e = effects(join(dir, "effects.db"));
  assert.deepEqual(e.rows.map((r) => r.i), Array.from({ length: STEPS }, (_, i) => i + 1), "every side effect happened exactly once");
  const store = AgentStore.open(join(dir, "store"));
  try {
    assert.equal(new AuditLog(store).verify(threadId).ok, true, "the audit log still verifies");
    assert.equal(store.getThread(threadId)!.leasePid, null);
  } finally {
    store.close();
  }
}

test("SIGKILL right after a side effect, before its result is recorded: resume does not repeat it", async () => {
  const expected = await reference();
  const dir = tempDir("strata-crash-");
  const args = [join(dir, "store"), join(dir, "effects.db")];
  const killed = await child([...args, "run", "thr_crash_a", "3"]);
  assert.equal(killed.signal, "SIGKILL");
  const store = AgentStore.open(join(dir, "store"));
  const t = store.getThread("thr_crash_a")!;
  assert.equal(t.status, "running", "the store shows the run as it was when the process died");
  assert.ok(t.leasePid !== null);
  const started = store.journalEntries("thr_crash_a").filter((j) => j.status === "started");
  assert.deepEqual(started.map((j) => j.key), ["tool:rec_3"], "call 3 ran its side effect but its result was never recorded");
  store.close();
  assert.deepEqual(effects(join(dir, "effects.db")).rows.map((r) => r.i), [1, 2, 3]);

  const resumed = await child([...args, "resume", "thr_crash_a"]);
  checkAfterResume(dir, "thr_crash_a", resumed, expected);
  // Call 3 was attempted again with the same idempotency key (the tool is idempotent), which made it a no-op;
  // calls 1 and 2 were replayed from the journal and never ran again.
  assert.deepEqual(effects(join(dir, "effects.db")).attempts, [{ i: 1, n: 1 }, { i: 2, n: 1 }, { i: 3, n: 2 }, { i: 4, n: 1 }, { i: 5, n: 1 }, { i: 6, n: 1 }]);
});

test("SIGKILL from outside at whatever point the run has reached: resume completes it identically", async () => {
  const expected = await reference();
  const dir = tempDir("strata-crash-");
  const args = [join(dir, "store"), join(dir, "effects.db")];
  let kill: () => void = () => undefined;
  const running = child([...args, "run", "thr_crash_b", "", "120"], (k) => (kill = k));
  const t0 = Date.now();
  while (effects(join(dir, "effects.db")).rows.length < 2 && Date.now() - t0 < 60_000) await sleep(20);
  kill();
  const killed = await running;
  assert.equal(killed.signal, "SIGKILL");
  const before = effects(join(dir, "effects.db")).rows.length;
  assert.ok(before >= 2 && before < STEPS, `killed midway (${before} of ${STEPS} side effects)`);
  const resumed = await child([...args, "resume", "thr_crash_b"]);
  checkAfterResume(dir, "thr_crash_b", resumed, expected);
  for (const a of effects(join(dir, "effects.db")).attempts) assert.ok(a.n <= 2, `call ${a.i} was attempted at most twice (once more only if it was in flight)`);
});
