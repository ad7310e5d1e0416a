// Reflexion: an actor attempts the task (a tool-using agent, as a subgraph), an evaluator judges the
// attempt (a function you give, e.g. tests that run; or the model as critic), and a failed attempt's
// critique is kept as a reflection the next attempt sees — up to maxTrials attempts.
import { z } from "zod";
import { END, graph, START, type Graph, type State } from "../graph/graph.js";
import type { NodeContext } from "../graph/graph.js";
import { agentGraph, type AgentOptions } from "../loop/agent.js";

export interface ReflexionState extends State {
  task: string;
  attempt: string | null;
  reflections: string[];
  trials: number;
  passed: boolean;
}

export interface Evaluation {
  pass: boolean;
  /** Why it failed, in words the next attempt can act on. */
  feedback: string;
}

export interface ReflexionOptions {
  actor?: AgentOptions;
  /** Judges an attempt; without it the model critiques the attempt. Must be deterministic to resume cleanly. */
  evaluate?: (attempt: string, state: ReflexionState, ctx: NodeContext) => Evaluation | Promise<Evaluation>;
  /** Most attempts (default 3). */
  maxTrials?: number;
  name?: string;
}

const critique = z.object({ pass: z.boolean(), feedback: z.string() });

export function reflexion(opts: ReflexionOptions = {}): Graph<ReflexionState> {
  const maxTrials = opts.maxTrials ?? 3;
  const actor = agentGraph({ ...opts.actor, name: `${opts.name ?? "reflexion"}.actor` });
  return graph<ReflexionState>({ name: opts.name ?? "reflexion", reducers: { reflections: "append" }, output: (s) => s.attempt, maxSteps: maxTrials * 2 + 2 })
    .node(
      "act",
      async (s, ctx) => {
        const lessons = s.reflections.length ? `\n\nEarlier attempts failed. Lessons:\n${s.reflections.map((r, i) => `${i + 1}. ${r}`).join("\n")}` : "";
        const goal = `${s.task}${lessons}`;
        const final = await ctx.runGraph(actor, { goal, messages: [{ role: "user", content: goal }], answer: null, toolMode: null });
        return { attempt: final.answer ?? "", trials: s.trials + 1 };
      },
      { maxVisits: maxTrials },
    )
    .node("evaluate", async (s, ctx) => {
      let e: Evaluation;
      if (opts.evaluate) e = await opts.evaluate(s.attempt ?? "", s, ctx);
      else {
        const r = await ctx.generate({
          messages: [
            { role: "system", content: 'You review an attempt at a task. Reply as JSON {"pass": true|false, "feedback": "what is wrong and how to fix it"}.' },
            { role: "user", content: `Task: ${s.task}\n\nAttempt:\n${s.attempt ?? ""}` },
          ],
          responseSchema: { type: "object", properties: { pass: { type: "boolean" }, feedback: { type: "string" } }, required: ["pass", "feedback"], additionalProperties: false },
          maxTokens: 256,
          temperature: 0,
        });
        const p = critique.safeParse(r.json);
        e = p.success ? p.data : { pass: false, feedback: "the critique could not be read" };
      }
      return e.pass ? { passed: true } : { passed: false, reflections: [e.feedback] };
    })
    .edge(START, "act")
    .edge("act", "evaluate")
    .conditional("evaluate", (s) => (s.passed || s.trials >= maxTrials ? END : "act"), { targets: ["act", END] })
    .compile();
}

export function reflexionInput(task: string): ReflexionState {
  return { task, attempt: null, reflections: [], trials: 0, passed: false };
}
