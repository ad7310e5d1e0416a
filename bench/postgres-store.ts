// The PostgreSQL knowledge store against the embedded one on the same data (decision 0018).
//
//   node dist/bench/postgres-store.js [--url postgres://…] [--clients 64]
//
// SciFact (5,183 abstracts, one chunk each) is loaded into an embedded store (writeMany, batches of
// 2,000) and into PostgreSQL (writeManyAsync, same batches) — a throw-away cluster on a loopback
// port started here (test/helpers/postgres.ts) unless --url names a server. Then every query of
// queries.jsonl (1,109), k = 10, lexical: one untimed warm-up pass per store, a pass with one
// client (one query at a time) and a pass with N concurrent clients (N async callers in this
// process sharing the queue; the embedded store answers them one after another on this thread,
// PostgreSQL through the store's pool of 10 connections). Reported: load time, p50/p95 latency per query as
// each client saw it, queries/s, and PostgreSQL/embedded ratios. Rankings are checked equal first.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { readBeir } from "../src/eval/beir.js";
import { beirDocument } from "../src/eval/knowledge-retrieval.js";
import { KnowledgeBase } from "../src/knowledge/knowledge-base.js";
import { OWNER } from "../src/knowledge/store/access.js";
import { startPostgres, type PgCluster } from "../test/helpers/postgres.js";
import { tempDir } from "../test/helpers/paths.js";
import { commandLine, describeMachine, fmt, latencyStats, loadNow, machineInfo, now, printTable, ratio, requireDataset, writeJson, type LatencyStats } from "./lib.js";

const { values } = parseArgs({ options: { url: { type: "string" }, clients: { type: "string", default: "64" } } });
const CLIENTS = Number(values.clients);

async function pass(queries: string[], clients: number, search: (q: string) => Promise<unknown>): Promise<{ stats: LatencyStats; qps: number }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < queries.length) {
        const q = queries[next++]!;
        const s = now();
        await search(q);
        ms.push(now() - s);
      }
    }),
  );
  const wall = now() - t0;
  return { stats: latencyStats(ms), qps: (queries.length * 1000) / wall };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const data = requireDataset("scifact");
  const dataset = await readBeir(data, "test");
  const queries = readFileSync(join(data, "queries.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text);
  const sources = dataset.corpus.map((d) => ({ source: `beir:${d.id}`, document: beirDocument(d) }));
  const chunking = { maxChars: 100_000, overlapChars: 0 };
  const dir = tempDir("strata-bench-pg-");
  let cluster: PgCluster | undefined;
  try {
    let url = values.url;
    if (!url) {
      cluster = await startPostgres();
      url = await cluster.newDatabase("bench");
    }
    const t1 = now();
    const embedded = KnowledgeBase.open(join(dir, "kb"), { create: true });
    embedded.writeMany(sources, { chunking, batch: 2000 });
    const embeddedLoad = now() - t1;
    const t2 = now();
    const onPg = await KnowledgeBase.openAt(url, { create: true });
    await onPg.writeManyAsync(sources, { chunking, batch: 2000 });
    const pgLoad = now() - t2;
    // Same rankings before any timing.
    for (const q of queries.slice(0, 200)) {
      const a = (await embedded.search(q, { k: 10, access: OWNER })).map((h) => h.chunkId).join();
      const b = (await onPg.search(q, { k: 10, access: OWNER })).map((h) => h.chunkId).join();
      if (a !== b) throw new Error(`rankings differ on "${q}"`);
    }
    const run = (kb: KnowledgeBase) => (q: string) => kb.search(q, { k: 10, access: OWNER });
    await pass(queries, 1, run(embedded));
    await pass(queries, 1, run(onPg));
    const loadBefore = loadNow();
    const e1 = await pass(queries, 1, run(embedded));
    const p1 = await pass(queries, 1, run(onPg));
    const eN = await pass(queries, CLIENTS, run(embedded));
    const pN = await pass(queries, CLIENTS, run(onPg));
    const loadAfter = loadNow();
    await onPg.closeAsync();
    embedded.close();

    process.stdout.write(`\n${describeMachine(machine)}\n${commandLine()}\nload ${loadBefore} before the timed passes, ${loadAfter} after\n\n`);
    process.stdout.write(`load SciFact (5,183 docs): embedded ${fmt(embeddedLoad)} ms, PostgreSQL ${fmt(pgLoad)} ms (${ratio(pgLoad, embeddedLoad)})\n\n`);
    const row = (name: string, e: { stats: LatencyStats; qps: number }, p: { stats: LatencyStats; qps: number }): string[] => [
      name,
      fmt(e.stats.p50_ms, 2),
      fmt(p.stats.p50_ms, 2),
      fmt(e.stats.p95_ms, 2),
      fmt(p.stats.p95_ms, 2),
      ratio(p.stats.p95_ms, e.stats.p95_ms),
      fmt(e.qps, 0),
      fmt(p.qps, 0),
    ];
    const md = printTable(
      ["clients", "embedded p50 ms", "PostgreSQL p50 ms", "embedded p95 ms", "PostgreSQL p95 ms", "p95 PG/embedded", "embedded q/s", "PostgreSQL q/s"],
      [row("1", e1, p1), row(String(CLIENTS), eN, pN)],
    );
    const file = writeJson("postgres-store", { machine, command: commandLine(), load: { before: loadBefore, after: loadAfter }, loadMs: { embedded: embeddedLoad, postgres: pgLoad }, one: { embedded: e1, postgres: p1 }, many: { clients: CLIENTS, embedded: eN, postgres: pN } });
    process.stdout.write(`\n${md}\n\nwrote ${file}\n`);
  } finally {
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
