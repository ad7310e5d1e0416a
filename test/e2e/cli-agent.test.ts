// `strata agent …` and `strata audit verify` end to end: the built CLI runs agents against a
// scripted OpenAI-protocol server on 127.0.0.1, stops for approval, is approved or rejected from a
// second process, stops at budgets and resumes, and prints the documented JSON; every bad input is
// an `error:`/`hint:` pair with the right exit code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliPath, repoRoot, tempDir } from "../helpers/paths.js";
import { replyText, replyToolCall, startOpenAiServer, type Handler, type OpenAiServer, type WireRequestBody } from "../helpers/openai-server.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunJson {
  threadId: string;
  status: string;
  state?: string;
  pending: Array<{ callId: string; tool: string; args: Record<string, unknown>; reason: string }>;
  result: unknown;
  usage: { modelCalls: number; toolCalls: number; inputTokens: number };
  stop?: { reason: string };
  error?: { code: string; message: string };
}

// The CLI runs while this process serves the model, so it is spawned without blocking.
function strata(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { env: { ...process.env, CI: "true", STRATA_AUDIT_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function json<T = RunJson>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}): ${r.stdout.slice(0, 300)} / ${r.stderr.slice(0, 500)}`);
  }
}

const toolResults = (body: WireRequestBody) => (body.messages ?? []).filter((m) => m.role === "tool");
const lastUser = (body: WireRequestBody) => (body.messages ?? []).filter((m) => m.role === "user").at(-1)?.content ?? "";

// One server for all tests; the goal text picks the script.
const scripts: Record<string, Handler> = {
  calc: (req, res, n) => (toolResults(req.body).length ? replyText("6 times 7 is 42.") : replyToolCall("calculator", { expression: "6 * 7" }))(req, res, n),
  shell: (req, res, n) => {
    const results = toolResults(req.body);
    if (!results.length) return replyToolCall("shell", { command: "echo", args: ["filed"] }, { id: "call_echo" })(req, res, n);
    return replyText(`shell said: ${String(results[0]!.content).slice(0, 300)}`)(req, res, n);
  },
  badargs: (req, res, n) => {
    const results = toolResults(req.body);
    if (results.length === 0) return replyToolCall("calculator", { expr: "1+1" }, { id: "call_bad" })(req, res, n);
    if (results.length === 1) return replyToolCall("calculator", { expression: "1+1" }, { id: "call_good" })(req, res, n);
    return replyText("2")(req, res, n);
  },
  loop: (req, res, n) => replyToolCall("calculator", { expression: `${toolResults(req.body).length} + 1` }, { id: `call_${toolResults(req.body).length}` })(req, res, n),
  // --pattern planner-solver: the planner and the reviewer answer in JSON; each step's agent uses the calculator.
  plan: replyText('{"steps": ["multiply 6 by 7"]}'),
  Goal: replyText('{"action": "finish", "answer": "The plan gave 42."}'),
  mcp: (req, res, n) => {
    const results = toolResults(req.body);
    if (!results.length) return replyToolCall("search", { query: "lantern walks" }, { id: "call_mcp" })(req, res, n);
    return replyText(/20:15/.test(String(results[0]!.content)) ? "Lantern walks begin at 20:15." : "not found")(req, res, n);
  },
  "Overall goal": (req, res, n) => (toolResults(req.body).length ? replyText("42") : replyToolCall("calculator", { expression: "6 * 7" }, { id: "call_step" }))(req, res, n),
};

let server: OpenAiServer;
let store: string;

before(async () => {
  server = await startOpenAiServer((req, res, n) => {
    const goal = lastUser(req.body).split(":")[0] ?? "";
    return (scripts[goal] ?? replyText("?"))(req, res, n);
  });
  store = join(tempDir("strata-cli-agent-"), "agents");
});

after(() => server.close());

const run = (goal: string, ...extra: string[]) => strata(["agent", "run", "--goal", goal, "--model", server.ref(), "--store", store, "--json", "--quiet", ...extra]);

test("--help of every agent command shows an example", async () => {
  for (const cmd of [["agent", "run"], ["agent", "resume"], ["agent", "approve"], ["agent", "reject"], ["agent", "show"], ["agent", "fork"], ["audit", "verify"]]) {
    const r = await strata([...cmd, "--help"]);
    assert.equal(r.code, 0, cmd.join(" "));
    assert.match(r.stdout, /Examples?:\n {2}strata /, cmd.join(" "));
  }
});

test("agent run --goal: tool calls through the provider, the documented JSON, a readable timeline", async () => {
  const r = await run("calc: what is 6 times 7?");
  assert.equal(r.code, 0, r.stderr);
  const out = json(r);
  assert.deepEqual(Object.keys(out).slice(0, 5), ["threadId", "status", "pending", "result", "usage"]);
  assert.equal(out.status, "completed");
  assert.equal(out.result, "6 times 7 is 42.");
  assert.deepEqual(out.pending, []);
  assert.equal(out.usage.modelCalls, 2);
  assert.equal(out.usage.toolCalls, 1);
  const sent = server.requests.at(-1)!.body;
  assert.deepEqual(sent.tools?.map((t) => t.function.name), ["calculator"]);
  const show = await strata(["agent", "show", out.threadId, "--store", store]);
  assert.equal(show.code, 0);
  assert.match(show.stdout, /model\.response\s+calls calculator\(\{"expression":"6 \* 7"\}\)/);
  assert.match(show.stdout, /tool\.result\s+calculator call_1 ok: \{"expression":"6 \* 7","result":42\}/);
  const list = json<{ runs: Array<{ threadId: string }> }>(await strata(["agent", "show", "--store", store, "--json"]));
  assert.ok(list.runs.some((x) => x.threadId === out.threadId));

  // Checkpoints are listed; a fork from the one after the model's first call runs the rest again as a new run.
  const cps = json<{ checkpoints: Array<{ checkpointId: string; ran: string[]; next: string[] }> }>(await strata(["agent", "show", out.threadId, "--store", store, "--json"])).checkpoints;
  assert.deepEqual(cps.map((c) => c.next.join()), ["agent", "tools", "agent", ""]);
  const listed = await strata(["agent", "show", out.threadId, "--checkpoints", "--store", store]);
  assert.match(listed.stdout, new RegExp(`${cps[1]!.checkpointId}  step 1  ran agent  → tools`));
  const fork = await strata(["agent", "fork", cps[1]!.checkpointId, "--run", "--store", store, "--json", "--quiet"]);
  assert.equal(fork.code, 0, fork.stderr);
  const forked = json(fork);
  assert.notEqual(forked.threadId, out.threadId);
  assert.deepEqual([forked.status, forked.result], ["completed", "6 times 7 is 42."]);
});

test("--pattern planner-solver: a plan, an agent per step with the run's tools, a reviewed answer", async () => {
  const r = await run("plan: what is 6 times 7", "--pattern", "planner-solver");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = json(r);
  assert.deepEqual([out.status, out.result], ["completed", "The plan gave 42."]);
  assert.equal(out.usage.toolCalls, 1);
  const bad = await strata(["agent", "run", "examples/uat-assistant/graph.json", "--pattern", "reflexion", "--store", store]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--pattern goes with --goal/);
});

test("--mcp mounts an MCP server's allow-listed tools; each call waits for approval, then runs", async () => {
  const kb = join(tempDir("strata-cli-agent-mcp-"), "kb");
  const ingest = await strata(["ingest", join(repoRoot(), "test", "fixtures", "kb", "public"), "--kb", kb, "--json"]);
  assert.equal(ingest.code, 0, ingest.stderr);
  const serverCmd = `${process.execPath} ${cliPath()} mcp serve --kb ${kb}`;
  const noAllow = await strata(["agent", "run", "--goal", "mcp: lanterns", "--model", server.ref(), "--mcp", serverCmd, "--store", store]);
  assert.equal(noAllow.code, 2);
  assert.match(noAllow.stderr, /--mcp needs --mcp-allow/);
  const r = await run("mcp: when do lantern walks begin", "--tools", "none", "--mcp", serverCmd, "--mcp-allow", "search");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = json(r);
  assert.equal(out.state, "waiting for approval");
  assert.deepEqual(out.pending.map((p) => [p.callId, p.tool]), [["call_mcp", "search"]]);
  const approved = await strata(["agent", "approve", out.threadId, "call_mcp", "--store", store, "--json", "--quiet"]);
  assert.equal(approved.code, 0, approved.stderr);
  assert.deepEqual([json(approved).status, json(approved).result], ["completed", "Lantern walks begin at 20:15."]);
});

test("a graph file's agent node may name a pattern", async () => {
  const file = join(tempDir("strata-cli-agent-graph-"), "plan.json");
  writeFileSync(file, JSON.stringify({
    version: 1,
    name: "planned",
    nodes: { solve: { type: "agent", pattern: "planner-solver", goal: "plan: {{state.question}}", tools: ["calculator"], output: "answer" } },
    edges: [{ from: "START", to: "solve" }, { from: "solve", to: "END" }],
    output: "answer",
  }));
  const r = await strata(["agent", "run", file, "--model", server.ref(), "--input", '{"question": "what is 6 times 7"}', "--store", store, "--json", "--quiet"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual([json(r).status, json(r).result], ["completed", "The plan gave 42."]);
});

test("approval from another process: run stops at an external tool; approve resumes and runs it once; audit verifies", async () => {
  const r = await run("shell: file it", "--allow-commands", "echo");
  assert.equal(r.code, 0, r.stderr);
  const out = json(r);
  assert.equal(out.status, "interrupted");
  assert.deepEqual(out.pending, [{ callId: "call_echo", tool: "shell", args: { command: "echo", args: ["filed"] }, reason: "shell is a external tool and needs approval" }]);
  assert.equal(out.state, "waiting for approval");
  const human = await strata(["agent", "show", out.threadId, "--store", store]);
  assert.match(human.stdout, /· waiting for approval · started/);
  assert.match(human.stdout, /thread thr_\w+: waiting for approval · /);
  assert.doesNotMatch(human.stdout, /: interrupted/);
  const approved = await strata(["agent", "approve", out.threadId, "call_echo", "--store", store, "--by", "dana", "--json", "--quiet"]);
  assert.equal(approved.code, 0, approved.stderr);
  const done = json(approved);
  assert.equal(done.status, "completed");
  assert.match(String(done.result), /shell said: <<<UNTRUSTED [0-9a-f]+ from tool shell[\s\S]*"stdout":"filed\\n"/);
  const again = await strata(["agent", "approve", out.threadId, "call_echo", "--store", store, "--json"]);
  assert.equal(again.code, 1);
  assert.equal(json<{ error: { code: string; message: string } }>(again).error.code, "NOT_PENDING");
  assert.match(again.stderr, /error: call call_echo of thread thr_\w+ is not pending: it was approved by dana/);
  const show = json<{ timeline: Array<{ type: string; actor: string }> }>(await strata(["agent", "show", out.threadId, "--store", store, "--json"]));
  assert.deepEqual(show.timeline.filter((e) => e.type === "approval.decided").map((e) => e.actor), ["dana"]);
  const verify = await strata(["audit", "verify", out.threadId, "--store", store, "--json"]);
  assert.equal(verify.code, 0);
  assert.equal(json<{ ok: boolean }>(verify).ok, true);

  // Someone edits the log in the database: verify names the entry and fails.
  const db = new Database(join(store, "agents.db"));
  db.exec("DROP TRIGGER audit_no_update");
  db.prepare("UPDATE audit SET data = replace(data, 'filed', 'FILED') WHERE root_id = ? AND type = 'tool.call'").run(out.threadId);
  db.close();
  const broken = await strata(["audit", "verify", out.threadId, "--store", store]);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /BROKEN/);
  assert.match(broken.stdout, /entry \d+: its content does not match its hash/);
  assert.match(broken.stderr, /^error: the audit log of thr_\w+ does not verify/m);
});

test("reject: the model is told the call was rejected and why; the tool never runs", async () => {
  const out = json(await run("shell: file it", "--allow-commands", "echo"));
  assert.equal(out.status, "interrupted");
  const rejected = await strata(["agent", "reject", out.threadId, "call_echo", "--comment", "not today", "--store", store, "--by", "lee", "--json", "--quiet"]);
  assert.equal(rejected.code, 0, rejected.stderr);
  const done = json(rejected);
  assert.equal(done.status, "completed");
  assert.match(String(done.result), /"rejected":true,"by":"lee","comment":"not today"/);
  assert.equal(done.usage.toolCalls, 0);
});

test("invalid tool arguments go back to the model, which fixes its call", async () => {
  const out = json(await run("badargs: add"));
  assert.equal(out.status, "completed");
  const show = json<{ timeline: Array<{ type: string; data: { callId?: string; ok?: boolean; error?: { code: string } } }> }>(await strata(["agent", "show", out.threadId, "--store", store, "--json"]));
  const results = show.timeline.filter((e) => e.type === "tool.result").map((e) => [e.data.callId, e.data.ok, e.data.error?.code ?? null]);
  assert.deepEqual(results, [["call_bad", false, "TOOL_ARGS_INVALID"], ["call_good", true, null]]);
});

test("a budget stops the run (exit 3, state saved); resume with a larger budget continues from the checkpoint", async () => {
  const r = await run("loop: count", "--budget", "calls=2", "--max-steps", "4");
  assert.equal(r.code, 3, r.stderr);
  const out = json(r);
  assert.equal(out.status, "budget_exceeded");
  assert.equal(out.stop?.reason, "toolCalls");
  assert.equal(out.usage.toolCalls, 2);
  const more = await strata(["agent", "resume", out.threadId, "--budget", "calls=10", "--store", store, "--json", "--quiet"]);
  const m = json(more);
  assert.equal(m.status, "budget_exceeded", "now the step limit (4 model calls) ends it");
  assert.equal(m.stop?.reason, "visits");
  assert.equal(m.usage.toolCalls, 4);
  const human = await strata(["agent", "resume", out.threadId, "--store", store]);
  assert.equal(human.code, 3);
  assert.match(human.stdout, /stopped: visits limit 4 reached .*continue with: strata agent resume/);
});

test("bad inputs: each is error + hint with the right exit code", async () => {
  const dir = tempDir("strata-cli-agent-bad-");
  const bad = join(dir, "bad.json");
  writeFileSync(bad, '{"version": 1, "name": "x", "nodes": {"a": {"type": "nope"}}, "edges": []}');
  const cases: Array<[string[], number, RegExp]> = [
    [["agent", "run", bad, "--store", store], 1, /error: .*bad\.json: nodes\.a/],
    [["agent", "run", join(dir, "missing.json"), "--store", store], 1, /error: cannot read graph file/],
    [["agent", "run", "--goal", "x", "--model", server.ref(), "--tools", "calculator,nope", "--store", store], 1, /error: no built-in tool named "nope"/],
    [["agent", "run", "--goal", "x", "--model", server.ref(), "--tools", "read_file", "--store", store], 2, /error: read_file needs --files <dir>/],
    [["agent", "run", "--goal", "x", "--store", store], 2, /error: an agent run needs a language model/],
    [["agent", "run", "--goal", "x", "--model", server.ref(), "--budget", "dollars=5", "--store", store], 2, /error: --budget: cannot read "dollars=5"/],
    [["agent", "run", "--store", store], 2, /error: nothing to run/],
    [["agent", "resume", "thr_nope", "--store", store], 1, /error: no thread thr_nope in/],
    [["agent", "approve", "thr_nope", "call_1", "--store", store], 1, /error: no thread thr_nope in/],
    [["agent", "show", "--store", join(dir, "no-store")], 1, /error: no agent store at/],
    [["audit", "verify", "thr_nope", "--store", store], 1, /error: no thread thr_nope/],
  ];
  for (const [args, code, message] of cases) {
    const r = await strata(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.match(r.stderr, /^hint: /m, args.join(" "));
  }
  const j = await strata(["agent", "resume", "thr_nope", "--store", store, "--json"]);
  assert.equal(json<{ error: { code: string } }>(j).error.code, "THREAD_NOT_FOUND");
  const done = json(await run("calc: again"));
  const notPending = await strata(["agent", "approve", done.threadId, "call_1", "--store", store, "--json"]);
  assert.equal(json<{ error: { code: string } }>(notPending).error.code, "NOT_PENDING");
});
