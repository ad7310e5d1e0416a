// Ingest throughput through the real ingest path, then search latency on the knowledge base it made.
//
//   node --import tsx bench/ingest-and-latency.ts [--keep]
//   npm run build && node dist/bench/ingest-and-latency.js
//
// 1. The SciFact corpus is written as 5,183 small Markdown files (`# title\n\ntext`, one per document)
//    into a temporary folder (not timed).
// 2. Strata: `kb.ingest([folder])` — walk, read, hash, Markdown loader, chunker (default 1,200
//    characters with overlap), files read and parsed ahead of the writer, batches of up to 1,000
//    documents per transaction and index segment: documents/s, chunks, store size on disk.
// 3. Search latency: every query of queries.jsonl (1,109: test and train), k = 10, one untimed
//    warm-up pass, then a timed pass: p50/p95/p99 and queries/s.
// 4. Re-ingest of the unchanged folder: every file is read and hashed, and skipped.
//
// References measured in the same run:
//   - Strata's bulk path, `kb.writeMany` of the same documents in memory (batches of 500 per
//     transaction, same chunking): what reading files, loading Markdown and per-file transactions cost;
//   - MiniSearch 7.2 with Strata's analyzer (the "fair" configuration of scifact-vs-minisearch.ts)
//     reading the same files from disk and indexing them in memory as one document each, then the
//     same queries, k = 10.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import MiniSearch from "minisearch";
import { readBeir } from "../src/eval/beir.js";
import { analyze } from "../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../src/knowledge/bm25.js";
import { DEFAULT_CHUNKING } from "../src/knowledge/chunker.js";
import { KnowledgeBase } from "../src/knowledge/knowledge-base.js";
import { loadMarkdown } from "../src/knowledge/loaders/markdown.js";
import { OWNER } from "../src/knowledge/store/access.js";
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

const K = 10;

/** Every query of queries.jsonl, judged or not. */
function allQueries(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(join(dir, "queries.jsonl"), "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const q = JSON.parse(line) as { text?: unknown };
    if (typeof q.text !== "string" || q.text.trim() === "") throw new Error(`queries.jsonl: a line without text: ${line.slice(0, 80)}`);
    out.push(q.text);
  }
  return out;
}

function storeSize(kbDir: string): { db: number; wal: number } {
  return { db: folderBytes(kbDir, (f) => f === "strata.db"), wal: folderBytes(kbDir, (f) => f === "strata.db-wal") };
}

function count(kb: KnowledgeBase, table: "documents" | "chunks" | "lex_segments" | "terms"): number {
  return (kb.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

async function timeQueries(queries: string[], search: (q: string) => Promise<unknown> | unknown): Promise<LatencyStats> {
  for (const q of queries) await search(q); // warm-up, untimed
  await settle();
  const ms: number[] = [];
  for (const q of queries) {
    const t0 = now();
    await search(q);
    ms.push(now() - t0);
  }
  return latencyStats(ms);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: "boolean", default: false } } });
  const machine = machineInfo();
  const dataDir = requireDataset("scifact");
  const dataset = await readBeir(dataDir, "test");
  const queries = allQueries(dataDir);
  note(`scifact: ${dataset.corpus.length} documents, ${queries.length} queries; ${describeMachine(machine)}`);

  const work = mkdtempSync(join(tmpdir(), "strata-bench-ingest-"));
  const folder = join(work, "docs");
  const kbDir = join(work, "kb");
  const bulkDir = join(work, "kb-bulk");
  try {
    // 1. The corpus as Markdown files.
    mkdirSync(folder);
    let bytes = 0;
    for (const d of dataset.corpus) {
      const md = `# ${d.title.replace(/\s+/g, " ").trim()}\n\n${d.text}\n`;
      bytes += Buffer.byteLength(md);
      writeFileSync(join(folder, `${d.id}.md`), md);
    }
    note(`wrote ${dataset.corpus.length} Markdown files (${fmtBytes(bytes)}) to ${folder}`);

    // 2. Strata ingest through the real path.
    await settle();
    const kb = KnowledgeBase.open(kbDir, { create: true });
    let t0 = now();
    const report = await kb.ingest([folder], {
      onProgress: (e) => {
        if (e.done % 1000 === 0 || e.done === e.total) note(`ingest ${e.done}/${e.total ?? "?"} (${fmt((e.done * 1000) / (now() - t0))} files/s)`);
      },
    });
    const ingestMs = now() - t0;
    if (report.failed.length > 0) throw new Error(`ingest failed on ${report.failed.length} files, first: ${report.failed[0]?.source}: ${report.failed[0]?.message}`);
    const docs = count(kb, "documents");
    const chunks = count(kb, "chunks");
    const size = storeSize(kbDir);
    const ingest = {
      ms: round(ingestMs, 1),
      added: report.added,
      documents: docs,
      chunks,
      segments: count(kb, "lex_segments"),
      terms: count(kb, "terms"),
      docs_per_s: round((docs * 1000) / ingestMs, 1),
      chunks_per_s: round((chunks * 1000) / ingestMs, 1),
      store_bytes: size.db + size.wal,
      db_bytes: size.db,
      wal_bytes: size.wal,
      source_bytes: bytes,
    };
    note(`ingest: ${fmt(ingest.docs_per_s, 1)} docs/s, ${chunks} chunks, store ${fmtBytes(ingest.store_bytes)}`);

    // 3. Search latency, k = 10.
    await settle();
    const strataLatency = await timeQueries(queries, (q) => kb.search(q, { k: K, access: OWNER }));
    note(`strata search: p50 ${strataLatency.p50_ms} ms, p95 ${strataLatency.p95_ms} ms`);

    // 4. Re-ingest, unchanged.
    await settle();
    t0 = now();
    const again = await kb.ingest([folder]);
    const reMs = now() - t0;
    const reingest = { ms: round(reMs, 1), unchanged: again.unchanged, added: again.added, updated: again.updated, docs_per_s: round((again.unchanged * 1000) / reMs, 1) };
    if (again.unchanged !== docs) note(`warning: re-ingest skipped ${again.unchanged} of ${docs} documents`);
    note(`re-ingest: ${fmt(reingest.docs_per_s, 1)} docs/s skipped`);
    kb.close();

    // Reference A: Strata's bulk path, the same documents already in memory.
    await settle();
    const docsInMemory = await Promise.all(
      (await readdir(folder)).sort().map(async (f) => ({ source: join(folder, f), document: loadMarkdown(await readFile(join(folder, f), "utf8")) })),
    );
    const bulk = KnowledgeBase.open(bulkDir, { create: true });
    t0 = now();
    bulk.writeMany(docsInMemory, { chunking: DEFAULT_CHUNKING });
    const bulkMs = now() - t0;
    const bulkChunks = count(bulk, "chunks");
    const bulkSize = storeSize(bulkDir);
    bulk.close();
    const bulkRef = { ms: round(bulkMs, 1), docs_per_s: round((docsInMemory.length * 1000) / bulkMs, 1), chunks: bulkChunks, store_bytes: bulkSize.db + bulkSize.wal };
    note(`writeMany: ${fmt(bulkRef.docs_per_s, 1)} docs/s`);

    // Reference B: MiniSearch (fair configuration) reading the same files.
    await settle();
    const ms = new MiniSearch<{ id: string; title: string; text: string }>({
      fields: ["title", "text"],
      tokenize: (text: string) => analyze(text),
      processTerm: (term: string) => term,
      searchOptions: { bm25: { k: DEFAULT_BM25.k1, b: DEFAULT_BM25.b, d: 0 }, boost: { title: DEFAULT_BM25.weightTitle } },
    });
    t0 = now();
    for (const f of (await readdir(folder)).sort()) {
      const md = await readFile(join(folder, f), "utf8");
      const nl = md.indexOf("\n");
      ms.add({ id: f, title: md.slice(2, nl), text: md.slice(nl + 1) });
    }
    const msMs = now() - t0;
    const miniIngest = { ms: round(msMs, 1), docs_per_s: round((ms.documentCount * 1000) / msMs, 1) };
    const miniLatency = await timeQueries(queries, (q) => ms.search(q).slice(0, K));
    note(`minisearch: ${fmt(miniIngest.docs_per_s, 1)} docs/s, p50 ${miniLatency.p50_ms} ms`);

    // Report.
    process.stdout.write(`\nIngest of ${docs} SciFact Markdown files (${fmtBytes(bytes)}) — ${describeMachine(machine)}\n\n`);
    const ingestTable = printTable(
      ["run", "s", "docs/s", "chunks", "store"],
      [
        ["strata ingest (files)", fmt(ingest.ms / 1000, 2), fmt(ingest.docs_per_s), fmt(chunks), fmtBytes(ingest.store_bytes)],
        ["strata re-ingest, unchanged", fmt(reingest.ms / 1000, 2), fmt(reingest.docs_per_s), "–", "–"],
        ["ref: strata writeMany (in memory)", fmt(bulkRef.ms / 1000, 2), fmt(bulkRef.docs_per_s), fmt(bulkChunks), fmtBytes(bulkRef.store_bytes)],
        ["ref: minisearch-fair (files)", fmt(miniIngest.ms / 1000, 2), fmt(miniIngest.docs_per_s), "–", "memory"],
      ],
    );
    process.stdout.write(`\nstore: strata.db ${fmtBytes(size.db)} + strata.db-wal ${fmtBytes(size.wal)} (${fmt(ingest.store_bytes / chunks)} bytes per chunk, ${fmt(ingest.segments)} index segments, ${fmt(ingest.terms)} terms)\n`);
    process.stdout.write(`\nSearch latency, ${queries.length} queries, k = ${K} (after a warm-up pass)\n\n`);
    const latencyTable = printTable(
      ["system", "q/s", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"],
      [
        ["strata (on the ingested KB)", fmt(strataLatency.per_s, 1), fmt(strataLatency.mean_ms, 2), fmt(strataLatency.p50_ms, 2), fmt(strataLatency.p95_ms, 2), fmt(strataLatency.p99_ms, 2), fmt(strataLatency.max_ms, 2)],
        ["ref: minisearch-fair", fmt(miniLatency.per_s, 1), fmt(miniLatency.mean_ms, 2), fmt(miniLatency.p50_ms, 2), fmt(miniLatency.p95_ms, 2), fmt(miniLatency.p99_ms, 2), fmt(miniLatency.max_ms, 2)],
        ["strata ÷ minisearch", ratio(strataLatency.per_s, miniLatency.per_s), ratio(strataLatency.mean_ms, miniLatency.mean_ms), ratio(strataLatency.p50_ms, miniLatency.p50_ms), ratio(strataLatency.p95_ms, miniLatency.p95_ms), ratio(strataLatency.p99_ms, miniLatency.p99_ms), "–"],
      ],
    );
    const file = writeJson("ingest-and-latency", {
      benchmark: "ingest-and-latency",
      command: commandLine(),
      machine,
    load_at_end: loadNow(),
      corpus: { documents: dataset.corpus.length, markdown_bytes: bytes, queries: queries.length, k: K },
      ingest,
      reingest,
      search: strataLatency,
      reference: { writeMany: bulkRef, minisearch_fair: { ingest: miniIngest, search: miniLatency } },
      markdown: { ingest: ingestTable, latency: latencyTable },
    });
    process.stdout.write(`\nwrote ${file}\n`);
  } finally {
    if (values.keep) note(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
