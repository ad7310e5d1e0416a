// The login path under attack: bogus tokens cost microseconds (a key-id or env-key pre-check before
// any scrypt), failures are counted before the hash so a concurrent burst cannot slip past the
// limit, a valid key is never locked out by someone else's failures, X-Forwarded-For counts only
// from configured proxies, and keys from schema 1 keep working (migrated to a fast check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startTestServer } from "./helpers.js";

const bogusEnvStyle = (i: number): string => `not-a-key-${i}-${"x".repeat(24 + (i % 1000))}`;

/** 1,000 concurrent requests with bogus env-style tokens from a child process: [{status, ms}]. */
function floodFromChild(url: string, n: number): Promise<{ status: number; ms: number }[]> {
  const script = `
    const n = ${n};
    const one = async (i) => { const s = performance.now(); const r = await fetch(${JSON.stringify(url)} + "/api/me", { headers: { authorization: "Bearer not-a-key-" + i + "-" + "x".repeat(24 + i) } }); await r.text(); return { status: r.status, ms: performance.now() - s }; };
    Promise.all(Array.from({ length: n }, (_, i) => one(i))).then((r) => process.stdout.write(JSON.stringify(r)));`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ["-e", script], { maxBuffer: 16 << 20 }, (e, out) => (e ? reject(e) : resolve(JSON.parse(out) as { status: number; ms: number }[]))),
  );
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? 0;
}

test("1,000 concurrent bogus tokens: none costs a hash, and a valid user's request stays fast", async (c) => {
  const t = await startTestServer({ authFailureLimit: 30 });
  try {
    await t.client.post("/api/users", t.adminKey, { name: "dana", groups: [] });
    const dana = (await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read"] })).json<{ key: string }>().key;
    // The flood comes from another process, as it would, so the timings are the server's.
    const t0 = performance.now();
    const flood = floodFromChild(t.client.url, 1000);
    let finished = false;
    void flood.finally(() => (finished = true)).catch(() => undefined);
    // The valid user keeps asking, every 50 ms, for as long as the flood lasts.
    const valid: number[] = [];
    while (!finished) {
      for (const key of [dana, t.adminKey]) {
        const s = performance.now();
        assert.equal((await t.client.get("/api/me", key)).status, 200, "a valid key is not locked out by the flood from its own address");
        valid.push(performance.now() - s);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const results = await flood;
    const wall = performance.now() - t0;
    const unauthorized = results.filter((r) => r.status === 401).length;
    const limited = results.filter((r) => r.status === 429).length;
    assert.equal(unauthorized + limited, 1000);
    assert.ok(unauthorized <= 30, `${unauthorized} bogus tokens got 401: the limit of 30 was not counted before answering`);
    c.diagnostic(`flood: 1000 concurrent bogus tokens in ${wall.toFixed(0)} ms (p99 ${p99(results.map((r) => r.ms)).toFixed(0)} ms; ${unauthorized} × 401, ${limited} × 429); valid user: ${valid.length} requests, p99 ${p99(valid).toFixed(0)} ms, worst ${Math.max(...valid).toFixed(0)} ms`);
    assert.ok(p99(valid) < 2000, `a valid user's requests took p99 ${p99(valid).toFixed(0)} ms during the flood`);
  } finally {
    await t.close();
  }
});

test("a key that needs scrypt reserves its failure first: a concurrent burst gets at most the limit of hashes", async () => {
  const t = await startTestServer({ authFailureLimit: 10 });
  try {
    await t.client.post("/api/users", t.adminKey, { name: "dana", groups: [] });
    const made = (await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read"] })).json<{ id: string; key: string }>();
    // A key from before schema 2 has no fast check: forget it, as an upgraded server.db would.
    const db = new Database(join(t.dataDir, "server.db"));
    db.prepare("UPDATE api_keys SET check_hash = NULL WHERE id = ?").run(made.id);
    db.close();
    const guesses = Array.from({ length: 60 }, (_, i) => t.client.get("/api/me", `strata_${made.id}_${String(i).padStart(43, "A")}`));
    const statuses = (await Promise.all(guesses)).map((r) => r.status);
    assert.ok(statuses.filter((s) => s === 401).length <= 10, `statuses: ${statuses.join(",")}`);
    assert.ok(statuses.filter((s) => s === 429).length >= 50);
    const limited = (await Promise.all(guesses))[59]!;
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
  } finally {
    await t.close();
  }
});

test("a valid key is never locked out by failures from its address, and a migrated key gets its fast check", async () => {
  const t = await startTestServer({ authFailureLimit: 5 });
  try {
    await t.client.post("/api/users", t.adminKey, { name: "dana", groups: [] });
    const made = (await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read"] })).json<{ id: string; key: string }>();
    for (let i = 0; i < 20; i++) await t.client.get("/api/me", bogusEnvStyle(i));
    assert.equal((await t.client.get("/api/me", bogusEnvStyle(99))).status, 429);
    assert.equal((await t.client.get("/api/me", made.key)).status, 200);
    assert.equal((await t.client.get("/api/me", t.adminKey)).status, 200);
    // A wrong secret for a real key id fails at the fast check, counted against the address.
    assert.equal((await t.client.get("/api/me", `strata_${made.id}_${"B".repeat(43)}`)).status, 429);
  } finally {
    await t.close();
  }
});

test("--trust-proxy: X-Forwarded-For names the client only when the peer is a configured proxy", async () => {
  const flood = async (t: Awaited<ReturnType<typeof startTestServer>>, client: string) => {
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await t.client.request("GET", "/api/me", { key: bogusEnvStyle(i), headers: { "x-forwarded-for": client } })).status;
    return last;
  };
  const trusted = await startTestServer({ authFailureLimit: 3, trustProxy: ["127.0.0.1"] });
  try {
    assert.equal(await flood(trusted, "203.0.113.5"), 429);
    // Another client behind the same proxy is not locked out by the first one's failures.
    assert.equal((await trusted.client.request("GET", "/api/me", { key: bogusEnvStyle(7), headers: { "x-forwarded-for": "203.0.113.6" } })).status, 401);
  } finally {
    await trusted.close();
  }
  const untrusted = await startTestServer({ authFailureLimit: 3 });
  try {
    assert.equal(await flood(untrusted, "203.0.113.5"), 429);
    // Without --trust-proxy the header is ignored: a forged one does not reset the count.
    assert.equal((await untrusted.client.request("GET", "/api/me", { key: bogusEnvStyle(7), headers: { "x-forwarded-for": "203.0.113.6" } })).status, 429);
  } finally {
    await untrusted.close();
  }
});

test("a server.db of schema 1 is migrated and its keys keep working", async () => {
  const t = await startTestServer();
  const dataDir = t.dataDir;
  await t.client.post("/api/users", t.adminKey, { name: "dana", groups: [] });
  const made = (await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read"] })).json<{ id: string; key: string }>();
  await t.close();
  const db = new Database(join(dataDir, "server.db"));
  db.exec("ALTER TABLE api_keys DROP COLUMN check_hash; UPDATE meta SET value = '1' WHERE key = 'schema_version';");
  db.close();
  const again = await startTestServer({ dataDir });
  try {
    assert.equal((await again.client.get("/api/me", made.key)).status, 200);
    const check = new Database(join(dataDir, "server.db"), { readonly: true });
    assert.equal((check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, "2");
    assert.match((check.prepare("SELECT check_hash FROM api_keys WHERE id = ?").get(made.id) as { check_hash: string }).check_hash, /^[0-9a-f]{64}$/);
    check.close();
  } finally {
    await again.close();
  }
});
