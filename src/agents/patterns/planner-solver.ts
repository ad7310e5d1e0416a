// Planner–solver: a model writes a plan of steps; each step is carried out by a tool-using agent
// (a subgraph, checkpointed on its own); after each step the model looks at what was done and
// continues, re-plans the remaining steps, or finishes with the answer.
//
//   const g = plannerSolver({ tools: [calculatorTool()], maxSteps: 6 });
//   const r = await runGraph(g, { goal: "…" }, { store, model });
import { z } from "zod";
import type { JsonSchema } from "../../model/types.js";
import { END, graph, START, type Graph, type State } from "../graph/graph.js";
import { agentGraph, type AgentOptions } from "../loop/agent.js";

export interface PlannerSolverState extends State {
  goal: string;
  plan: string[];
  done: Array<{ step: string; result: string | null }>;
  replans: number;
  answer: string | null;
}

export interface PlannerSolverOptions {
  /** Options of the agent that carries out each step (its tools, step limit, system text). */
  solver?: AgentOptions;
  /** Most steps in a plan (default 6). */
  maxPlanSteps?: number;
  /** Times the remaining plan may be rewritten (default 2). */
  maxReplans?: number;
  /** Most steps carried out in all (default 12). */
  maxSteps?: number;
  name?: string;
}

const planSchema = (max: number): JsonSchema => ({
  type: "object",
  properties: { steps: { type: "array", items: { type: "string" }, minItems: 1, maxItems: max } },
  required: ["steps"],
  additionalProperties: false,
});

const reviewSchema = (max: number): JsonSchema => ({
  type: "object",
  properties: {
    action: { type: "string", enum: ["continue", "replan", "finish"] },
    steps: { type: "array", items: { type: "string" }, maxItems: max },
    answer: { type: "string" },
  },
  required: ["action"],
  additionalProperties: false,
});

const planReply = z.object({ steps: z.array(z.string().min(1)).min(1) });
const reviewReply = z.object({ action: z.enum(["continue", "replan", "finish"]), steps: z.array(z.string().min(1)).optional(), answer: z.string().optional() });

function progress(s: PlannerSolverState): string {
  return s.done.length ? s.done.map((d, i) => `${i + 1}. ${d.step}\n   result: ${d.result ?? "(no result)"}`).join("\n") : "(nothing yet)";
}

export function plannerSolver(opts: PlannerSolverOptions = {}): Graph<PlannerSolverState> {
  const maxPlan = opts.maxPlanSteps ?? 6;
  const maxReplans = opts.maxReplans ?? 2;
  const solver = agentGraph({ ...opts.solver, name: `${opts.name ?? "planner-solver"}.solver` });
  return graph<PlannerSolverState>({
    name: opts.name ?? "planner-solver",
    reducers: { done: "append" },
    output: (s) => s.answer,
    maxSteps: (opts.maxSteps ?? 12) * 2 + 6,
  })
    .node("plan", async (s, ctx) => {
      const r = await ctx.generate({
        messages: [
          { role: "system", content: `Break the goal into at most ${maxPlan} concrete steps that an assistant with tools can carry out one by one. Reply as JSON {"steps": [...]}.` },
          { role: "user", content: s.goal },
        ],
        responseSchema: planSchema(maxPlan),
        maxTokens: 512,
        temperature: 0,
      });
      const p = planReply.safeParse(r.json);
      return { plan: p.success ? p.data.steps.slice(0, maxPlan) : [s.goal], done: [] };
    })
    .node(
      "execute",
      async (s, ctx) => {
        const step = s.plan[0]!;
        const goal = `Overall goal: ${s.goal}\n\nDone so far:\n${progress(s)}\n\nNow carry out this step and report its result: ${step}`;
        const final = await ctx.runGraph(solver, { goal, messages: [{ role: "user", content: goal }], answer: null, toolMode: null });
        return { plan: s.plan.slice(1), done: [{ step, result: final.answer }] };
      },
      { maxVisits: opts.maxSteps ?? 12, onLimit: "finish" },
    )
    .node("review", async (s, ctx) => {
      const r = await ctx.generate({
        messages: [
          {
            role: "system",
            content:
              'You check the progress of a plan. Reply as JSON: {"action": "finish", "answer": "..."} when the goal is reached; {"action": "continue"} to carry on with the remaining steps; {"action": "replan", "steps": [...]} to replace the remaining steps.',
          },
          { role: "user", content: `Goal: ${s.goal}\n\nDone:\n${progress(s)}\n\nRemaining steps:\n${s.plan.map((p, i) => `${i + 1}. ${p}`).join("\n") || "(none)"}` },
        ],
        responseSchema: reviewSchema(maxPlan),
        maxTokens: 512,
        temperature: 0,
      });
      const v = reviewReply.safeParse(r.json);
      if (!v.success) return {};
      if (v.data.action === "finish") return { answer: v.data.answer ?? s.done[s.done.length - 1]?.result ?? "" };
      if (v.data.action === "replan" && v.data.steps?.length && s.replans < maxReplans) return { plan: v.data.steps.slice(0, maxPlan), replans: s.replans + 1 };
      return {};
    })
    .node("finish", async (s, ctx) => {
      if (s.answer !== null) return {};
      const r = await ctx.generate({
        messages: [
          { role: "system", content: "Write the final answer to the goal from the results of the steps." },
          { role: "user", content: `Goal: ${s.goal}\n\nResults:\n${progress(s)}` },
        ],
        maxTokens: 512,
        temperature: 0,
      });
      return { answer: r.text };
    })
    .edge(START, "plan")
    .edge("plan", "execute")
    .edge("execute", "review")
    .conditional("review", (s) => (s.answer !== null ? END : s.plan.length ? "execute" : "finish"), { targets: ["execute", "finish", END] })
    .edge("finish", END)
    .compile();
}

/** The input of a planner–solver run. */
export function plannerSolverInput(goal: string): PlannerSolverState {
  return { goal, plan: [], done: [], replans: 0, answer: null };
}
