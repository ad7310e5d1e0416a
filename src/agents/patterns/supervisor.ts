// Supervisor with workers: a model routes the goal to named worker agents (each a tool-using agent
// with its own tools, run as a subgraph), reads what they report, and decides who works next or
// finishes with the answer.
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { END, graph, START, type Graph, type State } from "../graph/graph.js";
import { agentGraph, type AgentOptions } from "../loop/agent.js";

export interface SupervisorState extends State {
  goal: string;
  transcript: Array<{ worker: string; task: string; result: string | null }>;
  next: string | null;
  task: string | null;
  answer: string | null;
}

export interface WorkerSpec extends AgentOptions {
  description: string;
}

export interface SupervisorOptions {
  workers: Record<string, WorkerSpec>;
  /** Most worker turns in all (default 8). */
  maxTurns?: number;
  name?: string;
}

const FINISH = "FINISH";

export function supervisor(opts: SupervisorOptions): Graph<SupervisorState> {
  const names = Object.keys(opts.workers);
  if (names.length === 0) throw new StrataError("USAGE", "a supervisor needs at least one worker", "pass workers: { name: { description, tools } }");
  const maxTurns = opts.maxTurns ?? 8;
  const route = z.object({ next: z.string(), task: z.string().optional(), answer: z.string().optional() });
  const roster = names.map((n) => `- ${n}: ${opts.workers[n]!.description}`).join("\n");
  let b = graph<SupervisorState>({ name: opts.name ?? "supervisor", reducers: { transcript: "append" }, output: (s) => s.answer, maxSteps: maxTurns * 2 + 4 }).node(
    "supervise",
    async (s, ctx) => {
      const r = await ctx.generate({
        messages: [
          {
            role: "system",
            content: `You lead a team. Workers:\n${roster}\nGive the next worker one task, or finish. Reply as JSON {"next": "<worker>", "task": "..."} or {"next": "${FINISH}", "answer": "..."}.`,
          },
          { role: "user", content: `Goal: ${s.goal}\n\nReports so far:\n${s.transcript.map((t) => `[${t.worker}] ${t.task}\n→ ${t.result ?? "(no result)"}`).join("\n") || "(none)"}` },
        ],
        responseSchema: {
          type: "object",
          properties: { next: { type: "string", enum: [...names, FINISH] }, task: { type: "string" }, answer: { type: "string" } },
          required: ["next"],
          additionalProperties: false,
        },
        maxTokens: 512,
        temperature: 0,
      });
      const p = route.safeParse(r.json);
      if (!p.success || (p.data.next !== FINISH && !names.includes(p.data.next))) return { next: FINISH, answer: s.transcript[s.transcript.length - 1]?.result ?? r.text };
      if (p.data.next === FINISH) return { next: FINISH, answer: p.data.answer ?? s.transcript[s.transcript.length - 1]?.result ?? "" };
      return { next: p.data.next, task: p.data.task ?? s.goal };
    },
    { maxVisits: maxTurns + 1, onLimit: "finish" },
  );
  for (const name of names) {
    const worker = agentGraph({ ...opts.workers[name], name: `${opts.name ?? "supervisor"}.${name}` });
    b = b.node(`worker:${name}`, async (s, ctx) => {
      const task = s.task ?? s.goal;
      const final = await ctx.runGraph(worker, { goal: task, messages: [{ role: "user", content: task }], answer: null, toolMode: null });
      return { transcript: [{ worker: name, task, result: final.answer }] };
    });
    b = b.edge(`worker:${name}`, "supervise");
  }
  return b
    .node("finish", (s) => (s.answer !== null ? {} : { answer: s.transcript[s.transcript.length - 1]?.result ?? null }))
    .edge(START, "supervise")
    .conditional("supervise", (s) => (s.next === FINISH || s.next === null ? "finish" : `worker:${s.next}`), { targets: [...names.map((n) => `worker:${n}`), "finish"] })
    .edge("finish", END)
    .compile();
}

export function supervisorInput(goal: string): SupervisorState {
  return { goal, transcript: [], next: null, task: null, answer: null };
}
