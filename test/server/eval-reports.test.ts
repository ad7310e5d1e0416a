// Published evaluation reports over HTTP: reports written by the library writer and by the real
// `strata eval retrieval --publish` on a tiny BEIR folder are listed newest first, read as JSON and
// as a sandboxed HTML page, deleted by admins only; bad ids are refused before touching the disk;
// a damaged report.json is listed as damaged without breaking the list.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { lmReportInput, publishReport, REPORT_ID_PATTERN, retrievalReportInput, type PublishedReport } from "../../src/eval/published-reports.js";
import type { RetrievalEvalResult } from "../../src/eval/retrieval.js";
import { tinyBeir } from "../helpers/beir.js";
import { runStrata } from "./cli-process.js";
import { startTestServer, type TestServer } from "./helpers.js";

interface Summary { id: string; damaged: boolean; kind?: string; title?: string; metrics?: Record<string, number>; error?: string; createdAt?: string }

let t: TestServer;
let readerKey: string;

const result = (dataset: string, ndcg: number[]): RetrievalEvalResult => ({
  dataset,
  split: "test",
  queries: ndcg.length,
  ndcg_at_10: ndcg.reduce((a, b) => a + b, 0) / ndcg.length,
  recall_at_100: 1,
  mrr_at_10: 0.9,
  ms_per_query: 1.5,
  p50_ms: 1,
  p95_ms: 2,
  perQuery: ndcg.map((v, i) => ({ id: `q${i + 1}`, query: `question ${i + 1}`, ndcg_at_10: v, recall_at_100: 1, mrr_at_10: v, ms: 1, firstRelevantRank: 1, relevant: ["d1"], top: ["d1"] })),
});

before(async () => {
  t = await startTestServer();
  assert.equal((await t.client.post("/api/users", t.adminKey, { name: "rita", groups: [] })).status, 201);
  const k = await t.client.post("/api/keys", t.adminKey, { user: "rita", scopes: ["read"] });
  assert.equal(k.status, 201, k.text);
  readerKey = k.json<{ key: string }>().key;
});
after(async () => {
  await t?.close();
});


/** A raw GET whose path is sent exactly as written (fetch would resolve "..", hiding what the server does). */
function rawGet(path: string, key: string): Promise<{ status: number; body: string }> {
  const url = new URL(t.client.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: "GET", headers: { authorization: `Bearer ${key}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("reports published by the writer and by the CLI are listed newest first, and read as JSON", async () => {
  assert.deepEqual((await t.client.get("/api/eval-reports", readerKey)).json(), [], "an empty folder lists nothing");
  const older = publishReport(t.dataDir, retrievalReportInput(result("alpha", [1, 0.5, 0])), { now: new Date("2026-01-01T10:00:00Z") });
  const lm = publishReport(t.dataDir, lmReportInput({ model: "gguf:tiny.gguf", data: "/data/valid.txt", tokens: 300, loss: 2.5, perplexity: Math.exp(2.5), window: 100, seconds: 1 }, { windows: [{ index: 0, tokens: 100, loss: 2.4 }, { index: 1, tokens: 100, loss: 2.6 }, { index: 2, tokens: 100, loss: 2.5 }] }), { now: new Date("2026-01-02T10:00:00Z") });
  assert.match(older.id, REPORT_ID_PATTERN);
  assert.ok(older.id.startsWith("20260101-100000-"));

  const cli = await runStrata(["eval", "retrieval", "--beir", tinyBeir(), "--publish", t.dataDir, "--json"]);
  assert.equal(cli.code, 0, cli.stderr);
  const cliId = (JSON.parse(cli.stdout) as { publishedReport: string }).publishedReport;
  assert.match(cliId, REPORT_ID_PATTERN);
  assert.match(cli.stderr, new RegExp(`published: report ${cliId}`));
  assert.deepEqual(readdirSync(join(t.dataDir, "reports")).filter((n) => n.startsWith(".")), [], "no staging folder is left behind");

  const list = await t.client.get("/api/eval-reports", readerKey);
  assert.equal(list.status, 200, list.text);
  const rows = list.json<Summary[]>();
  assert.deepEqual(rows.map((r) => r.id), [cliId, lm.id, older.id], "newest first");
  assert.equal(rows[0]!.kind, "retrieval");
  assert.equal(rows[0]!.metrics!.ndcg_at_10, 1, "the CLI's tiny set is ranked perfectly");
  assert.equal(rows[1]!.kind, "lm");
  assert.equal(rows[1]!.metrics!.loss, 2.5);
  assert.equal(rows[2]!.metrics!.queries, 3);

  const one = await t.client.get(`/api/eval-reports/${older.id}`, readerKey);
  assert.equal(one.status, 200, one.text);
  const body = one.json<PublishedReport>();
  assert.equal(body.kind, "retrieval");
  assert.deepEqual(body.kind === "retrieval" ? body.perQuery.map((q) => q.ndcg_at_10) : [], [1, 0.5, 0]);
  assert.equal(body.hasHtml, false);
  const fromCli = (await t.client.get(`/api/eval-reports/${cliId}`, readerKey)).json<PublishedReport>();
  assert.equal(fromCli.hasHtml, true);
  assert.equal(fromCli.dataset, "tiny-beir");
  assert.match(fromCli.command ?? "", /--publish/);
  const lmBody = (await t.client.get(`/api/eval-reports/${lm.id}`, readerKey)).json<PublishedReport>();
  assert.deepEqual(lmBody.kind === "lm" ? lmBody.windows.map((w) => w.loss) : [], [2.4, 2.6, 2.5]);

  // The routes are in the OpenAPI document with their scopes.
  const doc = (await t.client.get("/openapi.json")).json<{ paths: Record<string, Record<string, { "x-strata-scope"?: string }>> }>();
  assert.equal(doc.paths["/api/eval-reports"]?.get?.["x-strata-scope"], "read");
  assert.equal(doc.paths["/api/eval-reports/{id}"]?.delete?.["x-strata-scope"], "admin");
  assert.ok(doc.paths["/api/eval-reports/{id}/html"]?.get);
});

test("the HTML page is served under a sandboxing CSP; a report without one is 404", async () => {
  const withHtml = publishReport(t.dataDir, retrievalReportInput(result("beta", [1, 1])), { html: "<!doctype html><title>r</title><p>hello</p><script>alert(1)</script>" });
  const r = await t.client.get(`/api/eval-reports/${withHtml.id}/html`, readerKey);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
  const csp = r.headers.get("content-security-policy") ?? "";
  assert.match(csp, /(^|; )sandbox( |;|$)/);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'none'/);
  assert.doesNotMatch(csp, /allow-same-origin/);
  assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, "only the renderer's own script (by hash) may run");
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  assert.match(r.text, /hello/);

  const without = publishReport(t.dataDir, retrievalReportInput(result("gamma", [0])));
  const missing = await t.client.get(`/api/eval-reports/${without.id}/html`, readerKey);
  assert.equal(missing.status, 404);
  assert.equal((await t.client.get("/api/eval-reports/20990101-000000-deadbeef", readerKey)).status, 404);
  assert.equal((await t.client.get("/api/eval-reports")).status, 401, "a key is needed");
});

test("bad and traversal ids are 400 before anything is read", async () => {
  for (const path of ["/api/eval-reports/..", "/api/eval-reports/..%2F..%2Fserver.db", "/api/eval-reports/..%2F", "/api/eval-reports/%2E%2E/html", "/api/eval-reports/20260101-000000-ABCDEF12", "/api/eval-reports/x"]) {
    const r = await rawGet(path, readerKey);
    assert.equal(r.status, 400, `${path}: ${r.body}`);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, "USAGE");
  }
  const del = await t.client.del("/api/eval-reports/..%2F..%2Fkbs", t.adminKey);
  assert.equal(del.status, 400);
  assert.ok(existsSync(join(t.dataDir, "server.db")));
});

test("only admins delete; a deleted report is gone from the list", async () => {
  const doomed = publishReport(t.dataDir, retrievalReportInput(result("doomed", [0.2])));
  const refused = await t.client.del(`/api/eval-reports/${doomed.id}`, readerKey);
  assert.equal(refused.status, 403, "a key without the admin scope gets FORBIDDEN, as on every admin route");
  assert.ok(existsSync(join(t.dataDir, "reports", doomed.id)));
  const ok = await t.client.del(`/api/eval-reports/${doomed.id}`, t.adminKey);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json(), { deleted: doomed.id });
  assert.equal(existsSync(join(t.dataDir, "reports", doomed.id)), false);
  assert.ok(!(await t.client.get("/api/eval-reports", readerKey)).json<Summary[]>().some((r) => r.id === doomed.id));
  assert.equal((await t.client.del(`/api/eval-reports/${doomed.id}`, t.adminKey)).status, 404);
});

test("a damaged report.json is listed as damaged with its error; the others still list", async () => {
  const good = publishReport(t.dataDir, retrievalReportInput(result("fine", [0.7])));
  const broken = publishReport(t.dataDir, retrievalReportInput(result("broken", [0.1])));
  writeFileSync(join(t.dataDir, "reports", broken.id, "report.json"), '{"format": "strata-eval-report", "kind": "retr');
  const wrongShape = publishReport(t.dataDir, retrievalReportInput(result("shape", [0.1])));
  writeFileSync(join(t.dataDir, "reports", wrongShape.id, "report.json"), JSON.stringify({ ...wrongShape, metrics: "high" }));
  const rows = (await t.client.get("/api/eval-reports", readerKey)).json<Summary[]>();
  const b = rows.find((r) => r.id === broken.id);
  assert.equal(b?.damaged, true);
  assert.match(b?.error ?? "", /not valid JSON/);
  const w = rows.find((r) => r.id === wrongShape.id);
  assert.equal(w?.damaged, true);
  assert.match(w?.error ?? "", /metrics/);
  assert.equal(rows.find((r) => r.id === good.id)?.damaged, false);
  assert.equal((await t.client.get(`/api/eval-reports/${broken.id}`, readerKey)).status, 500, "the damaged report itself cannot be read");
});
