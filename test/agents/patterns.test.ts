// Ready patterns as graphs: planner–solver (plan, execute steps with a tool-using solver, re-plan),
// Reflexion (attempt, evaluate, reflect, retry up to N) and a supervisor routing to worker agents —
// each driven by a scripted model that answers by the kind of request it gets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runGraph } from "../../src/agents/graph/runtime.js";
import { plannerSolver, plannerSolverInput } from "../../src/agents/patterns/planner-solver.js";
import { reflexion, reflexionInput } from "../../src/agents/patterns/reflexion.js";
import { supervisor, supervisorInput } from "../../src/agents/patterns/supervisor.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import type { GenerateRequest } from "../../src/model/types.js";
import { tempDir } from "../helpers/paths.js";
import { scriptedModel, type ScriptStep } from "./helpers/scripted-model.js";

const newStore = (): AgentStore => AgentStore.open(tempDir("strata-patterns-"), { create: true });
const system = (r: GenerateRequest): string => r.messages[0]?.content ?? "";
const lastTool = (r: GenerateRequest) => r.messages.filter((m) => m.role === "tool").at(-1);

test("planner–solver: plans two steps, solves each with the calculator, re-plans once, finishes with the answer", async () => {
  const store = newStore();
  let reviews = 0;
  const model = scriptedModel((r): ScriptStep => {
    if (/Break the goal/.test(system(r))) return { json: { steps: ["compute 12 * 3", "add 4 to it"] } };
    if (/check the progress of a plan/.test(system(r))) {
      reviews++;
      if (reviews === 1) return { json: { action: "replan", steps: ["add 4 to 36"] } };
      return { json: { action: "finish", answer: "40" } };
    }
    // The solver agent: call the calculator once per step, then report.
    const tool = lastTool(r);
    if (tool) return { text: `result ${(JSON.parse(tool.content) as { result: number }).result}` };
    const step = /Now carry out this step and report its result: (.*)$/.exec(r.messages.at(-1)!.content)![1]!;
    return { calls: [{ name: "calculator", args: { expression: /12 \* 3/.test(step) ? "12 * 3" : "36 + 4" } }] };
  });
  const r = await runGraph(plannerSolver({ solver: { tools: [calculatorTool()] } }), plannerSolverInput("What is 12 * 3 + 4?"), { store, model, tools: [calculatorTool()] });
  assert.equal(r.status, "completed");
  assert.equal(r.result, "40");
  assert.deepEqual(r.state.done, [{ step: "compute 12 * 3", result: "result 36" }, { step: "add 4 to 36", result: "result 40" }]);
  assert.equal(r.state.replans, 1);
  const threads = store.threadsOfRun(r.threadId).map((t) => t.threadId.slice(r.threadId.length));
  assert.deepEqual(threads, ["", "/execute.1", "/execute.2"], "each step's solver is its own checkpointed thread");
});

test("Reflexion: failed attempts leave reflections the next attempt sees; stops at the first pass or after maxTrials", async () => {
  const store = newStore();
  const model = scriptedModel((r): ScriptStep => {
    const goal = r.messages.find((m) => m.role === "user")!.content;
    return { text: /Lessons:[\s\S]*uppercase/.test(goal) ? "HELLO" : "hello" };
  });
  const evaluate = (attempt: string) => (attempt === attempt.toUpperCase() ? { pass: true, feedback: "" } : { pass: false, feedback: "the answer must be uppercase" });
  const r = await runGraph(reflexion({ evaluate, maxTrials: 3 }), reflexionInput("Greet"), { store, model });
  assert.deepEqual([r.status, r.result, r.state.trials, r.state.passed], ["completed", "HELLO", 2, true]);
  assert.deepEqual(r.state.reflections, ["the answer must be uppercase"]);

  const never = await runGraph(reflexion({ evaluate: () => ({ pass: false, feedback: "no" }), maxTrials: 2 }), reflexionInput("Greet"), { store, model });
  assert.deepEqual([never.status, never.state.trials, never.state.passed], ["completed", 2, false]);

  const critic = scriptedModel((r): ScriptStep => (/review an attempt/.test(system(r)) ? { json: { pass: true, feedback: "fine" } } : { text: "draft" }));
  const byModel = await runGraph(reflexion(), reflexionInput("Write"), { store, model: critic });
  assert.deepEqual([byModel.result, byModel.state.trials, byModel.state.passed], ["draft", 1, true]);
});

test("supervisor: routes tasks to workers with their own tools and finishes with their results", async () => {
  const store = newStore();
  const model = scriptedModel((r): ScriptStep => {
    if (/You lead a team/.test(system(r))) {
      const reports = r.messages[1]!.content;
      if (!/\[math\]/.test(reports)) return { json: { next: "math", task: "compute 6 * 7" } };
      if (!/\[writer\]/.test(reports)) return { json: { next: "writer", task: "phrase the number 42" } };
      return { json: { next: "FINISH", answer: "The answer is forty-two (42)." } };
    }
    if (r.tools?.some((t) => t.name === "calculator")) return lastTool(r) ? { text: "42" } : { calls: [{ name: "calculator", args: { expression: "6 * 7" } }] };
    return { text: "forty-two" };
  });
  const g = supervisor({ workers: { math: { description: "does arithmetic", tools: [calculatorTool()] }, writer: { description: "writes prose", tools: [] } } });
  const r = await runGraph(g, supervisorInput("What is 6 * 7, in words?"), { store, model, tools: [calculatorTool()] });
  assert.equal(r.status, "completed");
  assert.equal(r.result, "The answer is forty-two (42).");
  assert.deepEqual(r.state.transcript, [
    { worker: "math", task: "compute 6 * 7", result: "42" },
    { worker: "writer", task: "phrase the number 42", result: "forty-two" },
  ]);
  assert.equal(r.usage.toolCalls, 1);
});
