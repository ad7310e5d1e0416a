// QA reports published by the real `strata eval qa --publish`, and the compare view's route: two
// reports side by side with headline deltas, a paired bootstrap interval over their per-item
// figures and the items that changed most; reports of different kinds are refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lmReportInput, publishReport, qaReportInput } from "../../src/eval/published-reports.js";
import { tempDir } from "../helpers/paths.js";
import { runStrata } from "./cli-process.js";
import { startTestServer, type TestServer } from "./helpers.js";

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t?.close();
});


test("strata eval qa --publish lists a qa report; the compare route pairs two of them", async () => {
  const dir = tempDir();
  const data = join(dir, "qa.jsonl");
  writeFileSync(
    data,
    [
      { id: "q1", question: "Who led the Normans into Normandy?", answers: ["Rollo"], contexts: ["Rollo led the Normans into Normandy in 911."] },
      { id: "q2", question: "Where did the Normans settle?", answers: ["Normandy"], contexts: ["The Normans settled in Normandy, a region of France."] },
      { id: "q3", question: "Who was the first king of Mars?", answers: [] },
    ]
      .map((o) => JSON.stringify(o))
      .join("\n"),
  );
  const one = await runStrata(["eval", "qa", "--data", data, "--publish", t.dataDir, "--runs", join(dir, "runs"), "--json"]);
  assert.equal(one.code, 0, one.stderr);
  const first = JSON.parse(one.stdout) as { publishedReport: string; summary: Record<string, number> };
  const two = await runStrata(["eval", "qa", "--data", data, "--system", "baseline", "--publish", t.dataDir, "--runs", join(dir, "runs"), "--json"]);
  assert.equal(two.code, 0, two.stderr);
  const second = JSON.parse(two.stdout) as { publishedReport: string };

  const listed = (await t.client.get("/api/eval-reports", t.adminKey)).json<{ id: string; kind: string; metrics: Record<string, number> }[]>();
  const row = listed.find((r) => r.id === first.publishedReport);
  assert.equal(row?.kind, "qa");
  assert.equal(row?.metrics.f1, first.summary.f1);
  const report = (await t.client.get(`/api/eval-reports/${first.publishedReport}`, t.adminKey)).json<{ perItem: { id: string }[] }>();
  assert.deepEqual(report.perItem.map((i) => i.id), ["q1", "q2", "q3"]);
  const html = await t.client.get(`/api/eval-reports/${first.publishedReport}/html`, t.adminKey);
  assert.match(html.text, /Who led the Normans into Normandy\?/);

  const c = await t.client.get(`/api/eval-reports/compare?a=${first.publishedReport}&b=${second.publishedReport}`, t.adminKey);
  assert.equal(c.status, 200, c.text);
  const body = c.json<{ metrics: { metric: string; delta: number }[]; paired: { metric: string; n: number } | null; changed: { id: string }[] }>();
  assert.equal(body.paired?.metric, "f1");
  assert.equal(body.paired?.n, 3);
  // the changed items are exactly those whose F1 differs between the two reports
  const other = (await t.client.get(`/api/eval-reports/${second.publishedReport}`, t.adminKey)).json<{ perItem: { id: string; f1: number }[] }>();
  const f1Of = new Map(other.perItem.map((i) => [i.id, i.f1]));
  const differ = (report as unknown as { perItem: { id: string; f1: number }[] }).perItem.filter((i) => f1Of.get(i.id) !== i.f1).map((i) => i.id);
  assert.deepEqual(body.changed.map((i) => i.id).sort(), differ.sort());
  assert.ok(body.metrics.some((m) => m.metric === "abstention_recall"));
});

test("the compare route refuses reports of different kinds and bad ids", async () => {
  const qa = publishReport(t.dataDir, qaReportInput({ id: "r", dataset: "d", items: [{ id: "q", metrics: { f1: 1, abstained: 0 } }], summary: { f1: 1 } }));
  const lm = publishReport(t.dataDir, lmReportInput({ model: "m", data: "d.txt", tokens: 10, loss: 1, perplexity: 2.7, window: 8, seconds: 1 }));
  const r = await t.client.get(`/api/eval-reports/compare?a=${qa.id}&b=${lm.id}`, t.adminKey);
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, /same kind/);
  assert.equal((await t.client.get(`/api/eval-reports/compare?a=..&b=${lm.id}`, t.adminKey)).status, 400);
});
