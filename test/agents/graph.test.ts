// Workflow graphs in code: edges, conditional edges, loops with a limit, parallel branches with a
// join and reducers, subgraphs, typed state, approval gates; a checkpoint after every node, listing
// checkpoints, resuming and forking.
import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { decide, forkRun, resumeGraph, runGraph, runState } from "../../src/agents/graph/runtime.js";
import { END, graph, START } from "../../src/agents/graph/graph.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AuditLog } from "../../src/agents/store/audit.js";
import { StrataError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/paths.js";

const newStore = (): AgentStore => AgentStore.open(tempDir("strata-graph-"), { create: true });

test("a linear graph runs in order with a checkpoint after every node; typed state fills defaults", async () => {
  const store = newStore();
  const g = graph({ name: "linear", state: z.object({ n: z.number(), log: z.array(z.string()).default([]) }), reducers: { log: "append" }, output: (s) => s.n })
    .node("double", (s) => ({ n: s.n * 2, log: ["double"] }))
    .node("inc", (s) => ({ n: s.n + 1, log: ["inc"] }))
    .edge(START, "double")
    .edge("double", "inc")
    .edge("inc", END)
    .compile();
  const r = await runGraph(g, { n: 5 }, { store });
  assert.equal(r.status, "completed");
  assert.equal(r.result, 11);
  assert.deepEqual(r.state, { n: 11, log: ["double", "inc"] });
  const cps = store.listCheckpoints(r.threadId);
  assert.deepEqual(cps.map((c) => [c.step, c.ran, c.next]), [[0, [], ["double"]], [1, ["double"], ["inc"]], [2, ["inc"], []]]);
  assert.deepEqual(cps[1]!.state, { n: 10, log: ["double"] });
  assert.equal(r.checkpointId, cps[2]!.checkpointId);
  assert.equal(new AuditLog(store).verify(r.threadId).ok, true);
  const again = await resumeGraph(g, r.threadId, { store });
  assert.equal(again.status, "completed", "resuming a completed run returns it as it is");
  assert.equal(store.listCheckpoints(r.threadId).length, 3);
});

test("conditional edges loop until done; maxVisits with onLimit leaves the loop, without it the run stops cleanly", async () => {
  const store = newStore();
  const build = (limit: number, onLimit?: string) =>
    graph<{ i: number; exited?: boolean }>({ name: "loop" })
      .node("step", (s) => ({ i: s.i + 1 }), { maxVisits: limit, onLimit })
      .node("exit", () => ({ exited: true }))
      .edge(START, "step")
      .conditional("step", (s) => (s.i < 5 ? "step" : END), { targets: ["step", END] })
      .edge("exit", END)
      .compile();
  const done = await runGraph(build(10), { i: 0 }, { store });
  assert.deepEqual([done.status, done.state.i], ["completed", 5]);
  const redirected = await runGraph(build(3, "exit"), { i: 0 }, { store });
  assert.deepEqual([redirected.status, redirected.state], ["completed", { i: 3, exited: true }]);
  const stopped = await runGraph(build(2), { i: 0 }, { store });
  assert.equal(stopped.status, "budget_exceeded");
  assert.deepEqual(stopped.stop, { reason: "visits", limit: 2, used: 2, node: "step" });
  assert.equal(stopped.state.i, 2, "the state after the last node that ran is kept");
  // The graph's own step limit.
  const spin = graph<{ i: number }>({ name: "spin", maxSteps: 4 }).node("a", (s) => ({ i: s.i + 1 })).edge(START, "a").edge("a", "a").compile();
  const r = await runGraph(spin, { i: 0 }, { store });
  assert.deepEqual([r.status, r.stop?.reason, r.state.i], ["budget_exceeded", "steps", 4]);
});

test("parallel branches run in one superstep, a join waits for both, reducers merge and conflicts are errors", async () => {
  const store = newStore();
  const order: string[] = [];
  const g = graph<{ items: string[]; a?: number; b?: number; sum?: number }>({ name: "fan", reducers: { items: "append" } })
    .node("start", () => ({ items: ["start"] }))
    .node("a1", async () => {
      order.push("a1");
      return { items: ["a1"], a: 1 };
    })
    .node("a2", () => (order.push("a2"), { items: ["a2"], a: 2 }))
    .node("b", () => (order.push("b"), { items: ["b"], b: 10 }))
    .node("join", (s) => (order.push("join"), { sum: (s.a ?? 0) + (s.b ?? 0) }))
    .edge(START, "start")
    .edge("start", ["a1", "b"])
    .edge("a1", "a2")
    .edge(["a2", "b"], "join")
    .edge("join", END)
    .compile();
  const r = await runGraph(g, { items: [] }, { store });
  assert.equal(r.status, "completed");
  assert.equal(r.state.sum, 12);
  assert.deepEqual(order.filter((x) => x === "join"), ["join"], "the join ran once, after both branches");
  assert.deepEqual(r.state.items, ["start", "a1", "b", "a2"]);
  const cps = store.listCheckpoints(r.threadId);
  assert.deepEqual(cps[2]!.ran, ["a1", "b"]);
  assert.deepEqual(cps[2]!.meta.joins, { "a2+b>join": ["b"] });

  const clash = graph<{ x?: number }>({ name: "clash" }).node("p", () => ({ x: 1 })).node("q", () => ({ x: 2 })).edge(START, ["p", "q"]).compile();
  const bad = await runGraph(clash, {}, { store });
  assert.equal(bad.status, "failed");
  assert.equal(bad.error?.code, "GRAPH_INVALID");
  assert.match(bad.error!.message, /both set "x"/);
});

test("a failed node keeps the updates of the nodes that finished beside it; resume runs only the failed one", async () => {
  const store = newStore();
  const runs = { ok: 0, flaky: 0 };
  let fail = true;
  const g = graph<{ ok?: number; flaky?: number }>({ name: "partial" })
    .node("ok", () => ({ ok: ++runs.ok }))
    .node("flaky", () => {
      runs.flaky++;
      if (fail) throw new StrataError("TOOL_FAILED", "not yet", "");
      return { flaky: 1 };
    })
    .edge(START, ["ok", "flaky"])
    .compile();
  const r1 = await runGraph(g, {}, { store });
  assert.equal(r1.status, "failed");
  assert.equal(r1.error?.code, "TOOL_FAILED");
  fail = false;
  const r2 = await resumeGraph(g, r1.threadId, { store });
  assert.equal(r2.status, "completed");
  assert.deepEqual(r2.state, { ok: 1, flaky: 1 });
  assert.deepEqual(runs, { ok: 1, flaky: 2 });
});

test("subgraphs run as child threads; an approval gate inside one interrupts the parent and resumes through it", async () => {
  const store = newStore();
  const child = graph<{ text: string; approved?: boolean; by?: string }>({ name: "review" })
    .node("gate", async (s, ctx) => {
      const d = await ctx.approval({ reason: `publish "${s.text}"?`, payload: { text: s.text } });
      return { approved: d.approved, by: d.by, text: (d.payload as { text: string }).text };
    })
    .edge(START, "gate")
    .compile();
  let childRuns = 0;
  const parent = graph<{ draft: string; published?: string | null }>({ name: "publish" })
    .node("review", async (s, ctx) => {
      childRuns++;
      const out = await ctx.runGraph(child, { text: s.draft });
      return { published: out.approved ? out.text : null };
    })
    .edge(START, "review")
    .compile();
  const r1 = await runGraph(parent, { draft: "v1" }, { store });
  assert.equal(r1.status, "interrupted");
  assert.equal(r1.pending.length, 1);
  const p = r1.pending[0]!;
  assert.equal(p.tool, null);
  assert.equal(p.threadId, `${r1.threadId}/review.1`);
  assert.match(p.reason, /publish "v1"/);
  assert.throws(() => decide(store, r1.threadId, "nope", { approve: true, by: "x" }), (e: StrataError) => e.code === "NOT_PENDING");
  decide(store, r1.threadId, p.callId, { approve: true, by: "lee", args: { text: "v1 (edited)" } });
  assert.throws(() => decide(store, r1.threadId, p.callId, { approve: true, by: "x" }), (e: StrataError) => e.code === "NOT_PENDING" && /approved by lee/.test(e.message));
  const r2 = await resumeGraph(parent, r1.threadId, { store });
  assert.equal(r2.status, "completed");
  assert.equal(r2.state.published, "v1 (edited)");
  assert.equal(childRuns, 2);
  assert.deepEqual(store.threadsOfRun(r1.threadId).map((t) => [t.threadId, t.status]), [[r1.threadId, "completed"], [`${r1.threadId}/review.1`, "completed"]]);
  const types = new AuditLog(store).entries(r1.threadId).map((e) => e.type);
  assert.deepEqual(types, ["run.start", "approval.requested", "run.end", "approval.decided", "run.resume", "run.end"]);
});

test("fork: a new run from any checkpoint, optionally with state replaced, leaves the original untouched", async () => {
  const store = newStore();
  const g = graph<{ n: number }>({ name: "count" })
    .node("a", (s) => ({ n: s.n + 1 }))
    .node("b", (s) => ({ n: s.n * 10 }))
    .edge(START, "a")
    .edge("a", "b")
    .compile();
  const r = await runGraph(g, { n: 1 }, { store });
  assert.equal(r.state.n, 20);
  const afterA = store.listCheckpoints(r.threadId)[1]!;
  const forkId = forkRun(store, afterA.checkpointId, { update: { n: 5 } });
  assert.equal(runState(store, forkId).status, "interrupted");
  const f = await resumeGraph(g, forkId, { store });
  assert.deepEqual([f.status, f.state.n], ["completed", 50]);
  assert.equal(store.getThread(forkId)!.forkedFrom, afterA.checkpointId);
  assert.equal(runState(store, r.threadId).state.n, 20);
  assert.equal(new AuditLog(store).entries(forkId)[0]!.type, "run.fork");
});

test("bad graphs and bad state are GRAPH_INVALID with the reason; a changed graph is not resumed", async () => {
  const store = newStore();
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return `${(e as StrataError).code}: ${(e as Error).message}`;
    }
    return "no error";
  };
  assert.match(code(() => graph({ name: "g" }).node("a", () => ({})).compile()), /GRAPH_INVALID: .*no edge leaves START/);
  assert.match(code(() => graph({ name: "g" }).node("a", () => ({})).edge(START, "b").compile()), /GRAPH_INVALID: .*"b", which does not exist/);
  assert.match(code(() => graph({ name: "g" }).node("a", () => ({})).node("a", () => ({}))), /two nodes/);
  assert.match(code(() => graph({ name: "g", reducers: { x: "nope" as "append" } }).node("a", () => ({})).edge(START, "a").compile()), /unknown reducer/);
  const typed = graph({ name: "typed", state: z.object({ n: z.number() }) }).node("a", () => ({ n: "x" as unknown as number })).edge(START, "a").compile();
  const r = await runGraph(typed, { n: 1 }, { store });
  assert.equal(r.error?.code, "GRAPH_INVALID");
  assert.match(r.error!.message, /after a is invalid: n:/);
  const wrongRoute = graph<{ n?: number }>({ name: "route" }).node("a", () => ({})).edge(START, "a").conditional("a", () => "nowhere").compile();
  assert.match((await runGraph(wrongRoute, {}, { store })).error!.message, /chose "nowhere"/);
  const v2 = graph({ name: "typed", state: z.object({ n: z.number() }) }).node("a", () => ({ n: 2 })).node("b", () => ({})).edge(START, "a").compile();
  await assert.rejects(resumeGraph(v2, r.threadId, { store }), (e: StrataError) => e.code === "GRAPH_INVALID" && /another version/.test(e.message));
  await assert.rejects(resumeGraph(v2, "thr_missing", { store }), (e: StrataError) => e.code === "THREAD_NOT_FOUND");
});
