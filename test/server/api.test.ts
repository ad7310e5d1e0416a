// The Strata API route by route: knowledge bases, uploads (JSON and SSE progress, unsafe names,
// size limits), documents (show with page spans, delete), search, ask (JSON and SSE, conversations
// that continue, usage and cost per key), the OpenAPI document, the web UI, errors
// and timeouts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makePdf, textLines } from "../knowledge/loaders/fixtures.js";
import { tempDir } from "../helpers/paths.js";
import { hang, replyError, routes, startOpenAiServer } from "../helpers/openai-server.js";
import { fixture, parseSse, startTestServer, uploadForm, type TestServer } from "./helpers.js";

let t: TestServer;
let reader: string;
let writer: string;

before(async () => {
  t = await startTestServer({ model: true, uploadLimit: 256 * 1024, bodyLimit: 64 * 1024 });
  await t.client.post("/api/users", t.adminKey, { name: "dana", groups: ["research"] });
  reader = (await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read"] })).json<{ key: string }>().key;
  writer = (await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read", "ingest"] })).json<{ key: string }>().key;
  assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "docs", members: { users: [], groups: ["research"] } })).status, 201);
});
after(async () => {
  await t?.close();
});

const errorOf = (r: { json<T>(): T }) => r.json<{ error: { code: string; message: string; hint: string } }>().error;
const upload = (files: { name: string; bytes: Buffer }[], fields: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  t.client.request("POST", "/api/kbs/docs/documents", { key: writer, form: uploadForm(files, fields), headers });

test("knowledge bases: create, refuse duplicates and bad names, change members, delete with its folder", async () => {
  const dup = await t.client.post("/api/kbs", t.adminKey, { name: "docs" });
  assert.equal(dup.status, 409);
  assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "../evil" })).status, 400);
  assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "tmp", members: { users: ["dana"] } })).status, 201);
  assert.ok(existsSync(join(t.dataDir, "kbs", "tmp", "strata.db")));
  const kbs = (await t.client.get("/api/kbs", reader)).json<{ name: string; members: { users: string[]; groups: string[] } }[]>();
  assert.deepEqual(kbs.map((k) => k.name), ["docs", "tmp"]);
  const put = await t.client.request("PUT", "/api/kbs/tmp/members", { key: t.adminKey, body: { users: [], groups: ["nobody"] } });
  assert.deepEqual(put.json(), { users: [], groups: ["nobody"] });
  assert.deepEqual((await t.client.get("/api/kbs", reader)).json<{ name: string }[]>().map((k) => k.name), ["docs"]);
  assert.deepEqual((await t.client.del("/api/kbs/tmp", t.adminKey)).json(), { deleted: "tmp" });
  assert.ok(!existsSync(join(t.dataDir, "kbs", "tmp")));
  assert.equal((await t.client.del("/api/kbs/tmp", t.adminKey)).status, 404);
});

test("upload: a JSON report; the same file again is unchanged; names with paths are refused and nothing is written outside", async () => {
  const guide = { name: "museum-guide.md", bytes: fixture("public/museum-guide.md") };
  const r = await upload([guide, { name: "history.html", bytes: fixture("public/history.html") }], { tags: "public,guide" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json(), { added: 2, updated: 0, unchanged: 0, removed: 0, failed: [], embedded: r.json<{ embedded: number }>().embedded });
  assert.ok(r.json<{ embedded: number }>().embedded > 0, "chunks embedded with the server's embedding model");
  assert.equal((await upload([guide], { tags: "public,guide" })).json<{ unchanged: number }>().unchanged, 1);

  const before = readdirSync(t.dataDir).sort();
  const evil = await upload([
    { name: "../../escape.md", bytes: Buffer.from("# Escape\n\nNo.\n") },
    { name: "..\\..\\escape.md", bytes: Buffer.from("# Escape\n\nNo.\n") },
    { name: "/etc/passwd.md", bytes: Buffer.from("# Escape\n\nNo.\n") },
    { name: "..", bytes: Buffer.from("x") },
    { name: ".hidden.md", bytes: Buffer.from("# H\n\nNo.\n") },
    { name: "bell\u0007.md", bytes: Buffer.from("# B\n\nNo.\n") },
    { name: "tool.exe", bytes: Buffer.from("MZ\u0000\u0000") },
  ]);
  assert.equal(evil.status, 200);
  const report = evil.json<{ added: number; failed: { source: string; code: string; message: string }[] }>();
  assert.equal(report.added, 0);
  assert.deepEqual(report.failed.map((f) => f.code), ["USAGE", "USAGE", "USAGE", "USAGE", "USAGE", "USAGE", "UNSUPPORTED_TYPE"]);
  assert.match(report.failed[0]!.message, /path separator/);
  assert.deepEqual(readdirSync(t.dataDir).sort(), before);
  assert.ok(!existsSync(join(t.dataDir, "..", "escape.md")));
  const sources = (await t.client.get("/api/kbs/docs/documents", reader)).json<{ source: string; tags: string[] }[]>();
  assert.deepEqual(sources.map((d) => d.source), ["upload://dana/history.html", "upload://dana/museum-guide.md"]);
  assert.deepEqual(sources[0]!.tags, ["guide", "public"]);
});

test("upload with Accept: text/event-stream: a progress event per file, then done with the report", async () => {
  const r = await upload(
    [
      { name: "a.md", bytes: Buffer.from("# Alpha\n\nThe alpha document mentions quokkas.\n") },
      { name: "b.txt", bytes: Buffer.from("Beta notes about wombats.\n") },
      { name: "empty.md", bytes: Buffer.alloc(0) },
    ],
    { acl_groups: "research" },
    { accept: "text/event-stream" },
  );
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = parseSse(r.text);
  assert.deepEqual(events.filter((e) => e.event === "progress").map((e) => e.data), [
    { done: 1, total: 3, item: "a.md" },
    { done: 2, total: 3, item: "b.txt" },
    { done: 3, total: 3, item: "empty.md" },
  ]);
  const done = events.find((e) => e.event === "done")!.data as { added: number; failed: { code: string }[] };
  assert.equal(done.added, 2);
  assert.deepEqual(done.failed.map((f) => f.code), ["EMPTY_FILE"]);
});

test("size limits: an upload over --upload-limit and a JSON body over --body-limit are 413; a non-multipart upload is 415", async () => {
  const big = await upload([{ name: "big.txt", bytes: Buffer.alloc(300 * 1024, "a") }]);
  assert.equal(big.status, 413);
  assert.equal(errorOf(big).code, "PAYLOAD_TOO_LARGE");
  const several = await upload([1, 2, 3].map((i) => ({ name: `p${i}.txt`, bytes: Buffer.alloc(100 * 1024, "b") })));
  assert.equal(several.status, 413, "the limit counts all files together");
  const body = await t.client.post("/api/kbs/docs/search", reader, { query: "x".repeat(100), pad: "y".repeat(70 * 1024) });
  assert.equal(body.status, 413);
  assert.equal(errorOf(body).code, "PAYLOAD_TOO_LARGE");
  const json = await t.client.post("/api/kbs/docs/documents", writer, { files: [] });
  assert.equal(json.status, 415);
  const notJson = await t.client.request("POST", "/api/kbs/docs/search", { key: reader, body: "{not json", headers: { "content-type": "application/json" } });
  assert.equal(notJson.status, 400);
  assert.equal(errorOf(notJson).code, "USAGE");
});

test("documents: show returns the text, ACL and page spans of a PDF; delete removes it", async () => {
  // Two pages of about 1,500 characters each, so each page starts a chunk of its own.
  const filler = (p: number) => Array.from({ length: 24 }, (_, i) => `Ledger page ${p} line ${i + 1} records cargo, weather and crew of the day.`);
  const pdf = makePdf([textLines(["The ferry sails at noon.", ...filler(1)], { leading: 20 }), textLines(["The lighthouse keeper logs the tides.", ...filler(2)], { leading: 20 })], "Harbour Ledger");
  const up = await upload([{ name: "ledger.pdf", bytes: pdf }], { acl_users: "dana" });
  assert.equal(up.json<{ added: number }>().added, 1, up.text);
  const list = (await t.client.get("/api/kbs/docs/documents", reader)).json<{ docId: string; source: string; mime: string; acl: { users: string[] } }[]>();
  const ledger = list.find((d) => d.source.endsWith("ledger.pdf"))!;
  assert.deepEqual(ledger.acl.users, ["dana"]);
  const show = await t.client.get(`/api/kbs/docs/documents/${ledger.docId}`, reader);
  const doc = show.json<{ title: string; text: string; hash: string; version: number; pages: { page: number; start: number; end: number }[] }>();
  assert.equal(doc.title, "Harbour Ledger");
  assert.deepEqual(doc.pages.map((p) => p.page), [1, 2]);
  assert.match(doc.text.slice(doc.pages[1]!.start, doc.pages[1]!.end), /lighthouse keeper/);
  assert.match(doc.hash, /^[0-9a-f]{64}$/);
  // A hit's page is where its chunk starts; the page of any position comes from the spans.
  const hit = (await t.client.post("/api/kbs/docs/search", reader, { query: "lighthouse keeper tides" })).json<{ results: { docId: string; start: number; end: number; text: string }[] }>().results[0]!;
  assert.equal(hit.docId, ledger.docId);
  const at = hit.start + hit.text.indexOf("lighthouse keeper");
  assert.equal(doc.pages.find((p) => p.start <= at && at < p.end)!.page, 2);
  assert.equal((await t.client.del(`/api/kbs/docs/documents/${ledger.docId}`, reader)).status, 403, "read scope cannot delete");
  assert.deepEqual((await t.client.del(`/api/kbs/docs/documents/${ledger.docId}`, writer)).json(), { deleted: ledger.docId });
  assert.equal((await t.client.get(`/api/kbs/docs/documents/${ledger.docId}`, reader)).status, 404);
});

test("search: ranked hits in the contract's shape; bad input is a 400 that names the field", async () => {
  const r = await t.client.post("/api/kbs/docs/search", reader, { query: "standard admission price", k: 3 });
  assert.equal(r.status, 200);
  const hit = r.json<{ results: Record<string, unknown>[] }>().results[0]!;
  assert.deepEqual(Object.keys(hit).sort(), ["chunkId", "docId", "end", "headingPath", "page", "rank", "score", "source", "start", "text", "title"]);
  assert.equal(hit.rank, 1);
  for (const [body, field] of [[{ query: "" }, "query"], [{ query: "x", k: 0 }, "k"], [{ query: "x", mode: "psychic" }, "mode"], [{ query: "x", extra: 1 }, "extra"]] as const) {
    const bad = await t.client.post("/api/kbs/docs/search", reader, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.match(errorOf(bad).message, new RegExp(field));
  }
  const tooLong = await t.client.post("/api/kbs/docs/search", reader, { query: "word ".repeat(1000) });
  assert.equal(tooLong.status, 400);
});

test("ask: JSON with verified citations; SSE deltas then the answer; the conversation continues and is stored with its citations", async () => {
  const a = await t.client.post("/api/kbs/docs/ask", reader, { question: "How much does a standard admission cost?" });
  assert.equal(a.status, 200, a.text);
  const first = a.json<{ answer: string; mode: string; supported: boolean; citations: { docId: string; start: number; end: number; quote: string }[]; conversationId: string; traceId: string; model: string; usage: { inputTokens: number } }>();
  assert.equal(first.mode, "generative");
  assert.equal(first.model, "scripted");
  assert.equal(first.supported, true);
  assert.match(first.conversationId, /^conv_[0-9a-f]{24}$/);
  assert.match(first.traceId, /^trc_/);
  const c = first.citations[0]!;
  const text = (await t.client.get(`/api/kbs/docs/documents/${c.docId}`, reader)).json<{ text: string }>().text;
  assert.equal(text.slice(c.start, c.end), c.quote, "a citation is an exact span of the document");

  const s = await t.client.post("/api/kbs/docs/ask", reader, { question: "When do lantern walks begin?", conversationId: first.conversationId }, { accept: "text/event-stream" });
  assert.equal(s.status, 200);
  const events = parseSse(s.text);
  const deltas = events.filter((e) => e.event === "delta").map((e) => (e.data as { text: string }).text).join("");
  const answer = events.find((e) => e.event === "answer")!.data as { answer: string; conversationId: string };
  assert.equal(events[events.length - 1]!.event, "answer");
  assert.equal(deltas, answer.answer, "the streamed text is the answer");
  assert.equal(answer.conversationId, first.conversationId);

  const conv = await t.client.get(`/api/conversations/${first.conversationId}`, reader);
  const body = conv.json<{ kb: string; messages: { role: string; content: string; citations?: unknown[] }[]; turns: unknown[] }>();
  assert.equal(body.kb, "docs");
  assert.deepEqual(body.messages.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
  assert.ok((body.messages[1]!.citations ?? []).length > 0);
  assert.equal(body.turns.length, 2);
  const list = (await t.client.get("/api/conversations", reader)).json<{ id: string; kb: string; title: string; messages: number; updatedAt: string }[]>();
  const listed = list.find((x) => x.id === first.conversationId)!;
  assert.deepEqual([listed.kb, listed.title, listed.messages], ["docs", "How much does a standard admission cost?", 4]);
  assert.equal(list[0]!.id, first.conversationId, "most recent first");
  const trace = await t.client.get(`/api/traces/${first.traceId}`, reader);
  assert.deepEqual(trace.json<{ spans: { name: string }[] }>().spans.map((x) => x.name), ["retrieve", "assemble", "generate", "verify"]);

  assert.equal((await t.client.post("/api/kbs/docs/ask", reader, { question: "x?", conversationId: "conv_unknown" })).status, 404);
  const badModel = await t.client.post("/api/kbs/docs/ask", reader, { question: "x?", model: "gpt-9" }, { accept: "text/event-stream" });
  assert.equal(badModel.status, 404, "refused before the stream opens");
  assert.match(errorOf(badModel).hint, /scripted/);
});

test("usage: requests, tokens and cost per key; a user sees only their own keys, an admin all", async () => {
  const mine = (await t.client.get("/api/usage", reader)).json<{ keyId: string; user: string; requests: number; inputTokens: number; outputTokens: number }[]>();
  assert.ok(mine.every((u) => u.user === "dana"));
  const readerUsage = mine.find((u) => u.inputTokens > 0)!;
  assert.ok(readerUsage.requests >= 5);
  assert.ok(readerUsage.outputTokens >= 24, "two answers of 12 tokens each");
  const all = (await t.client.get("/api/usage", t.adminKey)).json<{ user: string }[]>();
  assert.ok(all.some((u) => u.user === "admin") && all.some((u) => u.user === "dana"));
});

test("/openapi.json documents every route with its schemas and the scope it needs", async () => {
  const r = await t.client.get("/openapi.json");
  assert.equal(r.status, 200);
  const doc = r.json<{ openapi: string; paths: Record<string, Record<string, { security?: unknown[]; "x-strata-scope"?: string; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> }>();
  assert.equal(doc.openapi, "3.1.0");
  const expected = [
    "get /api/me", "post /api/users", "get /api/users", "put /api/users/{name}", "post /api/keys", "get /api/keys", "delete /api/keys/{id}",
    "get /api/kbs", "post /api/kbs", "delete /api/kbs/{kb}", "put /api/kbs/{kb}/members", "get /api/kbs/{kb}/documents", "post /api/kbs/{kb}/documents",
    "get /api/kbs/{kb}/documents/{docId}", "delete /api/kbs/{kb}/documents/{docId}", "post /api/kbs/{kb}/search", "post /api/kbs/{kb}/ask",
    "get /api/conversations", "get /api/conversations/{id}", "get /api/traces/{id}", "get /api/usage", "get /api/agent-runs", "get /api/training-runs", "get /api/eval-reports",
    "get /api/eval-reports/{id}", "get /api/eval-reports/{id}/html", "delete /api/eval-reports/{id}", "get /api/eval-reports/compare",
    "post /api/agent-runs", "get /api/agent-runs/{id}", "get /api/agent-runs/{id}/events", "post /api/agent-runs/{id}/approve", "post /api/agent-runs/{id}/reject", "post /api/agent-runs/{id}/resume",
    "post /api/training-runs", "get /api/training-runs/{id}", "delete /api/training-runs/{id}", "get /api/training-runs/{id}/events", "post /api/training-runs/{id}/stop", "post /api/training-runs/{id}/resume",
    "get /v1/models", "get /v1/models/{model}", "post /v1/chat/completions", "post /v1/embeddings", "get /api/health", "get /openapi.json",
  ];
  const have = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
  assert.deepEqual([...have].sort(), [...expected].sort());
  assert.equal(doc.paths["/api/kbs/{kb}/search"]!.post!["x-strata-scope"], "read");
  assert.ok(doc.paths["/api/kbs/{kb}/search"]!.post!.requestBody!.content["application/json"]!.schema.properties!.query);
  assert.ok(doc.paths["/api/kbs/{kb}/documents"]!.post!.requestBody!.content["multipart/form-data"]);
  assert.equal(doc.paths["/openapi.json"]!.get!.security, undefined);
});

test("web UI: a plain page when web/dist is missing; with a build, files, client-side routes and no escape from the folder", async () => {
  const plain = await t.client.get("/");
  assert.equal(plain.status, 200);
  assert.match(plain.text, /UI is not built/);
  const web = tempDir("strata-web-");
  mkdirSync(join(web, "assets"));
  writeFileSync(join(web, "index.html"), "<!doctype html><title>Strata UI</title><script type=module src=/assets/app.js></script>");
  writeFileSync(join(web, "assets", "app.js"), "console.log('ui')");
  writeFileSync(join(web, "..", "secret.txt"), "outside");
  const u = await startTestServer({ webRoot: web });
  try {
    const index = await u.client.get("/");
    assert.match(index.text, /Strata UI/);
    assert.match(index.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(index.headers.get("x-content-type-options"), "nosniff");
    const js = await u.client.get("/assets/app.js");
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.match((await u.client.get("/chat/some-conversation")).text, /Strata UI/, "client-side routes get index.html");
    assert.equal((await u.client.get("/assets/missing.js")).status, 404);
    for (const p of ["/../secret.txt", "/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt"]) {
      const r = await u.client.get(p);
      assert.ok(!r.text.includes("outside"), p);
    }
  } finally {
    await u.close();
  }
});

test("errors: unknown routes are 404 in the Strata shape on /api and OpenAI's on /v1", async () => {
  const api = await t.client.get("/api/nothing", reader);
  assert.deepEqual(Object.keys(errorOf(api)).sort(), ["code", "hint", "message"]);
  const v1 = await t.client.get("/v1/nothing", reader);
  assert.equal(v1.status, 404);
  assert.equal(v1.json<{ error: { type: string } }>().error.type, "not_found_error");
});

test("a request that runs past --timeout is cancelled with 504 TIMEOUT", async () => {
  const stuck = await startOpenAiServer(routes({ chat: hang() }));
  const s = await startTestServer({ model: true, upstream: stuck, timeoutMs: 500 });
  try {
    await s.client.post("/api/kbs", s.adminKey, { name: "k", members: { users: ["admin"] } });
    await s.client.request("POST", "/api/kbs/k/documents", { key: s.adminKey, form: uploadForm([{ name: "g.md", bytes: fixture("public/museum-guide.md") }]) });
    const r = await s.client.post("/api/kbs/k/ask", s.adminKey, { question: "How much does a standard admission cost?" });
    assert.equal(r.status, 504);
    assert.equal(errorOf(r).code, "TIMEOUT");
  } finally {
    await s.close();
    await stuck.close();
  }
});

test("a failing model is a 502 whose message does not reveal the model server's address", async () => {
  const broken = await startOpenAiServer(routes({ chat: replyError(401, "invalid upstream credentials") }));
  const s = await startTestServer({ model: true, upstream: broken });
  try {
    await s.client.post("/api/kbs", s.adminKey, { name: "k", members: { users: ["admin"] } });
    await s.client.request("POST", "/api/kbs/k/documents", { key: s.adminKey, form: uploadForm([{ name: "g.md", bytes: fixture("public/museum-guide.md") }]) });
    const r = await s.client.post("/api/kbs/k/ask", s.adminKey, { question: "How much does a standard admission cost?" });
    assert.equal(r.status, 502);
    assert.equal(errorOf(r).code, "MODEL_AUTH");
    const port = new URL(broken.url).port;
    assert.ok(!r.text.includes(port), "no upstream address in the answer");
    const v1 = await s.client.post("/v1/chat/completions", s.adminKey, { model: "scripted", messages: [{ role: "user", content: "hi" }] });
    assert.equal(v1.status, 502);
    assert.equal(v1.json<{ error: { type: string } }>().error.type, "server_error");
    assert.ok(!v1.text.includes(port));
    assert.match(s.logs.text, /MODEL_AUTH/, "the cause is in the log");
  } finally {
    await s.close();
    await broken.close();
  }
});
