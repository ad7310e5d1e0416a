// `strata agent run | resume | approve | reject | show | fork`: agent runs and workflow graphs with
// checkpoints in an agent store (default .strata/agents). A run records how it was started (its
// "spec": goal or graph file, model reference, tools and their settings, budget, variables), so a
// later command in another process — an approval the next morning, a resume after a crash — rebuilds
// the same run and continues it from its last checkpoint.
import { Option, type Command } from "commander";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import { StrataError } from "../../core/errors.js";
import { decide, forkRun, resumeGraph, runGraph, runState, type RunOptions } from "../../agents/graph/runtime.js";
import type { State } from "../../agents/graph/graph.js";
import { BUILTIN_TOOLS, buildRun, readRunSpec, toolBoxFor, type BuiltRun, type RunSpec, type ToolFactories } from "../../agents/run-spec.js";
import { AgentStore } from "../../agents/store/agent-store.js";
import { AuditLog, type AuditEntry } from "../../agents/store/audit.js";
import { calculatorTool } from "../../agents/tools/calculator.js";
import { readFileTool } from "../../agents/tools/files.js";
import { httpGetTool } from "../../agents/tools/http.js";
import { knowledgeTools } from "../../agents/tools/knowledge.js";
import { shellTool } from "../../agents/tools/shell.js";
import { sqlQueryTool } from "../../agents/tools/sql.js";
import type { Tool, ToolBox } from "../../agents/tools/tool.js";
import type { AgentEvent, Budget, JsonValue, RunResult } from "../../agents/types.js";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { createLanguageModel } from "../../model/registry.js";
import type { LanguageModel } from "../../model/types.js";
import { EXIT, usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parseAccess, parseList, parsePositiveInt } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

export const DEFAULT_STORE = ".strata/agents";
export { BUILTIN_TOOLS, type RunSpec };

interface ToolFlags {
  tools?: string;
  kb?: string;
  as?: string;
  groups?: string;
  files?: string;
  sql?: string;
  allowHosts?: string;
  allowCommands?: string;
}

interface RunFlags extends ToolFlags {
  goal?: string;
  model?: string;
  budget?: string;
  store?: string;
  var?: string[];
  input?: string;
  maxSteps?: string;
  toolMode?: "auto" | "native" | "json" | "prompt";
  system?: string;
  thread?: string;
  by?: string;
  quiet?: boolean;
  json?: boolean;
}

const BUDGET_KEYS: Record<string, keyof Budget> = { tokens: "tokens", cost: "costUsd", calls: "toolCalls", seconds: "seconds", time: "seconds" };

/** "tokens=5000,cost=0.50,calls=20,seconds=300" → Budget. */
export function parseBudget(value: string | undefined): Budget {
  const out: Budget = {};
  for (const part of parseList(value)) {
    const m = /^([a-z]+)\s*=\s*([0-9]+(?:\.[0-9]+)?)$/i.exec(part);
    const key = m ? BUDGET_KEYS[m[1]!.toLowerCase()] : undefined;
    if (!m || !key) throw usageError(`--budget: cannot read "${part}"`, "use key=value pairs from tokens, cost (US dollars), calls (tool calls), seconds, e.g. --budget tokens=20000,calls=10,seconds=120");
    out[key] = Number(m[2]);
  }
  return out;
}

function parseVars(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf("=");
    if (i <= 0) throw usageError(`--var: "${v}" is not key=value`, "e.g. --var db=./uat/cases.db");
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function storePath(flags: { store?: string }): string {
  return resolve(flags.store ?? DEFAULT_STORE);
}

function actor(flags: { by?: string }): string {
  if (flags.by?.trim()) return flags.by.trim();
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}

/** The tools a run gets: those named by --tools, or by default the calculator plus every tool whose settings were given. */
function toolSelection(flags: ToolFlags): { tools: string[]; config: RunSpec["toolConfig"] } {
  const config: RunSpec["toolConfig"] = {
    kb: flags.kb ? resolve(flags.kb) : undefined,
    as: flags.as,
    groups: flags.groups,
    files: flags.files ? resolve(flags.files) : undefined,
    sql: flags.sql ? resolve(flags.sql) : undefined,
    allowHosts: flags.allowHosts ? parseList(flags.allowHosts) : undefined,
    allowCommands: flags.allowCommands ? parseList(flags.allowCommands) : undefined,
  };
  let tools: string[];
  if (flags.tools !== undefined) {
    tools = flags.tools.trim().toLowerCase() === "none" ? [] : parseList(flags.tools);
  } else {
    tools = ["calculator"];
    if (config.kb) tools.push("kb_search", "kb_ask");
    if (config.files) tools.push("read_file");
    if (config.sql) tools.push("sql_query");
    if (config.allowHosts?.length) tools.push("http_get");
    if (config.allowCommands?.length) tools.push("shell");
  }
  return { tools, config };
}

interface Resources {
  tools: ToolBox;
  model?: LanguageModel;
  close(): Promise<void>;
}

/** Opens the model and builds the built-in tools a spec names (unknown names are left for graph modules to supply). */
async function openResources(spec: RunSpec, opts: { needModel: boolean }): Promise<Resources> {
  const c = spec.toolConfig;
  let kb: KnowledgeBase | undefined;
  let model: LanguageModel | undefined;
  const close = async (): Promise<void> => {
    kb?.close();
    await model?.close();
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
    return { tools: toolBoxFor(spec, factories), model, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Imports a graph module; TypeScript modules load through tsx when it is installed (development checkouts). */
async function importModule(url: string): Promise<unknown> {
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

function readSpec(value: JsonValue, threadId: string): RunSpec {
  const spec = readRunSpec(value, threadId);
  if (spec.origin === "server") throw new StrataError("USAGE", `run ${threadId} belongs to the Strata server (its owner is ${spec.owner ?? "unknown"})`, "approve, reject or resume it through the server: POST /api/agent-runs/<id>/approve (or the web UI)");
  return spec;
}

function eventPrinter(quiet: boolean | undefined): ((e: AgentEvent) => void) | undefined {
  if (quiet) return undefined;
  return (e) => {
    const line = ((): string | undefined => {
      switch (e.type) {
        case "model-call":
          return `· ${e.node}: model call (${e.inputTokens} in, ${e.outputTokens} out${e.toolCalls ? `, ${e.toolCalls} tool call${e.toolCalls > 1 ? "s" : ""}` : ""})`;
        case "tool-call":
          return `· ${e.tool} ${e.callId}: ${e.ok ? "ok" : "error"}${e.replayed ? " (replayed from the journal)" : ""}`;
        case "approval-needed":
          return `· waiting for approval: ${e.callId} (${e.tool ?? "gate"}) — ${e.reason}`;
        case "guardrail":
          return `! guardrail: ${e.message}`;
        case "retry":
          return `· retry ${e.attempt} of ${e.what} in ${Math.round(e.delayMs)} ms: ${e.error}`;
        default:
          return undefined;
      }
    })();
    if (line) process.stderr.write(line + "\n");
  };
}

/** The --json shape of run, resume, approve and reject. */
export function runJson(r: RunResult<State>): Record<string, unknown> {
  return {
    threadId: r.threadId,
    status: r.status,
    pending: r.pending.map((p) => ({ callId: p.callId, tool: p.tool, args: p.args, reason: p.reason })),
    result: r.result,
    usage: r.usage,
    ...(r.stop ? { stop: r.stop } : {}),
    ...(r.error ? { error: r.error } : {}),
    checkpointId: r.checkpointId,
  };
}

function exitCode(r: RunResult<State>): number {
  return r.status === "failed" ? EXIT.error : r.status === "budget_exceeded" ? EXIT.partial : EXIT.ok;
}

function short(value: unknown, max = 160): string {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function printRun(r: RunResult<State>, store: string): void {
  const out = (s: string): boolean => process.stdout.write(s + "\n");
  const u = r.usage;
  const cost = u.costUsd > 0 ? ` · $${u.costUsd.toFixed(6)}` : "";
  const storeFlag = store === resolve(DEFAULT_STORE) ? "" : ` --store ${store}`;
  out(`thread ${r.threadId}: ${r.status} · ${u.steps} steps · ${u.modelCalls} model calls · ${u.toolCalls} tool calls · ${u.inputTokens + u.outputTokens} tokens${cost} · ${(u.elapsedMs / 1000).toFixed(1)} s`);
  if (r.status === "completed") out(`result: ${typeof r.result === "string" ? r.result : JSON.stringify(r.result, null, 2)}`);
  if (r.status === "interrupted") {
    out("waiting for approval:");
    for (const p of r.pending) out(`  ${p.callId}  ${p.tool ?? "(approval gate)"} ${short(p.args)}\n    why: ${p.reason}`);
    const first = r.pending[0];
    if (first) out(`approve: strata agent approve ${r.threadId} ${first.callId}${storeFlag}   (or --all; edit with --args '<json>')\nreject:  strata agent reject ${r.threadId} ${first.callId}${storeFlag} --comment "<why>"`);
  }
  if (r.stop) out(`stopped: ${r.stop.reason} limit ${r.stop.limit} reached (used ${r.stop.used}${r.stop.node ? ` by node ${r.stop.node}` : ""}); the state is saved — continue with: strata agent resume ${r.threadId}${storeFlag} --budget …`);
  if (r.error) out(`error: ${r.error.message}${r.error.hint ? `\nhint: ${r.error.hint}` : ""}\nresume after fixing: strata agent resume ${r.threadId}${storeFlag}`);
}

async function execute(
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

function openStore(flags: { store?: string }, create = false): AgentStore {
  return AgentStore.open(storePath(flags), { create });
}

const RUN_HELP = `
A run is either an agent working towards --goal with tools, or a workflow graph from a JSON file.
After every node the state is saved in the agent store (--store, default ${DEFAULT_STORE}), so a
run stopped by an approval, a budget, Ctrl-C or a crash continues with \`strata agent resume\`.

Tools (--tools a,b,…; default: calculator plus every tool whose settings you give):
  calculator                 arithmetic, no eval
  kb_search, kb_ask          the knowledge base of --kb, as --as/--groups (ACLs hold)
  read_file                  files inside --files <dir> only
  sql_query                  read-only SQL over --sql <file.db>
  http_get                   GET to --allow-hosts only (off by default)
  shell                      programs from --allow-commands only, no shell (off by default)
Write and external tools wait for approval; so does any tool call after retrieved or
tool-returned text that contains instructions.

Graph files are JSON: nodes (function, tool, model, agent, graph, approval, set), edges, conditional
branches, joins, loop limits; see docs/architecture.md ("Agents") and examples/uat-assistant/graph.json.

Budgets stop the run cleanly with its state saved (exit code 3): --budget tokens=20000,cost=0.05,calls=10,seconds=120
Exit codes: 0 completed or waiting for approval, 3 stopped at a budget, 1 failed, 2 usage error.
With STRATA_AUDIT_KEY set, the audit chain is keyed (HMAC); verify with the same key.

Examples:
  strata agent run --goal "What is 17.5% of 2,340?" --model gguf:./models/qwen2.5-1.5b-instruct-q4_k_m.gguf
  strata agent run --goal "Which refund rules apply to damaged items?" --model openai:http://127.0.0.1:11434/v1#llama3.1 --kb ./kb --as alice --budget tokens=20000,calls=8 --json
  strata agent run examples/uat-assistant/graph.json --kb ./uat/kb --var export=./uat/export --var db=./uat/cases.db --store ./uat/agents`;

export function registerAgent(program: Command): void {
  const agent = program.command("agent").description("run tool-using agents and workflow graphs with checkpoints, approvals, budgets and an audit trail");
  agent.addHelpText("after", "\nExamples:\n  strata agent run --goal \"What is 17.5% of 2,340?\" --model gguf:./models/chat.gguf\n  strata agent show\n  strata agent approve <thread> <call>");

  const toolOptions = (c: Command): Command =>
    c
      .option("--tools <names>", `tools the run may use (comma-separated; "none" for none): ${BUILTIN_TOOLS.join(", ")}`)
      .option("--kb <dir>", "knowledge base for kb_search and kb_ask")
      .option("--as <user>", "the user the agent acts for in the knowledge base (default: the store's owner)")
      .option("--groups <groups>", "groups of the --as user (comma-separated)")
      .option("--files <dir>", "the one directory read_file may read")
      .option("--sql <file.db>", "SQLite database for sql_query (opened read-only)")
      .option("--allow-hosts <hosts>", "hosts http_get may reach (comma-separated; enables http_get)")
      .option("--allow-commands <programs>", "programs shell may run (comma-separated; enables shell)");

  toolOptions(
    agent
      .command("run")
      .description("start an agent run (--goal) or a workflow graph (a JSON file)")
      .argument("[graph]", "workflow graph file (JSON)")
      .option("--goal <text>", "what the agent should do (instead of a graph file)")
      .option("--model <ref>", "language model, e.g. gguf:./models/chat.gguf or openai:http://127.0.0.1:11434/v1#llama3.1"),
  )
    .option("--budget <limits>", "stop cleanly at: tokens=N, cost=USD, calls=N (tool calls), seconds=N")
    .option("--max-steps <n>", "with --goal: most model calls (default 10)")
    .addOption(new Option("--tool-mode <mode>", "with --goal: native tool calls, schema-constrained JSON replies, JSON asked for in words (prompt), or auto (native, then json, then prompt as the provider refuses each)").choices(["auto", "native", "json", "prompt"]))
    .option("--system <text>", "with --goal: extra instructions for the agent")
    .option("--var <key=value>", "a run variable for graph files (repeatable)", collect)
    .option("--input <json>", "graph input state as JSON (merged over the file's input)")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--thread <id>", "id for the new run (default: a random thr_… id)")
    .option("--by <name>", "who starts the run, for the audit log (default: your user name)")
    .option("--quiet", "no progress lines on stderr")
    .option("--json", "print one JSON document: {threadId, status, pending:[{callId, tool, args, reason}], result, usage}")
    .addHelpText("after", RUN_HELP)
    .action(withCommand(async (graphFile: string | undefined, flags: RunFlags, ctx: CommandContext) => {
      if (graphFile && flags.goal) throw usageError("give a graph file or --goal, not both", "e.g. strata agent run --goal \"…\" --model <ref>");
      if (!graphFile && !flags.goal) throw usageError("nothing to run", "give a graph file (strata agent run graph.json) or --goal \"<text>\" --model <ref>");
      if (flags.input !== undefined && flags.goal) throw usageError("--input goes with a graph file", "put what the agent needs into --goal");
      if (flags.goal !== undefined && !flags.goal.trim()) throw usageError("--goal is empty", 'say what the agent should do, e.g. --goal "Summarise the open incidents"');
      const { tools, config } = toolSelection(flags);
      for (const t of tools) if (flags.goal && !(BUILTIN_TOOLS as readonly string[]).includes(t)) throw new StrataError("TOOL_UNKNOWN", `no built-in tool named "${t}"`, `built-in tools: ${BUILTIN_TOOLS.join(", ")}`);
      const spec: RunSpec = {
        v: 1,
        kind: flags.goal ? "goal" : "graph",
        goal: flags.goal,
        graphFile: graphFile ? resolve(graphFile) : undefined,
        model: flags.model ?? null,
        tools,
        toolConfig: config,
        budget: parseBudget(flags.budget),
        maxSteps: flags.maxSteps === undefined ? undefined : parsePositiveInt("--max-steps", flags.maxSteps, 10, 10_000),
        toolMode: flags.toolMode,
        system: flags.system,
        vars: parseVars(flags.var),
        cwd: process.cwd(),
      };
      if (flags.input !== undefined) {
        let input: unknown;
        try {
          input = JSON.parse(flags.input);
        } catch (e) {
          throw usageError(`--input is not JSON: ${(e as Error).message}`, `e.g. --input '{"question": "…"}'`);
        }
        if (!input || typeof input !== "object" || Array.isArray(input)) throw usageError("--input must be a JSON object", `e.g. --input '{"question": "…"}'`);
        spec.input = input as Record<string, unknown>;
      }
      const store = openStore(flags, true);
      try {
        const r = await execute(spec, { kind: "run", threadId: flags.thread }, { store, signal: ctx.signal, by: actor(flags), quiet: flags.quiet });
        if (flags.json) ctx.printJson(runJson(r));
        else printRun(r, store.location);
        return exitCode(r);
      } finally {
        store.close();
      }
    }));

  agent
    .command("resume")
    .description("continue a run from its last checkpoint (after approvals, a budget stop, an error or a crash)")
    .argument("<thread>", "the run's thread id")
    .option("--budget <limits>", "new limits (replacing the named ones): tokens=N, cost=USD, calls=N, seconds=N")
    .option("--max-steps <n>", "new limit of model calls (goal runs)")
    .option("--model <ref>", "use this model reference from now on (e.g. the file moved)")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--by <name>", "who resumes, for the audit log")
    .option("--quiet", "no progress lines on stderr")
    .option("--json", "print one JSON document: {threadId, status, pending, result, usage}")
    .addHelpText("after", "\nExamples:\n  strata agent resume thr_0123456789abcdef\n  strata agent resume thr_0123456789abcdef --budget tokens=50000 --json")
    .action(withCommand(async (threadId: string, flags: RunFlags, ctx: CommandContext) => {
      const store = openStore(flags);
      try {
        const r = await resumeThread(store, threadId, flags, ctx);
        if (flags.json) ctx.printJson(runJson(r));
        else printRun(r, store.location);
        return exitCode(r);
      } finally {
        store.close();
      }
    }));

  const decideCommand = (name: "approve" | "reject"): void => {
    const c = agent
      .command(name)
      .description(name === "approve" ? "approve a pending tool call (optionally with edited arguments) and resume the run" : "reject a pending tool call (the model is told) and resume the run")
      .argument("<thread>", "the run's thread id")
      .argument(name === "approve" ? "[call]" : "<call>", "the pending call's id (listed by run, resume and show)")
      .option("--comment <text>", "why (kept in the audit log; a rejection's reason is shown to the model)")
      .option("--by <name>", "who decides, for the audit log (default: your user name)")
      .option("--no-resume", "only record the decision; resume later")
      .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
      .option("--quiet", "no progress lines on stderr")
      .option("--json", "print one JSON document: {threadId, status, pending, result, usage}");
    if (name === "approve") c.option("--args <json>", "approve with these arguments instead (JSON object)").option("--all", "approve every pending call of the run");
    c.addHelpText("after", name === "approve" ? "\nExamples:\n  strata agent approve thr_0123456789abcdef call_2_1\n  strata agent approve thr_0123456789abcdef call_2_1 --args '{\"title\": \"Login with SSO\"}' --comment \"shorter title\"\n  strata agent approve thr_0123456789abcdef --all --json" : "\nExample:\n  strata agent reject thr_0123456789abcdef call_2_1 --comment \"do not file duplicates\"");
    c.action(withCommand(async (threadId: string, callId: string | undefined, flags: RunFlags & { comment?: string; resume?: boolean; args?: string; all?: boolean }, ctx: CommandContext) => {
      const store = openStore(flags);
      try {
        const t = store.requireThread(threadId);
        let args: JsonValue | undefined;
        if (flags.args !== undefined) {
          try {
            args = JSON.parse(flags.args) as JsonValue;
          } catch (e) {
            throw usageError(`--args is not JSON: ${(e as Error).message}`, `e.g. --args '{"title": "…"}'`);
          }
          if (flags.all) throw usageError("--args edits one call; it cannot go with --all", "approve the calls one by one");
        }
        const ids = flags.all ? store.approvalsOfRun(t.rootId, "pending").map((a) => a.callId) : callId ? [callId] : [];
        if (ids.length === 0) {
          if (flags.all) throw new StrataError("NOT_PENDING", `run ${threadId} has no calls waiting for approval`, "see the run with `strata agent show <thread>`");
          throw usageError("name the call to approve, or pass --all", `list pending calls with: strata agent show ${threadId}`);
        }
        const by = actor(flags);
        let tools: ToolBox | undefined;
        if (args !== undefined && t.spec !== null) {
          const spec = readSpec(t.spec, t.threadId);
          const res = await openResources({ ...spec, model: null }, { needModel: false }).catch(() => undefined);
          if (res) {
            tools = (await buildRun(spec, res.tools, { importModule }).catch(() => undefined))?.tools ?? res.tools;
            await res.close();
          }
        }
        for (const id of ids) decide(store, t.rootId, id, { approve: name === "approve", by, args, comment: flags.comment, auditKey: process.env.STRATA_AUDIT_KEY || undefined, tools });
        if (flags.resume === false) {
          const r = runState(store, t.rootId);
          if (flags.json) ctx.printJson(runJson(r));
          else process.stdout.write(`recorded: ${ids.join(", ")} ${name === "approve" ? "approved" : "rejected"} by ${by}; continue with: strata agent resume ${t.rootId}\n`);
          return 0;
        }
        const stillPending = store.approvalsOfRun(t.rootId, "pending");
        if (stillPending.length) {
          const r = runState(store, t.rootId);
          if (flags.json) ctx.printJson(runJson(r));
          else {
            process.stdout.write(`recorded: ${ids.join(", ")} ${name === "approve" ? "approved" : "rejected"} by ${by}; the run resumes when every pending call is decided\n`);
            printRun(r, store.location);
          }
          return 0;
        }
        const r = await resumeThread(store, t.rootId, { ...flags, by }, ctx);
        if (flags.json) ctx.printJson(runJson(r));
        else printRun(r, store.location);
        return exitCode(r);
      } finally {
        store.close();
      }
    }));
  };
  decideCommand("approve");
  decideCommand("reject");

  agent
    .command("show")
    .description("a run's timeline (model calls, tool calls, approvals, budget events), pending calls and checkpoints; without a thread, the recent runs")
    .argument("[thread]", "the run's thread id")
    .option("--checkpoints", "also list every checkpoint (id, step, nodes that ran, nodes next)")
    .option("--limit <n>", "without a thread: how many runs to list (default 20)")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--json", "print one JSON document: {thread, status, pending, result, usage, timeline:[…], checkpoints:[…]} (or {runs:[…]})")
    .addHelpText("after", "\nExamples:\n  strata agent show\n  strata agent show thr_0123456789abcdef --checkpoints")
    .action(withCommand(async (threadId: string | undefined, flags: { store?: string; json?: boolean; checkpoints?: boolean; limit?: string }, ctx: CommandContext) => {
      const store = openStore(flags);
      try {
        if (threadId === undefined) {
          const runs = store.listThreads(parsePositiveInt("--limit", flags.limit, 20, 10_000)).map((t) => ({ threadId: t.threadId, graph: t.graph, status: t.status, createdAt: t.createdAt, updatedAt: t.updatedAt, pending: store.approvalsOfRun(t.threadId, "pending").length }));
          if (flags.json) ctx.printJson({ runs });
          else if (runs.length === 0) process.stdout.write(`no runs in ${store.location}\n`);
          else for (const r of runs) process.stdout.write(`${r.threadId}  ${r.status.padEnd(15)}  ${r.graph.padEnd(16)}  ${r.createdAt}${r.pending ? `  ${r.pending} pending` : ""}\n`);
          return 0;
        }
        const t = store.requireThread(threadId);
        const state = runState(store, t.rootId);
        const timeline = new AuditLog(store).entries(t.rootId);
        const checkpoints = flags.checkpoints || flags.json ? store.threadsOfRun(t.rootId).flatMap((th) => store.listCheckpoints(th.threadId).map((c) => ({ checkpointId: c.checkpointId, threadId: c.threadId, step: c.step, ran: c.ran, next: c.next, createdAt: c.createdAt }))) : [];
        if (flags.json) {
          ctx.printJson({ thread: { threadId: t.threadId, graph: t.graph, status: t.status, createdAt: t.createdAt, forkedFrom: t.forkedFrom, spec: t.spec }, ...runJson(state), timeline, checkpoints });
          return 0;
        }
        process.stdout.write(`run ${t.threadId} · graph ${t.graph} · ${t.status}${t.forkedFrom ? ` · forked from ${t.forkedFrom}` : ""} · started ${t.createdAt}\n\n`);
        for (const e of timeline) process.stdout.write(formatEntry(e) + "\n");
        process.stdout.write("\n");
        printRun(state, store.location);
        if (flags.checkpoints) {
          process.stdout.write("\ncheckpoints:\n");
          for (const c of checkpoints) process.stdout.write(`  ${c.checkpointId}  ${c.threadId === t.rootId ? "" : `${c.threadId}  `}step ${c.step}  ran ${c.ran.join(", ") || "(input)"}  → ${c.next.join(", ") || "END"}\n`);
        }
        return 0;
      } finally {
        store.close();
      }
    }));

  agent
    .command("fork")
    .description("start a new run from a checkpoint of another (to try another path, or after changing its state)")
    .argument("<checkpoint>", "checkpoint id (listed by `strata agent show <thread> --checkpoints`)")
    .option("--set <key=json>", "replace a state key in the fork (repeatable), e.g. --set 'goal=\"shorter\"'", collect)
    .option("--run", "resume the fork right away")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--by <name>", "who forks, for the audit log")
    .option("--quiet", "no progress lines on stderr")
    .option("--json", "print one JSON document: {threadId, forkedFrom} (with --run: the run's result)")
    .addHelpText("after", "\nExample:\n  strata agent fork ckpt_000003_9f2c1a7b --set 'plan=[\"check the invoice\"]' --run")
    .action(withCommand(async (checkpointId: string, flags: RunFlags & { set?: string[]; run?: boolean }, ctx: CommandContext) => {
      const update: Record<string, unknown> = {};
      for (const s of flags.set ?? []) {
        const i = s.indexOf("=");
        if (i <= 0) throw usageError(`--set: "${s}" is not key=json`, `e.g. --set 'goal="…"'`);
        try {
          update[s.slice(0, i)] = JSON.parse(s.slice(i + 1));
        } catch (e) {
          throw usageError(`--set ${s.slice(0, i)}: the value is not JSON: ${(e as Error).message}`, `quote strings: --set 'goal="…"'`);
        }
      }
      const store = openStore(flags);
      try {
        const threadId = forkRun(store, checkpointId, { update: Object.keys(update).length ? update : undefined, actor: actor(flags), auditKey: process.env.STRATA_AUDIT_KEY || undefined });
        if (!flags.run) {
          if (flags.json) ctx.printJson({ threadId, forkedFrom: checkpointId });
          else process.stdout.write(`forked ${checkpointId} as ${threadId}; continue with: strata agent resume ${threadId}\n`);
          return 0;
        }
        const r = await resumeThread(store, threadId, flags, ctx);
        if (flags.json) ctx.printJson(runJson(r));
        else printRun(r, store.location);
        return exitCode(r);
      } finally {
        store.close();
      }
    }));

  // Subcommands are made after main.ts's settings: give them its usage-error handling (exit 2).
  for (const c of agent.commands) c.exitOverride();
}

async function resumeThread(store: AgentStore, threadId: string, flags: RunFlags, ctx: CommandContext): Promise<RunResult<State>> {
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

function formatEntry(e: AuditEntry): string {
  const time = e.at.slice(11, 19);
  const d = (e.data ?? {}) as Record<string, unknown>;
  const head = `#${String(e.seq).padEnd(4)} ${time}  ${e.type.padEnd(18)}`;
  const where = e.threadId.includes("/") ? ` [${e.threadId.slice(e.threadId.indexOf("/") + 1)}]` : "";
  switch (e.type) {
    case "run.start":
      return `${head} by ${e.actor}: graph ${String(d.graph)}${d.model ? `, model ${String(d.model)}` : ""}, tools ${(d.tools as string[] | undefined)?.join(", ") || "none"}`;
    case "run.resume":
      return `${head} by ${e.actor} (was ${String(d.previousStatus)})`;
    case "run.end":
      return `${head} ${String(d.status)}${Array.isArray(d.pending) && d.pending.length ? ` — waiting for ${(d.pending as string[]).join(", ")}` : ""}${d.error ? ` — ${short((d.error as { message?: string }).message)}` : ""}`;
    case "model.request":
      return `${head}${where} ${e.actor}: ${Array.isArray(d.messages) ? d.messages.length : 0} new message(s)${Array.isArray(d.tools) && d.tools.length ? `, tools ${(d.tools as string[]).join(", ")}` : ""}`;
    case "model.response": {
      const calls = (d.toolCalls as Array<{ name: string; arguments: unknown }> | undefined) ?? [];
      const usage = d.usage as { inputTokens?: number; outputTokens?: number } | undefined;
      return `${head}${where} ${calls.length ? `calls ${calls.map((c) => `${c.name}(${short(c.arguments, 80)})`).join(", ")}` : `"${short(d.text, 100)}"`} · ${usage?.inputTokens ?? 0} in / ${usage?.outputTokens ?? 0} out`;
    }
    case "tool.call":
      return `${head}${where} ${String(d.tool)} ${String(d.callId)} ${short(d.args, 100)}${d.approvedBy ? ` (approved by ${String(d.approvedBy)})` : ""}`;
    case "tool.result":
      return `${head}${where} ${String(d.tool)} ${String(d.callId)} ${d.ok ? `ok: ${short(d.value, 100)}` : d.rejected ? "rejected" : `error: ${short((d.error as { message?: string } | null)?.message, 100)}`}`;
    case "approval.requested":
      return `${head}${where} ${String(d.callId)} ${String(d.tool ?? "gate")} — ${short(d.reason, 120)}`;
    case "approval.decided":
      return `${head} ${String(d.callId)} ${String(d.decision)} by ${e.actor}${d.editedArgs ? ` with arguments ${short(d.editedArgs, 80)}` : ""}${d.comment ? ` — "${short(d.comment, 80)}"` : ""}`;
    case "budget.exceeded":
      return `${head} ${String(d.reason)}: used ${String(d.used)} of ${String(d.limit)}`;
    case "guardrail.flag":
      return `${head}${where} ${short(d.source ?? "output", 60)}: ${short(d.findings ?? d.issues, 120)}`;
    default:
      return `${head}${where} ${short(e.data, 140)}`;
  }
}
