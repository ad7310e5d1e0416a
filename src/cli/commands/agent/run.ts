// `strata agent run`: starts an agent run (--goal) or a workflow graph from a JSON file.
import { Option, type Command } from "commander";
import { resolve } from "node:path";
import { StrataError } from "../../../core/errors.js";
import { BUILTIN_TOOLS, RUN_PATTERNS, type RunPattern, type RunSpec } from "../../../agents/run-spec.js";
import { usageError } from "../../errors.js";
import { parseList, parsePositiveInt } from "../../options.js";
import { type CommandContext, withCommand } from "../../run.js";
import { execute } from "./execute.js";
import { actor, collect, parseBudget, parseVars, type RunFlags, type ToolFlags } from "./flags.js";
import { reportRun } from "./print.js";
import { DEFAULT_STORE, openStore } from "./store.js";

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
tool-returned text that contains instructions. --mcp <command or url> with --mcp-allow <names>
mounts those tools of an MCP server as external tools: every call waits for approval and is audited.

Graph files are JSON: nodes (function, tool, model, agent, graph, approval, set), edges, conditional
branches, joins, loop limits; see docs/architecture.md ("Agents") and examples/uat-assistant/graph.json.

Budgets stop the run cleanly with its state saved (exit code 3): --budget tokens=20000,cost=0.05,calls=10,seconds=120
Exit codes: 0 completed or waiting for approval, 3 stopped at a budget, 1 failed, 2 usage error.
With STRATA_AUDIT_KEY set, the audit chain is keyed (HMAC); verify with the same key.

Examples:
  strata agent run --goal "What is 17.5% of 2,340?" --model gguf:./models/qwen2.5-1.5b-instruct-q4_k_m.gguf
  strata agent run --goal "Compare the refund rules for damaged and late items" --pattern planner-solver --kb ./kb --model <ref>
  strata agent run --goal "Which refund rules apply to damaged items?" --model openai:http://127.0.0.1:11434/v1#llama3.1 --kb ./kb --as alice --budget tokens=20000,calls=8 --json
  strata agent run examples/uat-assistant/graph.json --kb ./uat/kb --var export=./uat/export --var db=./uat/cases.db --store ./uat/agents`;

/** The settings of the built-in tools a run may use. */
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

export function registerRun(agent: Command): void {
  toolOptions(
    agent
      .command("run")
      .description("start an agent run (--goal) or a workflow graph (a JSON file)")
      .argument("[graph]", "workflow graph file (JSON)")
      .option("--goal <text>", "what the agent should do (instead of a graph file)")
      .addOption(new Option("--pattern <name>", "with --goal: agent (default), planner-solver (plan, then an agent per step), reflexion (retry after self-critique), supervisor (routes tasks to one worker per tool)").choices(RUN_PATTERNS))
      .option("--model <ref>", "language model, e.g. gguf:./models/chat.gguf or openai:http://127.0.0.1:11434/v1#llama3.1"),
  )
    .option("--mcp <command or url>", "an MCP server (a command line, run without a shell, or an http(s) URL) whose --mcp-allow tools the run may call, each after approval (repeatable)", collect)
    .option("--mcp-allow <names>", "MCP tools to mount (comma-separated names or patterns like search*); nothing is mounted without it")
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
      const pattern: RunPattern | undefined = flags.pattern;
      if (pattern && !flags.goal) throw usageError("--pattern goes with --goal", 'e.g. strata agent run --goal "…" --pattern planner-solver --model <ref>; in a graph file use a node {"type": "pattern"}');
      if (flags.goal !== undefined && !flags.goal.trim()) throw usageError("--goal is empty", 'say what the agent should do, e.g. --goal "Summarise the open incidents"');
      const { tools, config } = toolSelection(flags);
      const mcpFlags = flags;
      const mcpAllow = parseList(mcpFlags.mcpAllow);
      if (mcpFlags.mcp?.length && mcpAllow.length === 0) throw usageError("--mcp needs --mcp-allow <names>: an MCP server's tools are mounted only when allow-listed", "e.g. --mcp \"strata mcp serve --kb ./kb\" --mcp-allow search");
      if (mcpAllow.length > 0 && !mcpFlags.mcp?.length) throw usageError("--mcp-allow goes with --mcp <command or url>", "name the MCP server too");
      for (const t of tools) if (flags.goal && !(BUILTIN_TOOLS as readonly string[]).includes(t)) throw new StrataError("TOOL_UNKNOWN", `no built-in tool named "${t}"`, `built-in tools: ${BUILTIN_TOOLS.join(", ")}`);
      const spec: RunSpec = {
        v: 1,
        kind: flags.goal ? "goal" : "graph",
        goal: flags.goal,
        ...(pattern && pattern !== "agent" ? { pattern } : {}),
        graphFile: graphFile ? resolve(graphFile) : undefined,
        model: flags.model ?? null,
        tools,
        ...(mcpFlags.mcp?.length ? { mcp: mcpFlags.mcp.map((target) => ({ target, allow: mcpAllow })) } : {}),
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
        return reportRun(r, store.location, { json: flags.json, printJson: ctx.printJson });
      } finally {
        store.close();
      }
    }));
}
