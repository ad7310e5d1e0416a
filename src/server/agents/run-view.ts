// A run as the API shows it: a summary for lists, and the detail with its timeline (the audit log,
// entry by entry), pending approvals, answer and usage. Someone reading another user's run (an
// admin) sees what happened but not what was retrieved or written: model texts, prompts and
// knowledge tools' results are left out, because an admin's key does not widen document access.
import type { AgentStore, ThreadRecord } from "../../agents/store/agent-store.js";
import { AuditLog, type AuditEntry } from "../../agents/store/audit.js";
import { readRunSpec, type RunSpec } from "../../agents/run-spec.js";
import type { JsonValue, RunErrorInfo, RunUsage, StopInfo, ToolRisk } from "../../agents/types.js";

export type ApiRunStatus = "running" | "completed" | "interrupted" | "failed" | "budget_exceeded";

export interface PendingView {
  callId: string;
  tool: string | null;
  args: JsonValue;
  risk: ToolRisk;
  reason: string;
  requestedAt: string;
}

export interface RunSummary {
  id: string;
  status: ApiRunStatus;
  goal: string | null;
  model: string | null;
  owner: string | null;
  createdAt: string;
  updatedAt: string;
  pending: PendingView[];
  usage: RunUsage;
  answer: string | null;
  error?: RunErrorInfo;
  stop?: StopInfo;
}

export interface TimelineItem {
  seq: number;
  at: string;
  type: string;
  actor: string;
  data: JsonValue;
}

export interface RunDetail extends RunSummary {
  tools: string[];
  approve: string[];
  kbs: string[];
  timeline: TimelineItem[];
}

/** What a run left running by a process that is gone reads as (see AgentStore.abandonStaleRuns). */
export function abandonedError(id: string): RunErrorInfo {
  return { code: "ABORTED", message: "the server stopped before this run finished", hint: `resume it from its last checkpoint: POST /api/agent-runs/${id}/resume` };
}

function specOf(t: ThreadRecord): RunSpec | undefined {
  try {
    return readRunSpec(t.spec, t.threadId);
  } catch {
    return undefined; // a graph built in code, or a foreign spec: shown without goal and tools
  }
}

/** Model texts and retrieved passages: what only the run's owner may read. */
const PRIVATE_TOOLS = new Set(["kb_search", "kb_ask"]);

function redact(e: AuditEntry): JsonValue {
  const d = (e.data ?? {}) as Record<string, JsonValue>;
  switch (e.type) {
    case "model.request":
      return { model: d.model ?? null, tools: d.tools ?? [], hidden: "prompt" };
    case "model.response":
      return { toolCalls: ((d.toolCalls ?? []) as { name?: string }[]).map((c) => ({ name: c.name ?? "?", hidden: "arguments" })), usage: d.usage ?? null, hidden: "text" };
    case "tool.call":
    case "approval.requested":
      return PRIVATE_TOOLS.has(String(d.tool)) ? { ...d, args: null, hidden: "arguments" } : d;
    case "tool.result":
      return PRIVATE_TOOLS.has(String(d.tool)) ? { ...d, value: null, hidden: "result" } : d;
    case "guardrail.flag":
      return { source: d.source ?? null, hidden: "findings" };
    case "run.start":
      return { graph: d.graph ?? null, model: d.model ?? null, tools: d.tools ?? [], hidden: "input" };
    default:
      return e.data;
  }
}

/** The audit entry as a timeline item; prompts are shortened to what is new in them. */
function item(e: AuditEntry, owner: boolean): TimelineItem {
  let data = owner ? e.data : redact(e);
  if (owner && e.type === "model.request") {
    const d = e.data as Record<string, JsonValue>;
    data = { model: d.model ?? null, tools: d.tools ?? [], newMessages: d.messages ?? [] };
  }
  return { seq: e.seq, at: e.at, type: e.type, actor: e.actor, data };
}

export class RunViews {
  constructor(
    private readonly store: AgentStore,
    /** Whether this process is working on the run now. */
    private readonly isActive: (id: string) => boolean,
  ) {}

  summary(t: ThreadRecord, reader: string): RunSummary {
    const spec = specOf(t);
    const mine = t.owner === reader;
    let status: ApiRunStatus = t.status;
    let error = t.error ?? undefined;
    if (t.status === "running" && !this.isActive(t.threadId)) {
      status = "failed";
      error = abandonedError(t.threadId);
    }
    const pending = this.store.approvalsOfRun(t.rootId, "pending").map((a) => ({
      callId: a.callId,
      tool: a.tool,
      args: mine || !PRIVATE_TOOLS.has(String(a.tool)) ? a.args : null,
      risk: a.risk,
      reason: a.reason,
      requestedAt: a.requestedAt,
    }));
    return {
      id: t.threadId,
      status,
      // The goal is the owner's prompt: an admin sees that a run exists, not what it was asked (docs/api.md).
      goal: mine ? (spec?.goal ?? null) : null,
      model: spec?.model ?? null,
      owner: t.owner,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      pending,
      usage: t.runtime.usage,
      answer: t.status === "completed" && mine && typeof t.result === "string" ? t.result : t.status === "completed" && mine ? JSON.stringify(t.result) : null,
      ...(error ? { error } : {}),
      ...(t.stop ? { stop: t.stop } : {}),
    };
  }

  detail(t: ThreadRecord, reader: string, after = 0): RunDetail {
    const spec = specOf(t);
    return {
      ...this.summary(t, reader),
      tools: spec?.tools ?? [],
      approve: spec?.approve ?? [],
      kbs: spec?.toolConfig.kbs ?? [],
      timeline: this.timeline(t, reader, after),
    };
  }

  /** Timeline items after sequence number `after`. */
  timeline(t: ThreadRecord, reader: string, after = 0): TimelineItem[] {
    const mine = t.owner === reader;
    return new AuditLog(this.store)
      .entries(t.rootId)
      .filter((e) => e.seq > after)
      .map((e) => item(e, mine));
  }
}
