// Hybrid (BM25F + dense, RRF) vs lexical retrieval on SciFact's test split, with the best embedding
// model the user can point at: STRATA_EMBED_MODEL=gguf:<file> or openai:<url>#<model>. No embedding
// model ships with Strata (no weights are downloaded), so without one this benchmark says so and skips.
//   STRATA_EMBED_MODEL=openai:http://127.0.0.1:11434/v1#nomic-embed-text node dist/bench/scifact-hybrid.js
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBeir } from "../src/eval/beir.js";
import { indexBeirCorpus } from "../src/eval/knowledge-retrieval.js";
import { runRetrievalEval } from "../src/eval/retrieval.js";
import { OWNER } from "../src/knowledge/store/access.js";
import type { SearchMode } from "../src/knowledge/knowledge-base.js";
import { createEmbeddingModel } from "../src/model/registry.js";
import { commandLine, describeMachine, fmt, machineInfo, printTable, requireDataset, writeJson } from "./lib.js";

const ref = process.env.STRATA_EMBED_MODEL;
if (!ref) {
  process.stdout.write("skipped: set STRATA_EMBED_MODEL to an embedding model (gguf:<file> or openai:<url>#<model>) to compare hybrid with lexical retrieval\n");
  process.exit(0);
}
const dataset = await readBeir(requireDataset("scifact"), "test");
const embedder = await createEmbeddingModel(ref, { threads: 2 });
const dir = mkdtempSync(join(tmpdir(), "strata-bench-hybrid-"));
try {
  const kb = indexBeirCorpus(dataset, join(dir, "kb"));
  const t0 = performance.now();
  await kb.embed(embedder, { onProgress: (e) => e.done % 512 === 0 && process.stderr.write(`embed ${e.done}/${e.total ?? "?"}\n`) });
  const embedSeconds = (performance.now() - t0) / 1000;
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const mode of ["lexical", "dense", "hybrid"] as SearchMode[]) {
    const r = await runRetrievalEval(dataset, async (q) => {
      const hits = await kb.search(q, { k: 100, access: OWNER, mode, embedder });
      return [...new Set(hits.map((h) => h.source.replace(/^beir:/, "")))];
    });
    results[mode] = { ndcg_at_10: r.ndcg_at_10, recall_at_100: r.recall_at_100, mrr_at_10: r.mrr_at_10, ms_per_query: r.ms_per_query };
    rows.push([mode, fmt(r.ndcg_at_10, 4), fmt(r.recall_at_100, 4), fmt(r.mrr_at_10, 4), fmt(r.ms_per_query, 1)]);
  }
  kb.close();
  process.stdout.write(`${describeMachine(machineInfo())}\nembedding model ${ref}: ${embedder.dimensions} dims, corpus embedded in ${fmt(embedSeconds, 1)} s\n`);
  printTable(["mode", "nDCG@10", "R@100", "MRR@10", "ms/query"], rows);
  writeJson("scifact-hybrid", { command: commandLine(), model: ref, dimensions: embedder.dimensions, embedSeconds, results });
} finally {
  await embedder.close();
  rmSync(dir, { recursive: true, force: true });
}
