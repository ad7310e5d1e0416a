// The agent patterns by name, for runs and graph files that choose one in data: the agent loop; a
// planner whose steps an agent carries out; an actor that retries after the model's own critique;
// or a supervisor routing tasks to one worker per tool (each an agent with that tool).
import type { Graph, State } from "../graph/graph.js";
import { agentGraph, type AgentOptions } from "../loop/agent.js";
import { ToolBox } from "../tools/tool.js";
import { plannerSolver, plannerSolverInput } from "./planner-solver.js";
import { reflexion, reflexionInput } from "./reflexion.js";
import { supervisor, supervisorInput, type WorkerSpec } from "./supervisor.js";

export const RUN_PATTERNS = ["agent", "planner-solver", "reflexion", "supervisor"] as const;
export type RunPattern = (typeof RUN_PATTERNS)[number];

/** A pattern's graph with these agent settings, and its first state for a goal. */
export function patternGraph(pattern: RunPattern, agent: AgentOptions & { name?: string }, tools: ToolBox): { graph: Graph<State>; input: (goal: string) => State } {
  const as = (g: unknown): Graph<State> => g as Graph<State>;
  const name = agent.name;
  switch (pattern) {
    case "agent":
      return { graph: as(agentGraph(agent)), input: (goal) => ({ goal, messages: [{ role: "user", content: goal }], answer: null, toolMode: null }) };
    case "planner-solver":
      return { graph: as(plannerSolver({ solver: agent, ...(name ? { name } : {}) })), input: plannerSolverInput };
    case "reflexion":
      return { graph: as(reflexion({ actor: agent, ...(name ? { name } : {}) })), input: reflexionInput };
    case "supervisor": {
      const list = tools.list();
      const workers: Record<string, WorkerSpec> = list.length
        ? Object.fromEntries(list.map((t) => [t.name, { ...agent, tools: new ToolBox([t]), description: t.description }]))
        : { assistant: { ...agent, tools: new ToolBox(), description: "answers from what it knows, without tools" } };
      return { graph: as(supervisor({ workers, ...(name ? { name } : {}) })), input: supervisorInput };
    }
  }
}
