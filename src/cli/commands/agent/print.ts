// What the subcommands print: progress lines on stderr, a run's summary (or its --json shape) on
// stdout, and the exit code a run's status maps to.
import { resolve } from "node:path";
import type { State } from "../../../agents/graph/graph.js";
import type { AgentEvent, RunResult } from "../../../agents/types.js";
import { EXIT } from "../../errors.js";
import { DEFAULT_STORE } from "./store.js";

export function eventPrinter(quiet: boolean | undefined): ((e: AgentEvent) => void) | undefined {
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

/**
 * A run's status in words: an interrupted run with approvals pending is waiting for a person, not
 * broken, and says so ("interrupted" stays the stored status and the JSON `status`).
 */
export function describeStatus(status: string, pending: number): string {
  return status === "interrupted" && pending > 0 ? "waiting for approval" : status;
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
    // In words, after the documented fields: "waiting for approval" for an interrupted run with pending calls.
    state: describeStatus(r.status, r.pending.length),
  };
}

export function exitCode(r: RunResult<State>): number {
  return r.status === "failed" ? EXIT.error : r.status === "budget_exceeded" ? EXIT.partial : EXIT.ok;
}

export function short(value: unknown, max = 160): string {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function printRun(r: RunResult<State>, store: string): void {
  const out = (s: string): boolean => process.stdout.write(s + "\n");
  const u = r.usage;
  const cost = u.costUsd > 0 ? ` · $${u.costUsd.toFixed(6)}` : "";
  const storeFlag = store === resolve(DEFAULT_STORE) ? "" : ` --store ${store}`;
  out(`thread ${r.threadId}: ${describeStatus(r.status, r.pending.length)} · ${u.steps} steps · ${u.modelCalls} model calls · ${u.toolCalls} tool calls · ${u.inputTokens + u.outputTokens} tokens${cost} · ${(u.elapsedMs / 1000).toFixed(1)} s`);
  if (r.status === "completed") out(`result: ${typeof r.result === "string" ? r.result : JSON.stringify(r.result, null, 2)}`);
  if (r.status === "interrupted") {
    if (r.pending.length > 0) out("pending approvals:");
    for (const p of r.pending) out(`  ${p.callId}  ${p.tool ?? "(approval gate)"} ${short(p.args)}\n    why: ${p.reason}`);
    const first = r.pending[0];
    if (first) out(`approve: strata agent approve ${r.threadId} ${first.callId}${storeFlag}   (or --all; edit with --args '<json>')\nreject:  strata agent reject ${r.threadId} ${first.callId}${storeFlag} --comment "<why>"`);
  }
  if (r.stop) out(`stopped: ${r.stop.reason} limit ${r.stop.limit} reached (used ${r.stop.used}${r.stop.node ? ` by node ${r.stop.node}` : ""}); the state is saved — continue with: strata agent resume ${r.threadId}${storeFlag} --budget …`);
  if (r.error) out(`error: ${r.error.message}${r.error.hint ? `\nhint: ${r.error.hint}` : ""}\nresume after fixing: strata agent resume ${r.threadId}${storeFlag}`);
}

/** A finished (or stopped) run as the command's output — JSON or the human summary — and its exit code. */
export function reportRun(r: RunResult<State>, store: string, o: { json?: boolean; printJson(value: unknown): void }): number {
  if (o.json) o.printJson(runJson(r));
  else printRun(r, store);
  return exitCode(r);
}
