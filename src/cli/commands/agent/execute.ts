// Running a spec: the model and built-in tools it names are opened, the run (or its resumption)
// goes through the graph runtime, and everything opened is closed again.
import type { State } from "../../../agents/graph/graph.js";
import { resumeGraph, runGraph, type RunOptions } from "../../../agents/graph/runtime.js";
import { connectMcp, type McpConnection, type McpTarget } from "../../../agents/mcp/client.js";
import { externalTool } from "../../../agents/tools/external.js";
import { buildRun, toolBoxFor, type BuiltRun, type RunSpec, type ToolFactories } from "../../../agents/run-spec.js";
import type { AgentStore } from "../../../agents/store/agent-store.js";
import { calculatorTool } from "../../../agents/tools/calculator.js";
import { readFileTool } from "../../../agents/tools/files.js";
import { httpGetTool } from "../../../agents/tools/http.js";
import { knowledgeTools } from "../../../agents/tools/knowledge.js";
import { shellTool } from "../../../agents/tools/shell.js";
import { sqlQueryTool } from "../../../agents/tools/sql.js";
import type { Tool, ToolBox } from "../../../agents/tools/tool.js";
import type { JsonValue, RunResult } from "../../../agents/types.js";
import { KnowledgeBase } from "../../../knowledge/knowledge-base.js";
import { createLanguageModel } from "../../../model/registry.js";
import type { LanguageModel } from "../../../model/types.js";
import { usageError } from "../../errors.js";
import { providerOptions } from "../../model-options.js";
import { parseAccess, parsePositiveInt } from "../../options.js";
import type { CommandContext } from "../../run.js";
import { actor, parseBudget, type RunFlags } from "./flags.js";
import { eventPrinter } from "./print.js";
import { readSpec } from "./store.js";

interface Resources {
  tools: ToolBox;
  model?: LanguageModel;
  close(): Promise<void>;
}

/** Opens the model and builds the built-in tools a spec names (unknown names are left for graph modules to supply). */
export async function openResources(spec: RunSpec, opts: { needModel: boolean }): Promise<Resources> {
  const c = spec.toolConfig;
  let kb: KnowledgeBase | undefined;
  let model: LanguageModel | undefined;
  const mcp: McpConnection[] = [];
  const close = async (): Promise<void> => {
    kb?.close();
    await model?.close();
    await Promise.all(mcp.map((m) => m.close()));
  };
  const knowledge = (name: string) => (): Tool[] => {
    if (!c.kb) throw usageError(`${name} needs --kb <dir>`, "name the knowledge base the agent may search");
    kb ??= KnowledgeBase.open(c.kb, {});
    return knowledgeTools({ kb, access: parseAccess({ as: c.as, groups: c.groups }) });
  };
  const factories: ToolFactories = {
    calculator: () => calculatorTool(),
    kb_search: knowledge("kb_search"),
    kb_ask: knowledge("kb_ask"),
    read_file: () => {
      if (!c.files) throw usageError("read_file needs --files <dir>", "name the one directory the agent may read files from");
      return readFileTool({ root: c.files });
    },
    sql_query: () => {
      if (!c.sql) throw usageError("sql_query needs --sql <file.db>", "name the SQLite database the agent may query (read-only)");
      return sqlQueryTool({ file: c.sql });
    },
    http_get: () => {
      if (!c.allowHosts?.length) throw usageError("http_get is off unless hosts are allowed", "add --allow-hosts example.com,api.example.com");
      return httpGetTool({ allowHosts: c.allowHosts });
    },
    shell: () => {
      if (!c.allowCommands?.length) throw usageError("shell is off unless commands are allowed", "add --allow-commands ls,wc (programs run without a shell)");
      return shellTool({ allowCommands: c.allowCommands, cwd: spec.cwd });
    },
  };
  try {
    if (spec.model) model = await createLanguageModel(spec.model, providerOptions());
    else if (opts.needModel) throw usageError("an agent run needs a language model", "add --model <ref>, e.g. --model gguf:./models/qwen2.5-1.5b-instruct-q4_k_m.gguf or --model openai:http://127.0.0.1:11434/v1#llama3.1");
    const tools = toolBoxFor(spec, factories);
    // MCP servers' allow-listed tools: risk "external", so every call waits for approval and is audited.
    for (const m of spec.mcp ?? []) {
      const conn = await connectMcp(mcpTarget(m.target, spec.cwd), { allow: m.allow });
      mcp.push(conn);
      for (const t of conn.tools) if (!tools.has(t.name)) tools.add(externalTool(t));
    }
    return { tools, model, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** `--mcp` values: an http(s) URL, or a command line split on spaces (run without a shell). */
function mcpTarget(target: string, cwd: string): McpTarget {
  if (/^https?:\/\//i.test(target)) return { url: target };
  const [command, ...args] = target.trim().split(/\s+/);
  return { command: command!, args, cwd };
}

/** Imports a graph module; TypeScript modules load through tsx when it is installed (development checkouts). */
export async function importModule(url: string): Promise<unknown> {
  if (/\.[cm]?ts$/.test(new URL(url).pathname)) {
    // Import through tsx from the start: a failed plain import would stay cached for this URL.
    let api: { tsImport?: (specifier: string, parent: string) => Promise<unknown> } | undefined;
    try {
      api = (await import("tsx/esm/api" as string)) as typeof api;
    } catch {
      api = undefined; // no tsx: the plain import below fails with a hint to compile the module
    }
    if (api?.tsImport) return api.tsImport(url, import.meta.url);
  }
  return import(url);
}

/** Runs a spec as a new run, or resumes one of its threads. */
export async function execute(
  spec: RunSpec,
  how: { kind: "run"; threadId?: string } | { kind: "resume"; threadId: string },
  common: { store: AgentStore; signal: AbortSignal; by: string; quiet?: boolean },
): Promise<RunResult<State>> {
  const res = await openResources(spec, { needModel: spec.kind === "goal" });
  try {
    const built: BuiltRun = await buildRun(spec, res.tools, { importModule });
    const opts: RunOptions = {
      store: common.store,
      model: res.model,
      tools: built.tools,
      budget: spec.budget,
      vars: built.vars,
      spec: spec as unknown as JsonValue,
      signal: common.signal,
      actor: common.by,
      auditKey: process.env.STRATA_AUDIT_KEY || undefined,
      onEvent: eventPrinter(common.quiet),
    };
    if (how.kind === "run") return await runGraph(built.graph, built.input, { ...opts, threadId: how.threadId });
    return await resumeGraph(built.graph, how.threadId, opts);
  } finally {
    await res.close();
  }
}

/** Continues a run, first saving into its spec any new limits or model the flags give. */
export async function resumeThread(store: AgentStore, threadId: string, flags: RunFlags, ctx: CommandContext): Promise<RunResult<State>> {
  const t = store.requireThread(threadId);
  if (t.parentId !== null) throw usageError(`${threadId} is a subgraph thread of run ${t.rootId}`, `resume the run: strata agent resume ${t.rootId}`);
  const spec = readSpec(t.spec, threadId);
  const updated: RunSpec = {
    ...spec,
    budget: flags.budget !== undefined ? { ...spec.budget, ...parseBudget(flags.budget) } : spec.budget,
    maxSteps: flags.maxSteps !== undefined ? parsePositiveInt("--max-steps", flags.maxSteps, 10, 10_000) : spec.maxSteps,
    model: flags.model ?? spec.model,
  };
  if (JSON.stringify(updated) !== JSON.stringify(spec)) store.updateSpec(threadId, updated as unknown as JsonValue);
  return execute(updated, { kind: "resume", threadId }, { store, signal: ctx.signal, by: actor(flags), quiet: flags.quiet });
}
