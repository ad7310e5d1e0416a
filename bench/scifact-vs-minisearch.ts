// SciFact, Strata against MiniSearch, side by side in one process.
//
//   node --import tsx bench/scifact-vs-minisearch.ts [--split test] [--index-rounds 2] [--rounds 3] [--only strata,minisearch-fair]
//   npm run build && node dist/bench/scifact-vs-minisearch.js
//
// Systems:
//   strata              the knowledge base as `strata eval retrieval` uses it: indexBeirCorpus (SQLite
//                       store on disk, one chunk per document), rankBeirDocuments (BM25F, k1 0.9, b 0.4)
//   minisearch-default  MiniSearch 7 over title + text with all its defaults (lower-cased split on
//                       punctuation, BM25+ k 1.2, b 0.7, d 0.5), in memory
//   minisearch-fair     MiniSearch with Strata's analyzer as its tokenizer (Unicode tokens, accent
//                       folding, Lucene stop words, Porter stemming), BM25 k 0.9, b 0.4, d 0 (plain
//                       BM25), title boost 1 — the closest MiniSearch gets to Strata's ranking; it
//                       scores each field with its own BM25 and adds them, where Strata uses BM25F
//
// Every system is indexed `--index-rounds` times (the fastest is reported: the first round also pays
// for JIT warm-up), then gets one untimed warm-up pass over the queries and `--rounds` timed passes,
// interleaved system by system so background load falls on all of them alike. Quality is scored by
// runRetrievalEval with the metric functions of src/eval/metrics.ts, the same for every system.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import MiniSearch, { type Options as MiniSearchOptions } from "minisearch";
import { readBeir, type BeirDataset, type BeirDoc } from "../src/eval/beir.js";
import { indexBeirCorpus, rankBeirDocuments } from "../src/eval/knowledge-retrieval.js";
import { runRetrievalEval, type RetrievalEvalResult } from "../src/eval/retrieval.js";
import { analyze } from "../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../src/knowledge/bm25.js";
import type { KnowledgeBase } from "../src/knowledge/knowledge-base.js";
import { Fts5Reference } from "./fts5-reference.js";
import {
  commandLine,
  describeMachine,
  fmt,
  fmtBytes,
  folderBytes,
  latencyStats,
  loadNow,
  machineInfo,
  note,
  now,
  printTable,
  ratio,
  requireDataset,
  round,
  settle,
  writeJson,
  type LatencyStats,
} from "./lib.js";

const DEPTH = 100;

interface System {
  name: string;
  describe: string;
  /** Builds the index from scratch; returns bytes on disk (null when in memory). */
  index(dataset: BeirDataset): number | null;
  search(query: string): Promise<string[]> | string[];
  dispose(): void;
}

function strataSystem(): System {
  let dir: string | undefined;
  let kb: KnowledgeBase | undefined;
  const dispose = (): void => {
    kb?.close();
    kb = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  return {
    name: "strata",
    describe: `Strata KnowledgeBase (SQLite on disk, BM25F k1 ${DEFAULT_BM25.k1}, b ${DEFAULT_BM25.b}, title weight ${DEFAULT_BM25.weightTitle})`,
    index(dataset) {
      dispose();
      dir = mkdtempSync(join(tmpdir(), "strata-bench-scifact-"));
      kb = indexBeirCorpus(dataset, join(dir, "kb"));
      return folderBytes(join(dir, "kb"), (f) => f.startsWith("strata.db"));
    },
    search(query) {
      if (!kb) throw new Error("strata: search before index");
      return rankBeirDocuments(kb, query, DEPTH);
    },
    dispose,
  };
}

function miniSearchSystem(name: string, describe: string, options: Omit<MiniSearchOptions<BeirDoc>, "fields">): System {
  let ms: MiniSearch<BeirDoc> | undefined;
  return {
    name,
    describe,
    index(dataset) {
      ms = new MiniSearch<BeirDoc>({ ...options, fields: ["title", "text"], idField: "id" });
      ms.addAll(dataset.corpus);
      return null;
    },
    search(query) {
      if (!ms) throw new Error(`${name}: search before index`);
      const hits = ms.search(query);
      const ids: string[] = [];
      for (let i = 0; i < hits.length && i < DEPTH; i++) ids.push(String((hits[i] as { id: unknown }).id));
      return ids;
    },
    dispose() {
      ms = undefined;
    },
  };
}

function fts5System(): System {
  let dir: string | undefined;
  let fts: Fts5Reference | undefined;
  let ids: string[] = [];
  const dispose = (): void => {
    fts?.close();
    fts = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  return {
    name: "fts5",
    describe: "SQLite FTS5 over Strata's analysed title and text (same analyzer), ranked by FTS5's bm25() (k1 1.2, b 0.75, fixed), OR of the query terms",
    index(dataset) {
      dispose();
      dir = mkdtempSync(join(tmpdir(), "strata-bench-fts5-"));
      fts = new Fts5Reference(join(dir, "fts5.db"));
      ids = dataset.corpus.map((d) => d.id);
      fts.add(dataset.corpus.map((d, i) => ({ id: i + 1, title: d.title, text: d.text })));
      return folderBytes(dir, (f) => f.startsWith("fts5.db"));
    },
    search(query) {
      if (!fts) throw new Error("fts5: search before index");
      return fts.search(query, DEPTH).map((i) => ids[i - 1]!);
    },
    dispose,
  };
}

const SYSTEMS: Record<string, () => System> = {
  fts5: fts5System,
  strata: strataSystem,
  "minisearch-default": () => miniSearchSystem("minisearch-default", "MiniSearch 7.2 defaults: fields title+text, lower-case tokens, BM25+ k 1.2 b 0.7 d 0.5", {}),
  "minisearch-fair": () =>
    miniSearchSystem(
      "minisearch-fair",
      `MiniSearch 7.2 with Strata's analyzer (Porter, Lucene stop words) as tokenizer, BM25 k ${DEFAULT_BM25.k1} b ${DEFAULT_BM25.b} d 0, boost title 1`,
      {
        tokenize: (text: string) => analyze(text),
        processTerm: (term: string) => term,
        searchOptions: { bm25: { k: DEFAULT_BM25.k1, b: DEFAULT_BM25.b, d: 0 }, boost: { title: DEFAULT_BM25.weightTitle } },
      },
    ),
};

interface Measured {
  system: string;
  describe: string;
  index_ms_rounds: number[];
  index_ms: number;
  docs_per_s: number;
  index_bytes: number | null;
  latency: LatencyStats;
  ndcg_at_10: number;
  recall_at_100: number;
  mrr_at_10: number;
  queries: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      split: { type: "string", default: "test" },
      "index-rounds": { type: "string", default: "2" },
      rounds: { type: "string", default: "3" },
      only: { type: "string" },
    },
  });
  const split = values.split ?? "test";
  const indexRounds = Math.max(1, Number(values["index-rounds"]));
  const rounds = Math.max(1, Number(values.rounds));
  const names = values.only ? values.only.split(",").map((s) => s.trim()) : Object.keys(SYSTEMS);
  for (const n of names) if (!SYSTEMS[n]) throw new Error(`unknown system "${n}"; pick from ${Object.keys(SYSTEMS).join(", ")}`);

  const machine = machineInfo();
  const dir = requireDataset("scifact");
  const dataset = await readBeir(dir, split);
  note(`scifact ${split}: ${dataset.corpus.length} documents, ${dataset.queries.size} queries; ${describeMachine(machine)}`);

  const systems = names.map((n) => (SYSTEMS[n] as () => System)());
  const indexMs = new Map<string, number[]>();
  const indexBytes = new Map<string, number | null>();

  // 1. Index each system, --index-rounds times; keep the last index for the queries.
  for (let r = 0; r < indexRounds; r++) {
    for (const s of systems) {
      await settle();
      const t0 = now();
      const bytes = s.index(dataset);
      const ms = now() - t0;
      indexMs.set(s.name, [...(indexMs.get(s.name) ?? []), ms]);
      indexBytes.set(s.name, bytes);
      note(`index ${s.name} round ${r + 1}: ${fmt(ms)} ms`);
    }
  }

  // 2. Untimed warm-up pass, then timed passes interleaved by system. Every timed pass is scored;
  // the rankings are deterministic, so every pass of one system gives the same quality.
  const times = new Map<string, number[]>(systems.map((s) => [s.name, []]));
  const quality = new Map<string, RetrievalEvalResult>();
  for (let r = 0; r <= rounds; r++) {
    for (const s of systems) {
      await settle();
      const sink = times.get(s.name) as number[];
      const result = await runRetrievalEval(dataset, async (q) => {
        const t0 = now();
        const ids = await s.search(q);
        if (r > 0) sink.push(now() - t0);
        return ids;
      });
      const prev = quality.get(s.name);
      if (prev && prev.ndcg_at_10 !== result.ndcg_at_10) note(`warning: ${s.name} gave a different nDCG@10 on pass ${r} (${result.ndcg_at_10} vs ${prev.ndcg_at_10})`);
      quality.set(s.name, result);
      note(`${r === 0 ? "warm-up" : `round ${r}`} ${s.name}: nDCG@10 ${result.ndcg_at_10}, ${result.ms_per_query} ms/query`);
    }
  }
  for (const s of systems) s.dispose();

  const measured: Measured[] = systems.map((s) => {
    const rs = indexMs.get(s.name) as number[];
    const best = Math.min(...rs);
    const q = quality.get(s.name) as RetrievalEvalResult;
    return {
      system: s.name,
      describe: s.describe,
      index_ms_rounds: rs.map((x) => round(x, 1)),
      index_ms: round(best, 1),
      docs_per_s: round((dataset.corpus.length * 1000) / best, 0),
      index_bytes: indexBytes.get(s.name) ?? null,
      latency: latencyStats(times.get(s.name) as number[]),
      ndcg_at_10: q.ndcg_at_10,
      recall_at_100: q.recall_at_100,
      mrr_at_10: q.mrr_at_10,
      queries: q.queries,
    };
  });

  // 3. Report.
  process.stdout.write(`\nSciFact ${split}: ${dataset.corpus.length} docs, ${dataset.queries.size} queries × ${rounds} timed rounds — ${describeMachine(machine)}\n\n`);
  const table = printTable(
    ["system", "index s", "docs/s", "q/s", "p50 ms", "p95 ms", "nDCG@10", "R@100", "MRR@10", "store"],
    measured.map((m) => [
      m.system,
      fmt(m.index_ms / 1000, 2),
      fmt(m.docs_per_s),
      fmt(m.latency.per_s, 1),
      fmt(m.latency.p50_ms, 2),
      fmt(m.latency.p95_ms, 2),
      m.ndcg_at_10.toFixed(4),
      m.recall_at_100.toFixed(4),
      m.mrr_at_10.toFixed(4),
      m.index_bytes === null ? "memory" : fmtBytes(m.index_bytes),
    ]),
  );
  const strata = measured.find((m) => m.system === "strata");
  const refs = measured.filter((m) => m.system !== "strata");
  let ratioTable = "";
  if (strata && refs.length > 0) {
    process.stdout.write("\nStrata ÷ reference (index time and latency: > 1 means Strata is slower; docs/s, q/s, quality: > 1 means Strata is higher)\n\n");
    ratioTable = printTable(
      ["reference", "index s", "docs/s", "q/s", "p50", "p95", "nDCG@10", "R@100", "MRR@10"],
      refs.map((m) => [
        m.system,
        ratio(strata.index_ms, m.index_ms),
        ratio(strata.docs_per_s, m.docs_per_s),
        ratio(strata.latency.per_s, m.latency.per_s),
        ratio(strata.latency.p50_ms, m.latency.p50_ms),
        ratio(strata.latency.p95_ms, m.latency.p95_ms),
        ratio(strata.ndcg_at_10, m.ndcg_at_10, 3),
        ratio(strata.recall_at_100, m.recall_at_100, 3),
        ratio(strata.mrr_at_10, m.mrr_at_10, 3),
      ]),
    );
  }
  const file = writeJson("scifact-vs-minisearch", {
    benchmark: "scifact-vs-minisearch",
    command: commandLine(),
    machine,
    load_at_end: loadNow(),
    dataset: { name: dataset.name, split, documents: dataset.corpus.length, queries: dataset.queries.size },
    settings: { depth: DEPTH, indexRounds, rounds, bm25: DEFAULT_BM25 },
    systems: measured,
    markdown: { table, ratios: ratioTable },
  });
  process.stdout.write(`\nwrote ${file}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
