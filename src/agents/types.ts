// Types shared by the agent runtime: what a run reports (status, pending approvals, usage), the
// limits it runs under, and the events it emits. Everything here is plain JSON-able data, so the CLI,
// the server and tests read the same shapes the store keeps.
import type { JsonValue } from "../core/trace.js";

export type { JsonValue };

/** A JSON object: the shape of graph state, tool arguments and audit data. */
export type JsonObject = { [key: string]: JsonValue };

/** How a run ended (or paused). `running` is only ever seen in the store, while a process works on it. */
export type RunStatus = "completed" | "interrupted" | "failed" | "budget_exceeded";
export type ThreadStatus = RunStatus | "running";

/** How much a tool can change the world. `write` and `external` tools need approval by default. */
export type ToolRisk = "read" | "write" | "external";

/** A call waiting for a person: approve it (as is or with edited arguments) or reject it. */
export interface PendingCall {
  callId: string;
  /** The tool, or `null` for an approval gate in a graph (no tool behind it). */
  tool: string | null;
  args: JsonValue;
  reason: string;
  risk: ToolRisk;
  /** The (sub)thread the call belongs to; equals the run's thread unless it is inside a subgraph. */
  threadId: string;
  node: string;
  requestedAt: string;
}

/** Limits a run stops at, cleanly and with its state saved. Absent means unlimited. */
export interface Budget {
  /** Input + output tokens of all model calls. */
  tokens?: number;
  /** US dollars; needs the model's price in the price table (calls without a price count as 0). */
  costUsd?: number;
  /** Tool calls actually executed (replayed results and rejected calls do not count). */
  toolCalls?: number;
  /** Seconds spent running, summed over every process that worked on the run. */
  seconds?: number;
}

export interface RunUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Model calls that had no price (their cost is not in costUsd). */
  unpricedCalls: number;
  modelCalls: number;
  toolCalls: number;
  /** Supersteps of the graph (a set of nodes run together). */
  steps: number;
  elapsedMs: number;
}

export function emptyUsage(): RunUsage {
  return { inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, modelCalls: 0, toolCalls: 0, steps: 0, elapsedMs: 0 };
}

/** Why a run stopped at a limit. */
export interface StopInfo {
  reason: "tokens" | "cost" | "toolCalls" | "seconds" | "steps" | "visits";
  limit: number;
  used: number;
  /** For `visits`: the node whose limit was reached. */
  node?: string;
}

export interface RunErrorInfo {
  code: string;
  message: string;
  hint: string;
}

/** What `run`, `resume`, `approve` and `reject` return; the CLI prints it with --json. */
export interface RunResult<S = Record<string, unknown>> {
  threadId: string;
  status: RunStatus;
  pending: PendingCall[];
  /** The graph's output (an agent's answer); null until the run completes. */
  result: JsonValue;
  state: S;
  usage: RunUsage;
  checkpointId: string | null;
  stop?: StopInfo;
  error?: RunErrorInfo;
}

/** What a run reports while it works (node boundaries, model and tool calls, approvals). */
export type AgentEvent =
  | { type: "node-start"; threadId: string; node: string; step: number }
  | { type: "node-end"; threadId: string; node: string; step: number; ms: number }
  | { type: "checkpoint"; threadId: string; checkpointId: string; step: number }
  | { type: "model-call"; threadId: string; node: string; inputTokens: number; outputTokens: number; toolCalls: number }
  | { type: "tool-call"; threadId: string; callId: string; tool: string; ok: boolean; replayed: boolean }
  | { type: "approval-needed"; threadId: string; callId: string; tool: string | null; reason: string }
  | { type: "guardrail"; threadId: string; message: string }
  | { type: "retry"; threadId: string; what: string; attempt: number; delayMs: number; error: string };

export type AgentEventListener = (event: AgentEvent) => void;
