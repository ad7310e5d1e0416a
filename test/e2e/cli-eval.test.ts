// `strata eval retrieval` end to end: a tiny BEIR folder with known answers, the JSON contract,
// the HTML report, plain progress lines when stderr is not a terminal; and SciFact's quality floor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { tinyBeir } from "../helpers/beir.js";
import { sharedData, tempDir } from "../helpers/paths.js";

interface EvalJson { dataset: string; split: string; queries: number; ndcg_at_10: number; recall_at_100: number; mrr_at_10: number; ms_per_query: number }

test("eval retrieval on a tiny BEIR folder: perfect ranking, JSON contract, HTML report, progress lines", () => {
  const dir = tinyBeir("tiny");
  const report = join(tempDir(), "report.html");
  const runs = tempDir();
  const r = strata(["eval", "retrieval", "--beir", dir, "--report", report, "--runs", runs, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const j = jsonOf<EvalJson & { run: string }>(r);
  const stored = readFileSync(join(runs, j.run, "items.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; metrics: { ndcg_at_10: number } });
  assert.deepEqual(stored.map((i) => i.metrics.ndcg_at_10), [1, 1, 1], "every query is stored with its figures");
  assert.deepEqual([j.dataset, j.split, j.queries], ["tiny", "test", 3]);
  assert.equal(j.ndcg_at_10, 1);
  assert.equal(j.mrr_at_10, 1);
  assert.equal(j.recall_at_100, 1);
  assert.ok(j.ms_per_query >= 0);
  assert.ok(existsSync(report));
  const html = readFileSync(report, "utf8");
  assert.match(html, /<svg/);
  assert.match(html, /sourdough starter flour/);
  // not a terminal: plain progress lines on stderr, stdout stays one JSON document
  assert.match(r.stderr, /eval: 3\/3 \(100%\)/);
});

test("eval retrieval stores its run: two settings compared per query with intervals", () => {
  const dir = tinyBeir("tiny");
  const runs = tempDir();
  const a = jsonOf<{ run: string }>(strata(["eval", "retrieval", "--beir", dir, "--runs", runs, "--json"]));
  // b = 1 with a tiny k1 changes nothing on this set; what matters is that both runs pair up.
  const b = jsonOf<{ run: string }>(strata(["eval", "retrieval", "--beir", dir, "--runs", runs, "--k1", "0.1", "--b", "1", "--json"]));
  const c = strata(["eval", "compare", a.run, b.run, "--runs", runs, "--json"]);
  assert.equal(c.code, 0, c.stderr);
  const cmp = jsonOf<{ common: number; metrics: { metric: string; n: number }[] }>(c);
  assert.equal(cmp.common, 3);
  assert.ok(cmp.metrics.some((m) => m.metric === "ndcg_at_10" && m.n === 3), JSON.stringify(cmp.metrics));
});

test("eval retrieval: a missing split and a missing folder are clear errors", () => {
  const dir = tinyBeir("tiny");
  const r = strata(["eval", "retrieval", "--beir", dir, "--split", "dev"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: .*dev/);
  assert.match(r.stderr, /hint: .*test/);
  assert.equal(strata(["eval", "retrieval", "--beir", join(dir, "nope")]).code, 1);
  assert.equal(strata(["eval", "retrieval", "--beir", dir, "--k1", "-3"]).code, 2);
});

test("SciFact test split: nDCG@10 at or above the published BM25 baseline (0.665)", (t) => {
  const scifact = sharedData("scifact");
  if (!scifact) return t.skip("../shared/data/scifact is missing");
  const r = strata(["eval", "retrieval", "--beir", scifact, "--split", "test", "--json"], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const j = jsonOf<EvalJson>(r);
  assert.equal(j.queries, 300);
  assert.ok(j.ndcg_at_10 >= 0.665, `nDCG@10 ${j.ndcg_at_10}`);
  assert.ok(j.recall_at_100 >= 0.9, `Recall@100 ${j.recall_at_100}`);
});
