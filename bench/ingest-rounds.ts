// File ingest against MiniSearch-fair, alternated in rounds, for a machine too busy for one pass
// each to mean anything: every round ingests the SciFact corpus as Markdown files with Strata
// (`kb.ingest`, fresh knowledge base) and indexes the same files with MiniSearch-fair, back to back;
// the report gives each round's ratio, the median ratio, and CPU time per document (what load
// inflates least). With `--baseline <dist folder of another Strata build>` that build's ingest runs
// in the same rounds too (before/after a change, same load).
//
//   node dist/bench/ingest-rounds.js [--rounds 3] [--baseline /path/to/other/dist]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import MiniSearch from "minisearch";
import { readBeir } from "../src/eval/beir.js";
import { analyze } from "../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../src/knowledge/bm25.js";
import { KnowledgeBase } from "../src/knowledge/knowledge-base.js";
import { describeMachine, fmt, loadNow, machineInfo, note, now, printTable, requireDataset, round, settle, writeJson } from "./lib.js";

interface Run {
  ms: number;
  cpuMs: number;
  load: number;
}

type Ingest = (folder: string, kbDir: string) => Promise<number>;

async function timed(fn: () => Promise<number>): Promise<Run & { docs: number }> {
  await settle();
  const load = loadNow();
  const c0 = process.cpuUsage();
  const t0 = now();
  const docs = await fn();
  const ms = now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, load, docs };
}

const strataIngest =
  (KB: typeof KnowledgeBase): Ingest =>
  async (folder, kbDir) => {
    const kb = KB.open(kbDir, { create: true });
    const r = await kb.ingest([folder]);
    kb.close();
    if (r.failed.length > 0) throw new Error(`ingest failed on ${r.failed.length} files`);
    return r.added;
  };

async function miniSearchFair(folder: string): Promise<number> {
  const ms = new MiniSearch<{ id: string; title: string; text: string }>({
    fields: ["title", "text"],
    tokenize: (text: string) => analyze(text),
    processTerm: (term: string) => term,
    searchOptions: { bm25: { k: DEFAULT_BM25.k1, b: DEFAULT_BM25.b, d: 0 }, boost: { title: DEFAULT_BM25.weightTitle } },
  });
  for (const f of (await readdir(folder)).sort()) {
    const md = await readFile(join(folder, f), "utf8");
    const nl = md.indexOf("\n");
    ms.add({ id: f, title: md.slice(2, nl), text: md.slice(nl + 1) });
  }
  return ms.documentCount;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" }, baseline: { type: "string" } } });
  const rounds = Number(values.rounds);
  const machine = machineInfo();
  const dataset = await readBeir(requireDataset("scifact"), "test");
  const work = mkdtempSync(join(tmpdir(), "strata-bench-rounds-"));
  const folder = join(work, "docs");
  mkdirSync(folder);
  for (const d of dataset.corpus) writeFileSync(join(folder, `${d.id}.md`), `# ${d.title.replace(/\s+/g, " ").trim()}\n\n${d.text}\n`);
  const systems: [string, (kbDir: string) => Promise<number>][] = [["strata", (kb) => strataIngest(KnowledgeBase)(folder, kb)]];
  if (values.baseline) {
    const mod = (await import(join(resolve(values.baseline), "src/knowledge/knowledge-base.js"))) as { KnowledgeBase: typeof KnowledgeBase };
    systems.push(["baseline", (kb) => strataIngest(mod.KnowledgeBase)(folder, kb)]);
  }
  systems.push(["minisearch-fair", () => miniSearchFair(folder)]);
  const runs = new Map<string, (Run & { docs: number })[]>(systems.map(([n]) => [n, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn] of systems) {
        const kbDir = join(work, `kb-${name}-${r}`);
        const run = await timed(() => fn(kbDir));
        rmSync(kbDir, { recursive: true, force: true });
        runs.get(name)!.push(run);
        note(`round ${r + 1} ${name}: ${fmt((run.docs * 1000) / run.ms)} docs/s, ${fmt((run.docs * 1000) / run.cpuMs)} docs per CPU-s, load ${run.load}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const rate = (x: Run & { docs: number }): number => (x.docs * 1000) / x.ms;
  const cpuRate = (x: Run & { docs: number }): number => (x.docs * 1000) / x.cpuMs;
  const ref = runs.get("minisearch-fair")!;
  const rows = [...runs].map(([name, xs]) => [
    name,
    fmt(median(xs.map(rate))),
    fmt(median(xs.map(cpuRate))),
    `${fmt(median(xs.map((x, i) => rate(x) / rate(ref[i]!))), 2)}×`,
    `${fmt(median(xs.map((x, i) => cpuRate(x) / cpuRate(ref[i]!))), 2)}×`,
    xs.map((x) => fmt(x.load, 1)).join(" / "),
  ]);
  process.stdout.write(`\nSciFact as ${dataset.corpus.length} Markdown files, ${rounds} alternating rounds (medians) — ${describeMachine(machine)}\n\n`);
  printTable(["system", "docs/s", "docs per CPU-s", "÷ minisearch-fair (per round)", "CPU ÷ minisearch-fair", "load per round"], rows);
  writeJson("ingest-rounds", {
    machine,
    rounds: Object.fromEntries([...runs].map(([n, xs]) => [n, xs.map((x) => ({ ms: round(x.ms, 1), cpu_ms: round(x.cpuMs, 1), docs: x.docs, load: x.load }))])),
  });
}

await main();
