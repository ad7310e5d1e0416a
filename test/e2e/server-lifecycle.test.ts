// `strata serve` as an operator runs it: the admin key printed once on first start, users and keys
// made offline with `strata serve users|keys` while the server runs (a revoked key stops working
// at once), no key anywhere in server.db or the logs, and a graceful SIGTERM: new connections are
// refused, the answer in flight completes, the stores are closed and the process exits 0.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { strata, strataAsync, type CliResult } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";
import { replyText, routes, startOpenAiServer, type OpenAiServer } from "../helpers/openai-server.js";
import { bestSentence, Client, fixture, promptSources, questionOf, uploadForm } from "../server/helpers.js";
import { startServe, type ServeProcess } from "../server/serve-process.js";

const running: ServeProcess[] = [];
const upstreams: OpenAiServer[] = [];
after(async () => {
  for (const s of running) await s.stop();
  for (const u of upstreams) await u.close();
});

/** The CLI without blocking this process (the server's test client keeps connections alive meanwhile). */
function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = strataAsync(args);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const s = await startServe(args, env);
  running.push(s);
  return s;
}

test("first start prints the admin key once; keys made offline work at once and are stored only hashed", async () => {
  const data = tempDir("strata-e2e-serve-");
  const first = await serve(["--data", data]);
  const adminKey = (await first.waitFor(/admin key \(shown once[^\n]*\n\s+(strata_[0-9a-f]{16}_[A-Za-z0-9_-]{43})/))[1]!;
  const http = new Client(first.url);
  assert.equal((await http.get("/api/me", adminKey)).json<{ user: string }>().user, "admin");

  // Offline administration on the same data folder, while the server runs.
  const add = await cli(["serve", "users", "add", "dana", "--groups", "research", "--data", data, "--json"]);
  assert.equal(add.code, 0, add.stderr);
  const made = await cli(["serve", "keys", "create", "--user", "dana", "--scopes", "read", "--data", data, "--json"]);
  assert.equal(made.code, 0, made.stderr);
  const key = made.json as { id: string; key: string };
  assert.deepEqual((await http.get("/api/me", key.key)).json(), { user: "dana", groups: ["research"], scopes: ["read"], keyId: key.id });
  const listed = await cli(["serve", "keys", "list", "--data", data]);
  assert.match(listed.stdout, new RegExp(`${key.id}  dana  read  no expiry`));
  assert.ok(!listed.stdout.includes(key.key));
  assert.equal((await cli(["serve", "keys", "create", "--user", "nobody", "--scopes", "read", "--data", data])).code, 1);
  assert.equal((await cli(["serve", "keys", "create", "--user", "dana", "--scopes", "root", "--data", data])).code, 2);
  assert.equal((await cli(["serve", "keys", "revoke", key.id, "--data", data])).code, 0);
  assert.equal((await http.get("/api/me", key.key)).status, 401, "revoked from the next request on");

  assert.equal(await first.stop(), 0);
  const second = await serve(["--data", data]);
  assert.doesNotMatch(second.stderr(), /admin key/, "shown once only");
  assert.equal((await new Client(second.url).get("/api/me", adminKey)).status, 200);
  assert.equal(await second.stop(), 0);

  for (const f of readdirSync(data).filter((n) => n.startsWith("server.db"))) {
    const bytes = readFileSync(join(data, f)).toString("latin1");
    assert.ok(!bytes.includes(adminKey) && !bytes.includes(key.key), `${f} holds a key`);
  }
  const db = new Database(join(data, "server.db"), { readonly: true });
  const hashes = (db.prepare("SELECT hash FROM api_keys").all() as { hash: string }[]).map((r) => r.hash);
  db.close();
  assert.equal(hashes.length, 2);
  for (const h of hashes) assert.match(h, /^scrypt\$/);
  for (const s of [first, second]) assert.equal(s.stderr().split(adminKey).length - 1, s === first ? 1 : 0, "the key appears once, in the banner");
});

test("SIGTERM: new connections are refused, the answer in flight completes, the stores close, exit 0", async () => {
  let arrived!: () => void;
  const arrivedP = new Promise<void>((r) => (arrived = r));
  let release!: () => void;
  const releaseP = new Promise<void>((r) => (release = r));
  const gated = await startOpenAiServer(
    routes({
      chat: async (req, res, n) => {
        arrived();
        await releaseP;
        const best = bestSentence(promptSources(req.body), questionOf(req.body));
        return replyText(`${best.sentence.replace(/[.!?]$/, "")} [${best.n}].`)(req, res, n);
      },
    }),
  );
  upstreams.push(gated);
  const data = tempDir("strata-e2e-shutdown-");
  const ADMIN = "shutdown-admin-key-0123456789abcdef";
  const s = await serve(["--data", data, "--model", `m=${gated.ref("m")}`, "--shutdown-timeout", "60"], { STRATA_ADMIN_KEY: ADMIN });
  const http = new Client(s.url);
  assert.equal((await http.post("/api/kbs", ADMIN, { name: "museum", members: { users: ["admin"] } })).status, 201);
  assert.equal((await http.request("POST", "/api/kbs/museum/documents", { key: ADMIN, form: uploadForm([{ name: "museum-guide.md", bytes: fixture("public/museum-guide.md") }]) })).status, 200);

  const inFlight = http.post("/api/kbs/museum/ask", ADMIN, { question: "When do lantern walks begin?" });
  await arrivedP;
  s.child.kill("SIGTERM");
  await s.waitFor(/shutting down/);
  await assert.rejects(fetch(`${s.url}/api/health`), "the listening socket is closed");
  release();
  const r = await inFlight;
  assert.equal(r.status, 200, r.text);
  const a = r.json<{ answer: string; supported: boolean; conversationId: string }>();
  assert.match(a.answer, /Lantern walks/);
  assert.equal(await s.exited, 0);
  assert.match(s.stderr(), /strata serve: stopped/);

  // The turn that finished during shutdown was stored, and the store was closed cleanly.
  const kb = new Database(join(data, "kbs", "museum", "strata.db"), { readonly: true });
  const turns = kb.prepare("SELECT count(*) AS n FROM messages WHERE conversation_id = ?").get(a.conversationId) as { n: number };
  kb.close();
  assert.equal(turns.n, 2);
  assert.ok(!s.stderr().includes(ADMIN));
});

test("bad flags and a port in use are usage errors with a hint", async () => {
  const bad = strata(["serve", "--port", "99999"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port must be/);
  const model = strata(["serve", "--model", "nonsense", "--data", tempDir()]);
  assert.equal(model.code, 2);
  assert.match(model.stderr, /hint:/);
  const a = await serve(["--data", tempDir(), "--quiet"]);
  const port = new URL(a.url).port;
  const clash = await cli(["serve", "--port", port, "--data", tempDir()]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /in use/);
});
