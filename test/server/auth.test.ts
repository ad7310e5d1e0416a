// Authentication and authorization: missing, malformed, wrong, expired and revoked keys; scopes;
// keys stored only as scrypt hashes (server.db read directly); the first-start and env admin keys;
// rate limits per key and per address; CORS off by default; logs without secrets.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createStrataServer } from "../../src/server/index.js";
import { tempDir } from "../helpers/paths.js";
import { startTestServer, uploadForm, type TestServer } from "./helpers.js";

let t: TestServer;
const secrets: string[] = [];

before(async () => {
  t = await startTestServer();
  secrets.push(t.adminKey);
  for (const [name, groups] of [["dana", ["research"]], ["sam", []]] as const) assert.equal((await t.client.post("/api/users", t.adminKey, { name, groups })).status, 201);
});
after(async () => {
  await t?.close();
});

async function makeKey(user: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const r = await t.client.post("/api/keys", t.adminKey, { user, scopes, ...extra });
  assert.equal(r.status, 201, r.text);
  const k = r.json<{ id: string; key: string }>();
  secrets.push(k.key);
  return k;
}

const errorOf = (r: { json<T>(): T }) => r.json<{ error: { code: string; message: string; hint: string } }>().error;

test("requests without a valid key get 401 with the reason and a hint", async () => {
  const none = await t.client.get("/api/me");
  assert.equal(none.status, 401);
  assert.equal(errorOf(none).code, "UNAUTHORIZED");
  assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.ok(errorOf(none).hint.length > 0);
  assert.equal((await t.client.request("GET", "/api/me", { headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } })).status, 401);
  assert.equal((await t.client.get("/api/me", "strata_0123456789abcdef_" + "A".repeat(43))).status, 401, "unknown key id");
  const real = await makeKey("dana", ["read"]);
  const wrongSecret = real.key.slice(0, -4) + (real.key.endsWith("AAAA") ? "BBBB" : "AAAA");
  const wrong = await t.client.get("/api/me", wrongSecret);
  assert.equal(wrong.status, 401);
  assert.match(errorOf(wrong).message, /not valid/);
  // Unknown /api paths need a key too, so routes cannot be probed anonymously.
  assert.equal((await t.client.get("/api/no-such-route")).status, 401);
  assert.equal((await t.client.get("/api/no-such-route", real.key)).status, 404);
  // The OpenAI-compatible routes answer in OpenAI's error shape.
  const v1 = await t.client.get("/v1/models");
  assert.equal(v1.status, 401);
  assert.equal(v1.json<{ error: { type: string; code: string } }>().error.type, "authentication_error");
});

test("a revoked key stops working at its next request, even one the server has already verified", async () => {
  const k = await makeKey("dana", ["read"]);
  assert.equal((await t.client.get("/api/me", k.key)).status, 200);
  const revoke = await t.client.del(`/api/keys/${k.id}`, t.adminKey);
  assert.equal(revoke.status, 200);
  assert.ok(revoke.json<{ revokedAt: string | null }>().revokedAt);
  const after = await t.client.get("/api/me", k.key);
  assert.equal(after.status, 401);
  assert.match(errorOf(after).message, /revoked/);
  assert.equal((await t.client.del("/api/keys/0000000000000000", t.adminKey)).status, 404);
});

test("an expired key is refused; a key cannot be made already expired", async () => {
  const k = await makeKey("dana", ["read"], { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
  assert.equal((await t.client.get("/api/me", k.key)).status, 200);
  // Let its hour pass: move the expiry into the past in server.db, as time would.
  const db = new Database(join(t.dataDir, "server.db"));
  db.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").run("2001-01-01T00:00:00.000Z", k.id);
  db.close();
  const r = await t.client.get("/api/me", k.key);
  assert.equal(r.status, 401);
  assert.match(errorOf(r).message, /expired/);
  const past = await t.client.post("/api/keys", t.adminKey, { user: "dana", scopes: ["read"], expiresAt: "2001-01-01T00:00:00Z" });
  assert.equal(past.status, 400);
});

test("scopes: read, ingest and admin each open only their routes", async () => {
  const read = await makeKey("dana", ["read"]);
  const ingest = await makeKey("dana", ["ingest"]);
  const kb = await t.client.post("/api/kbs", t.adminKey, { name: "scoped", members: { users: ["dana"], groups: [] } });
  assert.equal(kb.status, 201);
  const upload = (key: string) => t.client.request("POST", "/api/kbs/scoped/documents", { key, form: uploadForm([{ name: "a.md", bytes: Buffer.from("# A\n\nAlpha text.\n") }]) });

  const forbidden = await t.client.post("/api/users", read.key, { name: "eve", groups: [] });
  assert.equal(forbidden.status, 403);
  assert.match(errorOf(forbidden).message, /admin scope/);
  assert.equal((await t.client.get("/api/keys", read.key)).status, 403);
  assert.equal((await t.client.post("/api/kbs", read.key, { name: "x" })).status, 403);
  assert.equal((await upload(read.key)).status, 403, "read cannot upload");
  assert.equal((await upload(ingest.key)).status, 200, "ingest can upload");
  assert.equal((await t.client.post("/api/kbs/scoped/search", ingest.key, { query: "alpha" })).status, 403, "ingest alone cannot search");
  assert.equal((await t.client.post("/api/kbs/scoped/search", read.key, { query: "alpha" })).status, 200);
  const me = await t.client.get("/api/me", ingest.key);
  assert.deepEqual(me.json(), { user: "dana", groups: ["research"], scopes: ["ingest"], keyId: ingest.id });
  assert.equal((await t.client.del("/api/kbs/scoped", read.key)).status, 403);
});

test("users: duplicates are a conflict; a group change applies at the user's next request", async () => {
  const dup = await t.client.post("/api/users", t.adminKey, { name: "dana", groups: [] });
  assert.equal(dup.status, 409);
  assert.equal(errorOf(dup).code, "CONFLICT");
  assert.equal((await t.client.post("/api/users", t.adminKey, { name: "../etc", groups: [] })).status, 400);
  const key = await makeKey("sam", ["read"]);
  await t.client.post("/api/kbs", t.adminKey, { name: "groups-kb", members: { users: [], groups: ["ops"] } });
  assert.equal((await t.client.post("/api/kbs/groups-kb/search", key.key, { query: "anything" })).status, 404, "not in ops yet");
  assert.equal((await t.client.request("PUT", "/api/users/sam", { key: t.adminKey, body: { groups: ["ops"] } })).status, 200);
  assert.equal((await t.client.post("/api/kbs/groups-kb/search", key.key, { query: "anything" })).status, 200, "member through the group now");
  assert.deepEqual((await t.client.get("/api/me", key.key)).json<{ groups: string[] }>().groups, ["ops"]);
});

test("keys are stored only as scrypt hashes: server.db holds no key, and listings never show one", async () => {
  const k = await makeKey("dana", ["read", "ingest"]);
  const list = await t.client.get("/api/keys", t.adminKey);
  assert.equal(list.status, 200);
  for (const s of secrets) assert.ok(!list.text.includes(s));
  assert.ok(!/hash|scrypt/.test(list.text), "no hashes in the listing either");
  const db = new Database(join(t.dataDir, "server.db"), { readonly: true });
  const rows = db.prepare("SELECT * FROM api_keys").all() as Record<string, unknown>[];
  db.close();
  assert.ok(rows.length >= secrets.length);
  for (const row of rows) assert.match(String(row.hash), /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  const secretPart = k.key.split("_").slice(2).join("_");
  for (const f of readdirSync(t.dataDir).filter((n) => n.startsWith("server.db"))) {
    const bytes = readFileSync(join(t.dataDir, f)).toString("latin1");
    for (const s of secrets) assert.ok(!bytes.includes(s), `${f} contains a key`);
    assert.ok(!bytes.includes(secretPart), `${f} contains a key's secret`);
  }
});

test("first start prints an admin key once; STRATA_ADMIN_KEY replaces an earlier env key", async () => {
  const dir = tempDir("strata-server-admin-");
  const first = await createStrataServer({ dataDir: dir, logger: false });
  assert.match(first.createdAdminKey ?? "", /^strata_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  await first.close();
  const second = await createStrataServer({ dataDir: dir, logger: false });
  assert.equal(second.createdAdminKey, undefined, "shown once");
  assert.equal(second.activeAdminKeys, 1);
  await second.close();

  const envDir = tempDir("strata-server-env-");
  const a = await startTestServer({ dataDir: envDir, adminKey: "env-key-one-0123456789abcdef" });
  assert.equal(a.server.createdAdminKey, undefined);
  assert.equal((await a.client.get("/api/me", "env-key-one-0123456789abcdef")).json<{ user: string }>().user, "admin");
  await a.close();
  const b = await startTestServer({ dataDir: envDir, adminKey: "env-key-two-0123456789abcdef" });
  assert.equal((await b.client.get("/api/me", "env-key-one-0123456789abcdef")).status, 401, "the old env key is revoked");
  assert.equal((await b.client.get("/api/me", "env-key-two-0123456789abcdef")).status, 200);
  await b.close();
  await assert.rejects(createStrataServer({ dataDir: tempDir(), adminKey: "short", logger: false }), /at least 24 characters/);
});

test("rate limits: 429 with Retry-After per key (other keys unaffected) and per address for failed authentications", async () => {
  const r = await startTestServer({ rateLimit: { max: 3, windowMs: 60_000 }, authFailureLimit: 4 });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await r.client.get("/api/me", r.adminKey)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const limited = await r.client.get("/api/me", r.adminKey);
    assert.equal(errorOf(limited).code, "RATE_LIMITED");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    await r.client.post("/api/users", undefined, {});
    const fails: number[] = [];
    for (let i = 0; i < 6; i++) fails.push((await r.client.get("/api/me", "strata_0123456789abcdef_" + "B".repeat(43))).status);
    assert.deepEqual(fails.slice(0, 3), [401, 401, 401]);
    assert.equal(fails[5], 429, "guessing is throttled");
  } finally {
    await r.close();
  }
});

test("CORS is off by default: no Access-Control-Allow-Origin, and a preflight is not answered", async () => {
  const pre = await t.client.request("OPTIONS", "/api/me", { headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
  assert.equal(pre.headers.get("access-control-allow-origin"), null);
  const get = await t.client.request("GET", "/api/me", { key: t.adminKey, headers: { origin: "https://evil.example" } });
  assert.equal(get.headers.get("access-control-allow-origin"), null);
  const c = await startTestServer({ corsOrigins: ["https://ui.example"] });
  try {
    const ok = await c.client.request("OPTIONS", "/api/me", { headers: { origin: "https://ui.example", "access-control-request-method": "GET" } });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://ui.example");
    const other = await c.client.request("OPTIONS", "/api/me", { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  } finally {
    await c.close();
  }
});

test("logs are structured and hold no key (nor any request body)", async () => {
  await t.client.get("/api/me", t.adminKey);
  const lines = t.logs.text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.msg === "request" && l.path === "/api/me" && l.user === "admin" && typeof l.keyId === "string"));
  for (const s of secrets) assert.ok(!t.logs.text.includes(s), "a key is in the logs");
  assert.ok(!t.logs.text.toLowerCase().includes("authorization"));
});
