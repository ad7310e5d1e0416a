// Tools: definitions and argument checks, time limits, result caps and retries, and each built-in
// tool's safety rules (no eval in the calculator, no way out of the allowed directory, no writes
// through sql_query, only allowed hosts and programs).
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { StrataError } from "../../src/core/errors.js";
import { calculatorTool, evaluateExpression } from "../../src/agents/tools/calculator.js";
import { capResult, invokeTool, validateArgs } from "../../src/agents/tools/execute.js";
import { readFileTool } from "../../src/agents/tools/files.js";
import { hostAllowed, httpGetTool } from "../../src/agents/tools/http.js";
import { shellTool } from "../../src/agents/tools/shell.js";
import { sqlQueryTool } from "../../src/agents/tools/sql.js";
import { externalTool } from "../../src/agents/tools/external.js";
import { defineTool, ToolBox, type Tool, type ToolContext } from "../../src/agents/tools/tool.js";
import { tempDir } from "../helpers/paths.js";

const ctx = (): ToolContext => ({ signal: new AbortController().signal, idempotencyKey: "idem_test", callId: "call_1", threadId: "thr_test", attempt: 1 });

async function call(tool: Tool, args: unknown) {
  return invokeTool(tool, validateArgs(tool, args), ctx(), { retry: { retries: 2, baseMs: 1, maxMs: 2 } });
}

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<StrataError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    assert.ok(e instanceof StrataError, `expected a StrataError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an error");
}

test("defineTool: defaults follow the risk; the model sees a JSON Schema without unenforceable keywords", () => {
  const read = defineTool({ name: "lookup", description: "d", risk: "read", input: z.object({ n: z.number().int().min(1).max(5), q: z.string().regex(/x/) }), run: () => 1 });
  assert.equal(read.requiresApproval, false);
  assert.equal(read.idempotent, true);
  const write = defineTool({ name: "save", description: "d", risk: "write", input: z.object({}), run: () => 1 });
  assert.equal(write.requiresApproval, true);
  assert.equal(write.idempotent, false);
  const props = (read.parameters.properties as Record<string, Record<string, unknown>>);
  assert.deepEqual(props.n, { type: "integer" });
  assert.deepEqual(props.q, { type: "string" });
  assert.equal(read.parameters.$schema, undefined);
  assert.throws(() => defineTool({ name: "bad name", description: "", risk: "read", input: z.object({}), run: () => 1 }), /not allowed/);
  assert.throws(() => new ToolBox([read, read]), /two tools/);
  assert.throws(() => new ToolBox([read]).get("nope"), (e: StrataError) => e.code === "TOOL_UNKNOWN");
});

test("invalid arguments are TOOL_ARGS_INVALID naming the field, and the tool does not run", async () => {
  let ran = 0;
  const t = defineTool({ name: "t", description: "", risk: "read", input: z.object({ n: z.number() }), run: () => ++ran });
  const e = await errorOf(() => validateArgs(t, { n: "3" }));
  assert.equal(e.code, "TOOL_ARGS_INVALID");
  assert.match(e.message, /n: /);
  assert.equal(ran, 0);
});

test("results are capped; time limits and transient failures: read tools retry, write tools do not", async () => {
  assert.deepEqual(capResult({ a: 1 }, 100), { value: { a: 1 }, truncated: false });
  const cut = capResult("x".repeat(50), 10);
  assert.equal(cut.truncated, true);
  assert.match(String(cut.value), /^x{10}\n…\[truncated: 40 more characters\]$/);

  const slow = defineTool({ name: "slow", description: "", risk: "read", timeoutMs: 20, input: z.object({}), run: (_a, c) => new Promise((r) => c.signal.addEventListener("abort", () => r("late"))) });
  const r = await invokeTool(slow, {}, ctx(), { retry: { retries: 0, baseMs: 1, maxMs: 1 } });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, "TIMEOUT");

  let attempts = 0;
  const flaky = defineTool({ name: "flaky", description: "", risk: "read", input: z.object({}), run: () => (++attempts < 3 ? Promise.reject(new StrataError("MODEL_SERVER_ERROR", "503", "")) : "fine") });
  assert.deepEqual(await call(flaky, {}), { ok: true, value: "fine", truncated: false });
  assert.equal(attempts, 3);

  let writes = 0;
  const flakyWrite = defineTool({ name: "w", description: "", risk: "write", input: z.object({}), run: () => (++writes, Promise.reject(new StrataError("TIMEOUT", "slow", ""))) });
  const w = await call(flakyWrite, {});
  assert.equal(w.ok, false);
  assert.equal(writes, 1, "a write that may have taken effect is not repeated");
});

test("calculator: arithmetic with precedence and functions; anything else is a readable error, never code", async () => {
  assert.equal(evaluateExpression("0.175 * 2340"), 409.5);
  assert.equal(evaluateExpression("2 ^ 3 ^ 2"), 512);
  assert.equal(evaluateExpression("-2 ** 2"), -4);
  assert.equal(evaluateExpression("(1 + 2) * 3 - 4 / 2 % 3"), 7);
  assert.equal(evaluateExpression("round(sqrt(2), 3) + max(1, 5, 3) + log(1000) + PI * 0"), 1.414 + 5 + 3);
  for (const [src, why] of [
    ["process.exit(1)", /unexpected character|unknown/],
    ["constructor", /unknown name/],
    ["__proto__", /unknown name/],
    ["toString(1)", /unknown function/],
    ["1 / 0", /division by zero/],
    ["alert(1)", /unknown function/],
    ["2 +", /ends too early/],
    ["1 2", /unexpected text/],
    ["sqrt(1, 2)", /takes 1/],
    ["`ls`", /unexpected character/],
    ["(".repeat(100) + "1" + ")".repeat(100), /nested too deeply/],
  ] as const) {
    const e = await errorOf(() => evaluateExpression(src));
    assert.equal(e.code, "TOOL_ARGS_INVALID");
    assert.match(e.message, why, src);
  }
  const r = await call(calculatorTool(), { expression: "17.5 / 100 * 2340" });
  assert.deepEqual(r, { ok: true, value: { expression: "17.5 / 100 * 2340", result: 409.5 }, truncated: false });
  const bad = await call(calculatorTool(), { expression: "2 +* 3" });
  assert.equal(!bad.ok && bad.error.code, "TOOL_ARGS_INVALID");
});

test("read_file: reads inside the allowed directory and refuses .., absolute paths, links out and binaries", async () => {
  const root = tempDir();
  const allowed = join(root, "allowed");
  mkdirSync(join(allowed, "sub"), { recursive: true });
  writeFileSync(join(allowed, "sub", "a.txt"), "hello");
  writeFileSync(join(root, "secret.txt"), "top secret");
  writeFileSync(join(allowed, "bin.dat"), Buffer.from([1, 0, 2]));
  symlinkSync(join(root, "secret.txt"), join(allowed, "link.txt"));
  const tool = readFileTool({ root: allowed, maxBytes: 3 });
  const ok = await call(tool, { path: "sub/a.txt" });
  assert.deepEqual(ok.ok && ok.value, { path: "sub/a.txt", bytes: 5, truncated: true, text: "hel" });
  for (const [path, code] of [
    ["../secret.txt", "FORBIDDEN"],
    ["sub/../../secret.txt", "FORBIDDEN"],
    [join(root, "secret.txt"), "FORBIDDEN"],
    ["link.txt", "FORBIDDEN"],
    ["nope.txt", "NOT_FOUND"],
    ["sub", "FORBIDDEN"],
    ["bin.dat", "BINARY_FILE"],
    ["a\0b", "FORBIDDEN"],
  ] as const) {
    const r = await call(tool, { path });
    assert.equal(r.ok ? "ok" : r.error.code, code, path);
  }
});

test("sql_query: reads rows; every statement that could write is refused; a runaway query is stopped", async () => {
  const file = join(tempDir(), "shop.db");
  const db = new Database(file);
  db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders (total) VALUES (10), (20.5), (30);");
  db.close();
  // A generous limit for the queries that end (a child process starts per query: over a second on a
  // loaded 2-core machine), a short one for the query that never does.
  const tool = sqlQueryTool({ file, maxRows: 2, timeoutMs: 30_000 });
  const r = await call(tool, { sql: "SELECT id, total FROM orders WHERE total > ? ORDER BY id", params: [5] });
  assert.deepEqual(r.ok && r.value, { columns: ["id", "total"], rows: [[1, 10], [2, 20.5]], truncated: true });
  for (const sql of [
    "DELETE FROM orders",
    "UPDATE orders SET total = 0",
    "INSERT INTO orders (total) VALUES (1)",
    "DROP TABLE orders",
    "CREATE TABLE x (a)",
    "ATTACH DATABASE ':memory:' AS other",
    "PRAGMA journal_mode = DELETE",
    "BEGIN",
    "SELECT 1; DELETE FROM orders",
    "WITH x AS (SELECT 1) DELETE FROM orders",
  ]) {
    const bad = await call(tool, { sql });
    assert.equal(bad.ok, false, sql);
  }
  const check = new Database(file, { readonly: true });
  assert.equal((check.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n, 3, "nothing was changed");
  check.close();
  const runaway = await call(sqlQueryTool({ file, timeoutMs: 1_000 }), { sql: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c" });
  assert.equal(!runaway.ok && runaway.error.code, "TIMEOUT");
});

test("http_get: only allowed hosts, each redirect checked, body capped; none allowed is a usage error", async () => {
  const server = createServer((req, res) => {
    if (req.url === "/away") {
      res.writeHead(302, { location: "http://example.invalid/steal" });
      return res.end();
    }
    if (req.url === "/hop") {
      res.writeHead(302, { location: "/page" });
      return res.end();
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("a".repeat(100));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const tool = httpGetTool({ allowHosts: [host], maxBytes: 10 });
    const ok = await call(tool, { url: `http://${host}/hop` });
    assert.ok(ok.ok);
    const v = ok.value as { url: string; status: number; truncated: boolean; body: string };
    assert.equal(v.status, 200);
    assert.equal(v.body, "a".repeat(10));
    assert.equal(v.truncated, true);
    assert.ok(v.url.endsWith("/page"));
    for (const url of [`http://${host}/away`, "http://127.0.0.2/", "file:///etc/passwd", `http://user:pw@${host}/`]) {
      const r = await call(tool, { url });
      assert.equal(!r.ok && r.error.code, "FORBIDDEN", url);
    }
    assert.equal(tool.risk, "external");
    assert.equal(tool.requiresApproval, true);
  } finally {
    server.close();
  }
  assert.equal(hostAllowed(new URL("https://api.example.com/x"), ["*.example.com"]), true);
  assert.equal(hostAllowed(new URL("https://example.com.evil.net/x"), ["*.example.com", "example.com"]), false);
  assert.throws(() => httpGetTool({ allowHosts: [] }), /at least one allowed host/);
});

test("shell: only allowed programs, arguments passed as they are (no shell), off without an allow-list", async () => {
  const tool = shellTool({ allowCommands: ["echo"] });
  const r = await call(tool, { command: "echo", args: ["$(id)", "a;b", "*"] });
  assert.ok(r.ok);
  assert.equal((r.value as { stdout: string }).stdout, "$(id) a;b *\n");
  const denied = await call(tool, { command: "rm", args: ["-rf", "/"] });
  assert.equal(!denied.ok && denied.error.code, "FORBIDDEN");
  const sneaky = await call(tool, { command: "echo; rm", args: [] });
  assert.equal(sneaky.ok, false);
  assert.throws(() => shellTool({ allowCommands: [] }), /at least one allowed command/);
  assert.throws(() => shellTool({ allowCommands: ["ls -la"] }), /bare program name/);
});

test("external tools (MCP descriptors) are validated against their advertised schema and keep their risk", async () => {
  const calls: unknown[] = [];
  const tool = externalTool({
    name: "kb_search",
    description: "remote search",
    inputSchema: { type: "object", properties: { query: { type: "string" }, k: { type: "integer" } }, required: ["query"] },
    risk: "external",
    call: async (args) => (calls.push(args), { text: "t", structured: { hits: [1] }, truncated: false }),
  });
  assert.equal(tool.requiresApproval, true);
  assert.equal(tool.untrustedOutput, true);
  assert.deepEqual(await call(tool, { query: "x", k: 2 }), { ok: true, value: { result: { hits: [1] }, truncated: false }, truncated: false });
  await assert.rejects(async () => validateArgs(tool, { k: "2" }), (e: StrataError) => e.code === "TOOL_ARGS_INVALID");
  assert.deepEqual(calls, [{ query: "x", k: 2 }]);
});
