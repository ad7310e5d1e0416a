// Caps on concurrent event streams: per key and per run, 429 with Retry-After past them, and a
// slot comes back when its stream closes.
import { test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { toApiError } from "../../src/server/errors.js";
import { EventStream } from "../../src/server/sse.js";
import { configureSseCaps } from "../../src/server/sse-caps.js";

async function streamingApp() {
  const app = Fastify({ forceCloseConnections: true });
  configureSseCaps(app, { perKey: 3, perRun: 4 });
  app.addHook("onRequest", async (request) => {
    const key = String(request.headers["x-key"] ?? "k1");
    request.caller = { keyId: key, user: key, groups: [], scopes: ["read"], principal: { user: key, groups: [] } };
  });
  app.setErrorHandler((e, _req, reply) => {
    const err = toApiError(e);
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    return reply.code(err.status).send({ error: { code: err.code } });
  });
  app.get("/runs/:id/events", async (request, reply) => {
    const s = new EventStream(reply, { run: (request.params as { id: string }).id });
    s.send("run", { ok: true }); // open until the client goes
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { app, url };
}

async function open(url: string, key: string, run: string): Promise<{ status: number; retryAfter: string | null; close: () => void }> {
  const ctl = new AbortController();
  const r = await fetch(`${url}/runs/${run}/events`, { headers: { "x-key": key, accept: "text/event-stream" }, signal: ctl.signal });
  if (r.status !== 200) await r.text();
  return { status: r.status, retryAfter: r.headers.get("retry-after"), close: () => ctl.abort() };
}

test("one key past its stream cap gets 429 with Retry-After; closing a stream frees its slot", async () => {
  const { app, url } = await streamingApp();
  try {
    const held = [await open(url, "k1", "a"), await open(url, "k1", "b"), await open(url, "k1", "c")];
    assert.deepEqual(held.map((h) => h.status), [200, 200, 200]);
    const over = await open(url, "k1", "d");
    assert.equal(over.status, 429);
    assert.ok(Number(over.retryAfter) > 0);
    const other = await open(url, "k2", "d");
    assert.equal(other.status, 200, "another key has its own count");
    other.close();
    held[0]!.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await open(url, "k1", "e");
    assert.equal(again.status, 200);
    for (const h of [...held, again]) h.close();
  } finally {
    await app.close();
  }
});

test("one run past its stream cap gets 429, whichever keys ask", async () => {
  const { app, url } = await streamingApp();
  try {
    const held = [];
    for (const k of ["a", "b", "c", "d"]) held.push(await open(url, k, "run-1"));
    assert.deepEqual(held.map((h) => h.status), [200, 200, 200, 200]);
    const over = await open(url, "e", "run-1");
    assert.equal(over.status, 429);
    const elsewhere = await open(url, "e", "run-2");
    assert.equal(elsewhere.status, 200);
    elsewhere.close();
    for (const h of held) h.close();
  } finally {
    await app.close();
  }
});
