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
  const r = strata(["eval", "retrieval", "--beir", dir, "--report", report, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const j = jsonOf<EvalJson>(r);
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
