// A run spec: how a run was started (goal or graph file, model, tools and their settings, which
// tools wait for a person, budget, variables), stored with the run so another process — the CLI the
// next morning, the server after a restart — rebuilds the same tools and graph and continues it.
// The CLI and the server both build runs from it here; each supplies its own tool factories
// (the CLI opens files and knowledge bases by path, the server by name with the caller's rights).
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import { loadGraphFile } from "./graph/file.js";
import type { Graph, State } from "./graph/graph.js";
import type { AgentOptions, AgentState } from "./loop/agent.js";
import { patternGraph, RUN_PATTERNS } from "./patterns/by-name.js";
import { ToolBox, type Tool } from "./tools/tool.js";
import type { JsonValue } from "./types.js";

export const BUILTIN_TOOLS = ["calculator", "kb_search", "kb_ask", "read_file", "sql_query", "http_get", "shell"] as const;

export { RUN_PATTERNS, type RunPattern } from "./patterns/by-name.js";

const budgetSchema = z.object({ tokens: z.number().optional(), costUsd: z.number().optional(), toolCalls: z.number().optional(), seconds: z.number().optional() }).strict();

export const runSpecSchema = z
  .object({
    v: z.literal(1),
    kind: z.enum(["goal", "graph"]),
    /** Who made the run: the CLI (model is a reference) or the server (model is a served id). Absent: the CLI. */
    origin: z.enum(["cli", "server"]).optional(),
    /** The server user the run belongs to (also kept in the store's owner column). */
    owner: z.string().optional(),
    goal: z.string().optional(),
    /** Goal runs: the pattern (default "agent"). */
    pattern: z.enum(RUN_PATTERNS).optional(),
    graphFile: z.string().optional(),
    model: z.string().nullable(),
    tools: z.array(z.string()),
    /** MCP servers whose allow-listed tools the run mounts: a command line (stdio) or an http(s) URL. */
    mcp: z.array(z.object({ target: z.string().min(1), allow: z.array(z.string().min(1)).min(1) }).strict()).optional(),
    /** Tools whose every call waits for a person's approval, whatever their risk. */
    approve: z.array(z.string()).optional(),
    toolConfig: z
      .object({
        kb: z.string().optional(),
        /** Server runs: knowledge bases by name. */
        kbs: z.array(z.string()).optional(),
        as: z.string().optional(),
        groups: z.string().optional(),
        files: z.string().optional(),
        sql: z.string().optional(),
        allowHosts: z.array(z.string()).optional(),
        allowCommands: z.array(z.string()).optional(),
      })
      .strict(),
    budget: budgetSchema,
    maxSteps: z.number().int().positive().optional(),
    toolMode: z.enum(["auto", "native", "json", "prompt"]).optional(),
    system: z.string().optional(),
    vars: z.record(z.string(), z.string()),
    input: z.record(z.string(), z.unknown()).optional(),
    cwd: z.string(),
  })
  .strict();

/** How a run was started, as stored with it. */
export type RunSpec = z.infer<typeof runSpecSchema>;

/** The stored spec of run `threadId`; USAGE when the run was not started from a spec. */
export function readRunSpec(value: JsonValue, threadId: string): RunSpec {
  const r = runSpecSchema.safeParse(value);
  if (!r.success) throw new StrataError("USAGE", `run ${threadId} was not started by \`strata agent run\` (it has no run spec the CLI can rebuild)`, "resume it from the program that started it (resumeGraph with the same graph)");
  return r.data;
}

/** Makes the tools of one built-in name (kb_search and kb_ask may come from one factory call). */
export type ToolFactories = Partial<Record<string, () => Tool | Tool[]>>;

/** The same tool, but every call waits for a person. */
function withApproval(tool: Tool): Tool {
  return { ...tool, requiresApproval: true };
}

/**
 * The toolbox a spec names, from the caller's factories. A goal run may only name built-in tools
 * its caller offers; a graph run's other names are left for the graph file's modules to supply.
 */
export function toolBoxFor(spec: RunSpec, factories: ToolFactories): ToolBox {
  const box = new ToolBox();
  const approve = new Set(spec.approve ?? []);
  for (const name of spec.tools) {
    if (box.has(name)) continue;
    const make = factories[name];
    if (!make) {
      if (spec.kind === "goal") throw new StrataError("TOOL_UNKNOWN", `no built-in tool named "${name}"`, `built-in tools: ${Object.keys(factories).join(", ")}`);
      continue;
    }
    const made = make();
    for (const t of Array.isArray(made) ? made : [made]) {
      if (spec.tools.includes(t.name) && !box.has(t.name)) box.add(approve.has(t.name) ? withApproval(t) : t);
    }
  }
  return box;
}

export interface BuiltRun {
  graph: Graph<State>;
  input: Record<string, unknown>;
  tools: ToolBox;
  vars: Record<string, string>;
}

/** The first state of an agent working on `goal`. */
export function goalInput(goal: string): AgentState {
  return { goal, messages: [{ role: "user", content: goal }], answer: null, toolMode: null };
}

/** The agent loop of a goal run (synchronous: nothing to load). */
export function buildGoalRun(spec: RunSpec, tools: ToolBox): BuiltRun {
  if (spec.kind !== "goal") throw new StrataError("USAGE", "this run is a graph file, not a goal", "build it with buildRun");
  const agent: AgentOptions = { tools, maxSteps: spec.maxSteps, toolMode: spec.toolMode ?? "auto", system: spec.system };
  const p = patternGraph(spec.pattern ?? "agent", agent, tools);
  return { graph: p.graph, input: p.input(spec.goal ?? ""), tools, vars: spec.vars };
}

/** The graph, first state and tools of a spec: the agent loop for a goal, or the graph file loaded with its modules. */
export async function buildRun(spec: RunSpec, tools: ToolBox, o: { importModule?: (url: string) => Promise<unknown> } = {}): Promise<BuiltRun> {
  if (spec.kind === "goal") return buildGoalRun(spec, tools);
  const loaded = await loadGraphFile(spec.graphFile!, { tools, vars: spec.vars, baseDir: spec.cwd, importModule: o.importModule });
  const builtin = BUILTIN_TOOLS as readonly string[];
  const unknown = spec.tools.filter((t) => !builtin.includes(t) && !loaded.tools.has(t));
  if (unknown.length) throw new StrataError("TOOL_UNKNOWN", `no tool named ${unknown.map((u) => `"${u}"`).join(", ")}`, `built-in tools: ${BUILTIN_TOOLS.join(", ")}; the graph's modules add: ${loaded.tools.names().filter((n) => !builtin.includes(n)).join(", ") || "none"}`);
  return { graph: loaded.graph, input: { ...loaded.input, ...(spec.input ?? {}) }, tools: loaded.tools, vars: loaded.vars };
}
