// `strata mcp serve` end to end: our MCP client (src/agents/mcp) connects to the built CLI's server
// over stdio (spawning it) and over Streamable HTTP on loopback, on a knowledge base with access
// lists. A guest server never returns research or ops text; `--as dana --groups research` does;
// unlisted tools cannot be called; bad arguments and a missing KB fail clearly; a killed server
// makes calls fail instead of hang.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { connectMcp, type McpConnection, type McpToolResult } from "../../src/agents/mcp/client.js";
import { StrataError } from "../../src/core/errors.js";
import { strata } from "../helpers/cli.js";
import { cliPath, repoRoot, tempDir } from "../helpers/paths.js";

interface Hit { docId: string; source: string; text: string; start: number; end: number }
interface Search { untrusted: true; results: Hit[] }
interface Answer { untrusted: true; mode: string; supported: boolean; answer: string; citations: { source: string; quote: string }[] }

const root = tempDir();
const kb = join(root, "kb");
{
  const docs = join(root, "docs");
  cpSync(join(repoRoot(), "test", "fixtures", "kb"), docs, { recursive: true });
  assert.equal(strata(["ingest", join(docs, "public"), "--kb", kb, "--json"]).code, 0);
  assert.equal(strata(["ingest", join(docs, "research"), "--kb", kb, "--acl-groups", "research", "--json"]).code, 0);
  assert.equal(strata(["ingest", join(docs, "ops"), "--kb", kb, "--acl-users", "omar", "--json"]).code, 0);
}

const connections: McpConnection[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of connections) await c.close();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Our client on a stdio server spawned from the built CLI. */
async function stdio(serveArgs: string[], allow: string[] = ["search", "ask"], stderr?: string[]): Promise<McpConnection> {
  const c = await connectMcp(
    { command: process.execPath, args: [cliPath(), "mcp", "serve", "--kb", kb, ...serveArgs], env: { CI: "true" } },
    { allow, onStderr: stderr ? (line) => stderr.push(line) : undefined },
  );
  connections.push(c);
  return c;
}

/** Starts `strata mcp serve --http --port 0 …` and reads its URL from stderr. */
function startHttp(serveArgs: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cliPath(), "mcp", "serve", "--kb", kb, "--http", "--port", "0", ...serveArgs], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CI: "true" } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`the server exited (${code}) before listening: ${err}`)));
  });
}

async function search(c: McpConnection, query: string): Promise<Hit[]> {
  const r = await c.call("search", { query, k: 10 });
  assert.equal(r.untrusted, true);
  const s = r.structured as Search;
  assert.equal(s.untrusted, true);
  return s.results;
}

async function ask(c: McpConnection, question: string): Promise<Answer> {
  return (await c.call("ask", { question })).structured as Answer;
}

const SURVEY_Q = "How much money does the conservation team ask for the wreck survey?";
const HUMIDITY_Q = "How often are the humidity sensors recalibrated?";

/** Nothing restricted in what the server retrieved (results, answers, citations; the echoed query aside). */
function assertNoRestrictedText(results: McpToolResult[]): void {
  for (const r of results) {
    const { query: _q, question: _question, ...rest } = r.structured as { query?: string; question?: string };
    const retrieved = JSON.stringify(rest);
    assert.doesNotMatch(retrieved, /215,000|Kestrel|Marigold|survey-plan|humidity sensors|fire doors|facilities/, retrieved.slice(0, 300));
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<StrataError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StrataError, `not a StrataError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test("stdio, default (anonymous): public answers with citations; research and ops never returned", async () => {
  const stderr: string[] = [];
  const c = await stdio([], ["search", "ask"], stderr);
  assert.deepEqual(c.available.map((t) => t.name).sort(), ["ask", "document", "search"]);
  assert.deepEqual(c.tools.map((t) => t.name), ["search", "ask"]);
  for (const t of c.tools) assert.equal(t.risk, "external");
  assert.equal(c.tool("search").inputSchema.type, "object");

  const hits = await search(c, "lantern walks pier");
  assert.ok(hits[0]!.source.endsWith("museum-guide.md"));
  const a = await ask(c, "When do the lantern walks begin?");
  assert.equal(a.supported, true);
  assert.match(a.answer, /20:15/);
  assert.ok(a.citations[0]!.source.endsWith("museum-guide.md"));

  const seen: McpToolResult[] = [];
  for (const q of ["Kestrel sonar sled Marigold survey", "humidity sensors recalibrated fire doors"]) seen.push(await c.call("search", { query: q }));
  for (const q of [SURVEY_Q, HUMIDITY_Q]) seen.push(await c.call("ask", { question: q }));
  assertNoRestrictedText(seen);
  assert.equal((seen[2]!.structured as Answer).supported, false);
  assert.ok(stderr.some((l) => /serving .* as anonymous \(public documents only\) over stdio/.test(l)), stderr.join("\n"));
});

test("stdio --as guest: the same; --as dana --groups research: research, not ops", async () => {
  const guest = await stdio(["--as", "guest"]);
  assertNoRestrictedText([await guest.call("search", { query: "Kestrel sonar sled Marigold survey" }), await guest.call("ask", { question: SURVEY_Q })]);

  const dana = await stdio(["--as", "dana", "--groups", "research"], ["search", "ask", "document"]);
  assert.ok((await search(dana, "Kestrel sonar sled Marigold survey"))[0]!.source.endsWith("survey-plan.md"));
  const a = await ask(dana, SURVEY_Q);
  assert.equal(a.supported, true);
  assert.match(a.answer, /215,000 pounds/);
  assert.ok(a.citations.some((x) => x.source.endsWith("survey-plan.md")));
  assert.ok(!(await search(dana, "humidity sensors recalibrated")).some((h) => h.source.includes("facilities")));
  assert.equal((await ask(dana, HUMIDITY_Q)).supported, false);
  // The document tool returns exactly the text the span points into.
  const hit = (await search(dana, "Kestrel sonar sled"))[0]!;
  const doc = (await dana.call("document", { docId: hit.docId })).structured as { text: string };
  assert.equal(doc.text.slice(hit.start, hit.end), hit.text);
});

test("the allow-list blocks unlisted tools; bad arguments get a clear error", async () => {
  const c = await stdio([], ["search"]);
  await rejectsWith(c.call("ask", { question: SURVEY_Q }), "FORBIDDEN", /"ask" of server strata-kb is not on the allow-list/);
  await rejectsWith(c.call("document", { docId: "doc_x" }), "FORBIDDEN");
  await rejectsWith(c.call("search", { query: "" }), "TOOL_ARGS_INVALID", /bad arguments: .*query/);
  await rejectsWith(c.call("search", { query: "x".repeat(4001) }), "TOOL_ARGS_INVALID", /query/);
  await rejectsWith(c.call("search", { query: "tickets", k: 0 }), "TOOL_ARGS_INVALID", /k/);
  await rejectsWith(c.call("search", { query: "tickets", mode: "dense" }), "TOOL_ARGS_INVALID", /mode/);
  // Whitespace passes the schema; the server's own check answers, with its message.
  await rejectsWith(c.call("search", { query: "   " }), "TOOL_FAILED", /failed: error: the query is empty hint: /);
  assert.equal((await c.call("search", { query: "tickets" })).untrusted, true, "the connection still works");
});

test("HTTP on loopback: the same access rules, and a killed server fails calls instead of hanging", async () => {
  const guestServer = await startHttp([]);
  const guest = await connectMcp({ url: guestServer.url }, { allow: ["search", "ask"] });
  connections.push(guest);
  assertNoRestrictedText([await guest.call("search", { query: "Kestrel sonar sled Marigold survey" }), await guest.call("ask", { question: SURVEY_Q })]);
  assert.ok((await search(guest, "standard admission")).length > 0);

  const { child, url } = await startHttp(["--as", "dana", "--groups", "research"]);
  const dana = await connectMcp({ url }, { allow: ["search", "ask"] });
  connections.push(dana);
  assert.match((await ask(dana, SURVEY_Q)).answer, /215,000 pounds/);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  await rejectsWith(dana.call("search", { query: "Kestrel" }), "MCP_UNAVAILABLE", /cannot reach MCP server http:\/\/127\.0\.0\.1:\d+\/mcp/);
  await rejectsWith(connectMcp({ url }), "MCP_UNAVAILABLE");
});

test("stdio: a killed server fails calls clearly and marks the connection closed", async () => {
  const c = await stdio(["--as", "guest"]);
  assert.ok(c.pid);
  assert.ok((await search(c, "standard admission")).length > 0);
  process.kill(c.pid!, "SIGKILL");
  await rejectsWith(c.call("ask", { question: "When do the lantern walks begin?" }), "MCP_UNAVAILABLE", /closed the connection/);
  await rejectsWith(c.call("search", { query: "tickets" }), "MCP_UNAVAILABLE", /closed the connection/);
  assert.equal(c.closed, true);
});

test("a missing knowledge base and bad flags fail clearly", async () => {
  const e = await rejectsWith(
    connectMcp({ command: process.execPath, args: [cliPath(), "mcp", "serve", "--kb", join(root, "nope")] }, { allow: ["search"] }),
    "MCP_UNAVAILABLE",
    /closed the connection; its stderr ends: error: no knowledge base at .*nope/,
  );
  assert.match(e.hint, /exited or crashed/);
  const usage: [string[], RegExp][] = [
    [["--groups", "research"], /--groups needs --as <user>/],
    [["--as", "owner"], /"--as owner" does not give the owner's access\nhint: use --owner/],
    [["--owner", "--as", "dana"], /--owner cannot be combined with --as/],
    [["--http", "--host", "0.0.0.0", "--port", "0"], /listens on loopback only, not on 0\.0\.0\.0/],
    [["--port", "80"], /--port needs --http/],
    [["--http", "--port", "70000"], /--port must be a whole number from 0 to 65535/],
    [["--verify", "remove"], /--verify needs --model <ref>/],
  ];
  for (const [flags, message] of usage) {
    const r = strata(["mcp", "serve", "--kb", kb, ...flags]);
    assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "", "stdout stays clean for the protocol");
  }
  assert.equal(strata(["mcp", "serve"]).code, 2, "--kb is required");
});

test("--owner serves every document, with a warning on stderr", async () => {
  const stderr: string[] = [];
  const c = await stdio(["--owner"], ["search"], stderr);
  assert.ok((await search(c, "humidity sensors recalibrated"))[0]!.source.endsWith("facilities.txt"));
  assert.ok(stderr.some((l) => /warning: --owner serves EVERY document/.test(l)), stderr.join("\n"));
});
