// Graphs from JSON files: every node type, templates, conditional branches, a join, loop limits,
// subgraph files, modules that add tools and functions — and each malformed file refused with the
// place of the problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decide, resumeGraph, runGraph } from "../../src/agents/graph/runtime.js";
import { evaluateCondition, loadGraphFile, renderTemplate } from "../../src/agents/graph/file.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { ToolBox } from "../../src/agents/tools/tool.js";
import { StrataError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/paths.js";
import { scriptedModel } from "./helpers/scripted-model.js";

// A module in plain JavaScript, so the same test runs from TypeScript sources and compiled.
const MODULE = `
export default function plugin(api, options) {
  const { defineTool, z } = api;
  const log = [];
  return {
    tools: [defineTool({ name: "shout", description: "upper-cases", risk: "read", untrustedOutput: false, input: z.object({ text: z.string() }), run: ({ text }) => text.toUpperCase() + (options.vars.suffix ?? "") })],
    functions: {
      count: (state) => ({ i: (state.i ?? 0) + 1 }),
    },
  };
}
`;

function write(dir: string, name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  return p;
}

const builtins = new ToolBox([calculatorTool()]);

test("templates and conditions read the state", () => {
  const scope = { state: { a: { b: [1, { c: "x" }] }, n: 3, s: "hi" }, vars: { v: "1" } };
  assert.deepEqual(renderTemplate({ k: "{{state.a.b}}", t: "n={{state.n}} {{json state.s}} {{vars.v}}", l: "{{state.a.b.length}}", m: "{{state.missing}}" }, scope), { k: [1, { c: "x" }], t: 'n=3 "hi" 1', l: 2, m: null });
  assert.equal(evaluateCondition({ all: [{ path: "n", op: "gt", value: 2 }, { not: { path: "s", op: "empty" } }, { any: [{ path: "a.b.1.c", op: "eq", value: "x" }, { path: "q", op: "exists" }] }] }, scope.state), true);
  assert.equal(evaluateCondition({ path: "a.b", op: "contains", value: 1 }, scope.state), true);
  assert.equal(evaluateCondition({ path: "s", op: "matches", value: "^h" }, scope.state), true);
});

test("a graph file with every node type runs: tool, module function, model with schema, agent, subgraph, parallel join, approval, set, loop", async () => {
  const dir = tempDir("strata-graph-file-");
  write(dir, "plugin.mjs", MODULE);
  write(dir, "child.json", { version: 1, name: "child", input: {}, nodes: { up: { type: "tool", tool: "shout", args: { text: "{{state.word}}" }, output: "loud" } }, edges: [{ from: "START", to: "up" }], output: "loud" });
  const file = write(dir, "main.json", {
    version: 1,
    name: "everything",
    modules: ["./plugin.mjs"],
    vars: { suffix: "!" },
    state: { type: "object", properties: { i: { type: "integer" }, word: { type: "string" } }, required: ["word"] },
    reducers: { notes: "append" },
    input: { word: "hello", i: 0, notes: [] },
    nodes: {
      calc: { type: "tool", tool: "calculator", args: { expression: "{{state.i}} + 40" }, output: "sum" },
      sub: { type: "graph", file: "./child.json", input: { word: "{{state.word}}" }, output: "child" },
      classify: { type: "model", prompt: "Classify {{state.word}}", schema: { type: "object", properties: { label: { type: "string" } }, required: ["label"] }, output: "label" },
      join: { type: "set", values: { notes: ["joined {{state.child}} {{state.sum.result}}"] } },
      helper: { type: "agent", goal: "Add 1 and 1", tools: ["calculator"], output: "agentAnswer", maxSteps: 3 },
      gate: { type: "approval", reason: "ship {{state.child}}?", payload: { word: "{{state.word}}" }, output: "decision" },
      loop: { type: "function", fn: "count", maxVisits: 3, onLimit: "END" },
    },
    edges: [
      { from: "START", to: ["calc", "sub", "classify"] },
      { from: ["calc", "sub", "classify"], to: "join" },
      { from: "join", to: "helper" },
      { from: "helper", to: "gate" },
      { from: "gate", branches: [{ when: { path: "decision.approved", op: "eq", value: true }, to: "loop" }], default: "END" },
      { from: "loop", to: "loop" },
    ],
    output: "notes",
  });
  const loaded = await loadGraphFile(file, { tools: builtins });
  assert.deepEqual(loaded.tools.names().sort(), ["calculator", "shout"]);
  assert.deepEqual(loaded.vars, { suffix: "!" });
  const store = AgentStore.open(tempDir("strata-graph-file-store-"), { create: true });
  const model = scriptedModel((r) => {
    if (r.responseSchema) return { json: { label: "greeting" } };
    return r.messages.some((m) => m.role === "tool") ? { text: "2" } : { calls: [{ name: "calculator", args: { expression: "1+1" } }] };
  });
  const r1 = await runGraph(loaded.graph, loaded.input, { store, model, tools: loaded.tools, vars: loaded.vars });
  assert.equal(r1.status, "interrupted");
  assert.match(r1.pending[0]!.reason, /ship HELLO!\?/);
  assert.deepEqual(r1.pending[0]!.args, { word: "hello" });
  decide(store, r1.threadId, r1.pending[0]!.callId, { approve: true, by: "kim" });
  const r2 = await resumeGraph(loaded.graph, r1.threadId, { store, model, tools: loaded.tools, vars: loaded.vars });
  assert.equal(r2.status, "completed");
  assert.deepEqual(r2.result, ["joined HELLO! 40"]);
  assert.equal(r2.state.label && (r2.state.label as { label: string }).label, "greeting");
  assert.equal(r2.state.agentAnswer, "2");
  assert.equal(r2.state.i, 3, "the loop ran to its maxVisits, then onLimit ended it");
  assert.deepEqual((r2.state.decision as { approved: boolean; by: string }).by, "kim");
  const ckpts = store.listCheckpoints(r1.threadId);
  assert.deepEqual(ckpts[1]!.ran, ["calc", "sub", "classify"], "the three branches ran in one superstep");
});

test("malformed graph files are refused with the reason and place", async () => {
  const dir = tempDir("strata-graph-bad-");
  const expectError = async (content: unknown, code: string, message: RegExp, name = "g.json") => {
    const path = write(dir, name, content);
    await assert.rejects(loadGraphFile(path, { tools: builtins }), (e: StrataError) => {
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      assert.ok(e.hint.length > 0);
      return true;
    });
  };
  const ok = { version: 1, name: "g", nodes: { a: { type: "set", values: {} } }, edges: [{ from: "START", to: "a" }] };
  await expectError("{ not json", "GRAPH_INVALID", /not valid JSON/);
  await expectError({ ...ok, version: 2 }, "GRAPH_INVALID", /version/);
  await expectError({ ...ok, nodes: { a: { type: "teleport" } } }, "GRAPH_INVALID", /nodes\.a/);
  await expectError({ ...ok, nodes: { a: { type: "set", values: {}, extra: 1 } } }, "GRAPH_INVALID", /nodes\.a/);
  await expectError({ ...ok, edges: [{ from: "START", to: "b" }] }, "GRAPH_INVALID", /"b", which does not exist/);
  await expectError({ ...ok, edges: [] }, "GRAPH_INVALID", /edges/);
  await expectError({ ...ok, edges: [{ from: "a", to: "a" }] }, "GRAPH_INVALID", /no edge leaves START/);
  await expectError({ ...ok, nodes: { a: { type: "tool", tool: "rm_rf" } } }, "TOOL_UNKNOWN", /tool "rm_rf", which is not available/);
  await expectError({ ...ok, nodes: { a: { type: "function", fn: "nope" } } }, "GRAPH_INVALID", /no function "nope"/);
  await expectError({ ...ok, reducers: { x: "multiply" } }, "GRAPH_INVALID", /reducers\.x/);
  await expectError({ ...ok, modules: ["./missing.mjs"] }, "GRAPH_INVALID", /module \.\/missing\.mjs could not be loaded/);
  write(dir, "nodefault.mjs", "export const x = 1;");
  await expectError({ ...ok, modules: ["./nodefault.mjs"] }, "GRAPH_INVALID", /no default export/);
  await expectError({ ...ok, nodes: { a: { type: "graph", file: "./g.json" } } }, "GRAPH_INVALID", /cycle/);
  await expectError("version: 1", "GRAPH_INVALID", /YAML graph files are not supported/, "g.yaml");
  await assert.rejects(loadGraphFile(join(dir, "absent.json")), (e: StrataError) => e.code === "NOT_FOUND");
});

test("graph input is checked against the file's state schema", async () => {
  const dir = tempDir("strata-graph-state-");
  const path = write(dir, "g.json", { version: 1, name: "typed", state: { type: "object", properties: { n: { type: "number" } }, required: ["n"] }, nodes: { a: { type: "set", values: { n: 1 } } }, edges: [{ from: "START", to: "a" }] });
  const loaded = await loadGraphFile(path);
  const store = AgentStore.open(tempDir("strata-graph-state-store-"), { create: true });
  await assert.rejects(runGraph(loaded.graph, { n: "one" }, { store }), (e: StrataError) => e.code === "GRAPH_INVALID" && /given as input is invalid: n/.test(e.message));
});
