// Per-node runtime overhead of a checkpointed graph: Strata's runtime with its SQLite checkpointer
// (agents.db: WAL, synchronous=NORMAL, one transaction per checkpoint) against LangGraph.js with
// @langchain/langgraph-checkpoint-sqlite (SqliteSaver, WAL; measured both with Strata's
// synchronous=NORMAL and as it ships, synchronous=FULL), on the same 1,000-step graph in one
// process: one node that increments a counter, a conditional edge back to itself until the counter
// reaches 1,000. The nodes do no work, so the time per step is the runtime's own cost (scheduling,
// state merge, serialisation, the checkpoint write). Two states: a bare counter, and the counter
// beside a 4 KB string that no node changes (a conversation carried along).
//
//   node --import tsx bench/agent-overhead.ts [--steps 1000] [--rounds 5]
//   npm run build && node dist/bench/agent-overhead.js
//
// Rounds alternate between the runtimes so background load hits both alike; each round uses a new
// database file. Also measured without persistence, for the runtimes' own scheduling cost: LangGraph
// with no checkpointer, and Strata (which always persists) is not measured that way.
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Annotation, END as LG_END, START as LG_START, StateGraph } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { END, graph, START } from "../src/agents/graph/graph.js";
import { runGraph } from "../src/agents/graph/runtime.js";
import { AgentStore } from "../src/agents/store/agent-store.js";
import { commandLine, describeMachine, fmt, machineInfo, note, printTable, writeJson } from "./lib.js";

const { values } = parseArgs({ options: { steps: { type: "string", default: "1000" }, rounds: { type: "string", default: "5" } } });
const STEPS = Number(values.steps);
const ROUNDS = Number(values.rounds);
const PAYLOAD = "x".repeat(4096);

interface Measure {
  ms: number;
  dbBytes: number;
}

function dbSize(dir: string): number {
  let total = 0;
  for (const f of ["agents.db", "agents.db-wal", "lg.db", "lg.db-wal"]) {
    try {
      total += statSync(join(dir, f)).size;
    } catch {
      // absent
    }
  }
  return total;
}

async function strata(payload: boolean): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-agent-"));
  const store = AgentStore.open(dir, { create: true });
  const g = graph<{ count: number; payload?: string }>({ name: "counter", maxSteps: STEPS + 10 })
    .node("step", (s) => ({ count: s.count + 1 }))
    .edge(START, "step")
    .conditional("step", (s) => (s.count < STEPS ? "step" : END))
    .compile();
  const t0 = performance.now();
  const r = await runGraph(g, payload ? { count: 0, payload: PAYLOAD } : { count: 0 }, { store });
  const ms = performance.now() - t0;
  if (r.state.count !== STEPS || r.status !== "completed") throw new Error(`strata run ended ${r.status} at ${r.state.count}`);
  store.close();
  const bytes = dbSize(dir);
  rmSync(dir, { recursive: true, force: true });
  return { ms, dbBytes: bytes };
}

async function langgraph(payload: boolean, persist: "default" | "normal" | false): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-lg-"));
  const State = Annotation.Root({ count: Annotation<number>(), payload: Annotation<string | undefined>() });
  const db = persist ? new Database(join(dir, "lg.db")) : undefined;
  // "normal": the same durability setting as Strata's store (WAL + synchronous=NORMAL: a kill -9 loses
  // nothing, a power cut may lose the last commits); "default": SqliteSaver as it comes (synchronous=FULL).
  if (db && persist === "normal") db.pragma("synchronous = NORMAL");
  const saver = db ? new SqliteSaver(db) : undefined;
  const g = new StateGraph(State)
    .addNode("step", (s) => ({ count: s.count + 1 }))
    .addEdge(LG_START, "step")
    .addConditionalEdges("step", (s) => (s.count < STEPS ? "step" : LG_END))
    .compile({ checkpointer: saver });
  const t0 = performance.now();
  const out = await g.invoke(payload ? { count: 0, payload: PAYLOAD } : { count: 0 }, { recursionLimit: STEPS + 10, configurable: { thread_id: "bench" } });
  const ms = performance.now() - t0;
  if (out.count !== STEPS) throw new Error(`langgraph ended at ${out.count}`);
  const bytes = dbSize(dir);
  db?.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms, dbBytes: bytes };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const machine = machineInfo();
  note(`agent runtime overhead: ${STEPS}-step graph, ${ROUNDS} rounds (+1 warm-up), ${describeMachine(machine)}`);
  const cases = [
    { name: "Strata (SQLite checkpointer)", state: "counter", run: () => strata(false) },
    { name: "LangGraph.js (SqliteSaver, synchronous=NORMAL)", state: "counter", run: () => langgraph(false, "normal") },
    { name: "LangGraph.js (SqliteSaver as shipped)", state: "counter", run: () => langgraph(false, "default") },
    { name: "Strata (SQLite checkpointer)", state: "counter + 4 KB", run: () => strata(true) },
    { name: "LangGraph.js (SqliteSaver, synchronous=NORMAL)", state: "counter + 4 KB", run: () => langgraph(true, "normal") },
    { name: "LangGraph.js (no checkpointer)", state: "counter", run: () => langgraph(false, false) },
  ];
  const times = cases.map(() => [] as number[]);
  const bytes = cases.map(() => 0);
  for (let round = 0; round <= ROUNDS; round++) {
    for (let i = 0; i < cases.length; i++) {
      const m = await cases[i]!.run();
      if (round > 0) times[i]!.push(m.ms);
      bytes[i] = m.dbBytes;
    }
  }
  const rows = cases.map((c, i) => {
    const med = median(times[i]!);
    return { runtime: c.name, state: c.state, totalMs: med, perStepUs: (med * 1000) / STEPS, bestPerStepUs: (Math.min(...times[i]!) * 1000) / STEPS, dbKB: bytes[i]! / 1024 };
  });
  const md = printTable(
    ["runtime", "state", "total ms (median)", "µs/step (median)", "µs/step (best)", "database"],
    rows.map((r) => [r.runtime, r.state, fmt(r.totalMs, 1), fmt(r.perStepUs, 1), fmt(r.bestPerStepUs, 1), r.dbKB ? `${fmt(r.dbKB, 0)} kB` : "–"]),
  );
  process.stdout.write(`\n${md}\n`);
  writeJson("agent-overhead", { command: commandLine(), machine, steps: STEPS, rounds: ROUNDS, results: rows, raw: cases.map((c, i) => ({ runtime: c.name, state: c.state, ms: times[i] })) });
}

await main();
