// A tiny BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) for tests that run the
// retrieval evaluation end to end: four documents (one relevant to no query) and three queries,
// each with one relevant document that BM25 ranks first.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./paths.js";

export function tinyBeir(name = "tiny-beir"): string {
  const dir = join(tempDir(), name);
  mkdirSync(join(dir, "qrels"), { recursive: true });
  const corpus = [
    { _id: "d1", title: "Lighthouse keeping", text: "The keeper trims the lamp wick every evening." },
    { _id: "d2", title: "Bread", text: "Sourdough needs a starter fed with flour and water." },
    { _id: "d3", title: "Tides", text: "Spring tides follow the new and the full moon." },
    { _id: "d4", title: "Bees", text: "Worker bees fan the hive to cool the brood." },
  ];
  writeFileSync(join(dir, "corpus.jsonl"), corpus.map((d) => JSON.stringify(d)).join("\n") + "\n");
  const queries = [
    { _id: "q1", text: "who trims the lamp wick" },
    { _id: "q2", text: "sourdough starter flour" },
    { _id: "q3", text: "moon and spring tides" },
  ];
  writeFileSync(join(dir, "queries.jsonl"), queries.map((q) => JSON.stringify(q)).join("\n") + "\n");
  writeFileSync(join(dir, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n");
  return dir;
}
