import type { Command } from "commander";
import { StrataError } from "../../core/errors.js";
import type { JsonValue, SpanData, TraceData } from "../../core/trace.js";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { parseAccess, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface TraceFlags {
  kb?: string;
  as?: string;
  groups?: string;
  limit?: string;
  json?: boolean;
}

const BAR_WIDTH = 32;

export function registerTrace(program: Command): void {
  program
    .command("trace")
    .description("show the trace of an answer or chat turn: each step's time, tokens, cost and what was left out")
    .argument("[id]", "trace id, as printed by `strata ask --model` (without it: the most recent traces)")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--as <user>", "read as this user: only that user's traces (default: the store's owner, who sees all)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--limit <n>", "without an id: how many recent traces to list (default 20)")
    .option("--json", "print one JSON document: the trace {id, kind, startedAt, ms, usage, attributes, spans:[…]}, or {traces:[…]}")
    .addHelpText("after", "\nExamples:\n  strata trace trc_0123456789abcdef0123 --kb ./kb\n  strata trace --kb ./kb --as guest --json")
    .action(withCommand(async (id: string | undefined, flags: TraceFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const store = kb.store.traces;
        if (id === undefined) {
          const traces = store.list(access, parsePositiveInt("--limit", flags.limit, 20, 10_000));
          if (flags.json) ctx.printJson({ traces });
          else if (traces.length === 0) process.stdout.write("no traces\n");
          else for (const t of traces) process.stdout.write(`${t.id}  ${t.kind.padEnd(5)}  ${t.createdAt}  ${t.owner}\n`);
          return 0;
        }
        const trace = store.get(id, access);
        if (!trace) throw new StrataError("NOT_FOUND", `no trace ${id} in ${flags.kb} that you may read`, "list yours with `strata trace --kb <dir>` (add --as <user> if you asked as one)");
        if (flags.json) ctx.printJson(trace);
        else process.stdout.write(formatTrace(trace));
        return 0;
      } finally {
        kb.close();
      }
    }));
}

function scalar(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.length}]`;
  if (v !== null && typeof v === "object") return "{…}";
  const s = String(v).replace(/\s+/g, " ");
  return s.length > 48 ? JSON.stringify(s.slice(0, 47) + "…") : typeof v === "string" && /\s/.test(s) ? JSON.stringify(s) : s;
}

// Long texts (the model's output) and the lists printed below are left out of the one-line summary.
const NOT_SUMMARISED = new Set(["output", "retrieved", "sources", "leftOut", "verdicts"]);

function summary(s: SpanData): string {
  const parts = Object.entries(s.attributes)
    .filter(([k]) => !NOT_SUMMARISED.has(k))
    .map(([k, v]) => `${k}=${scalar(v)}`);
  if (s.usage) parts.push(`tokens ${s.usage.inputTokens} in/${s.usage.outputTokens} out${s.usage.costUsd !== undefined ? ` $${s.usage.costUsd.toFixed(6)}` : ""}`);
  if (s.error) parts.push(`error: ${s.error}`);
  return parts.join("  ");
}

function bar(s: SpanData, total: number): string {
  const scale = total > 0 ? BAR_WIDTH / total : 0;
  const from = Math.min(BAR_WIDTH - 1, Math.floor(s.startMs * scale));
  const len = Math.max(1, Math.min(BAR_WIDTH - from, Math.round(s.ms * scale)));
  return " ".repeat(from) + "█".repeat(len) + " ".repeat(BAR_WIDTH - from - len);
}

/** The trace as an indented timeline: one line per span with a bar placed at its start. */
export function formatTrace(t: TraceData & { owner?: string }): string {
  const lines: string[] = [];
  const cost = t.usage.costUsd !== undefined ? ` · $${t.usage.costUsd.toFixed(6)}` : "";
  lines.push(`trace ${t.id} · ${t.kind} · ${t.startedAt} · ${t.ms.toFixed(1)} ms · ${t.usage.inputTokens} tokens in, ${t.usage.outputTokens} out${cost}${t.owner ? ` · owner ${t.owner}` : ""}`);
  for (const [k, v] of Object.entries(t.attributes)) lines.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  lines.push("");
  const walk = (spans: SpanData[], depth: number): void => {
    for (const s of spans) {
      const name = ("  ".repeat(depth) + s.name).padEnd(14);
      lines.push(`${name} |${bar(s, t.ms)}| ${s.ms.toFixed(1).padStart(8)} ms  ${summary(s)}`);
      walk(s.children, depth + 1);
    }
  };
  walk(t.spans, 0);
  const assemble = t.spans.find((s) => s.name === "assemble");
  const leftOut = (assemble?.attributes.leftOut ?? []) as { chunkId?: string; source?: string; rank?: number; reason?: string; tokens?: number; into?: string }[];
  if (leftOut.length > 0) {
    lines.push("", "left out of the prompt:");
    for (const l of leftOut) lines.push(`  rank ${l.rank} ${l.chunkId} (${l.source}): ${l.reason}${l.tokens !== undefined ? `, needed ${l.tokens} tokens` : ""}${l.into ? ` → ${l.into}` : ""}`);
  }
  const verdicts = t.spans.find((s) => s.name === "verify")?.attributes.verdicts;
  if (Array.isArray(verdicts)) lines.push("", `sentence verdicts: ${verdicts.join(", ")}`);
  return lines.join("\n") + "\n";
}
