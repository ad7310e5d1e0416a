// The approval gate: whether a tool call (or a node's own gate) needs a person, the stored request
// when it does, and the person's decision once made. A pending request interrupts the run; the
// node runs again on resume and finds the decision here (approved, edited, or rejected).
import type { AgentStore, ApprovalRecord } from "../store/agent-store.js";
import type { Tool } from "../tools/tool.js";
import type { JsonValue, PendingCall, ToolRisk } from "../types.js";
import type { ToolCallOutcome } from "./calls.js";
import type { RunContext } from "./run-context.js";

/** Where a request comes from: the thread and the node that asks. */
export interface GateSite {
  threadId: string;
  node: string;
}

export type ToolGate =
  | { kind: "run"; approvedBy: string | null; editedArgs?: unknown }
  | { kind: "pending" }
  | { kind: "rejected"; outcome: ToolCallOutcome };

/** Why a tool call needs a person, or [] when it may run. `interrupted`: an earlier attempt started and may have taken effect. */
export function approvalReasons(rc: RunContext, tool: Tool, interrupted: boolean): string[] {
  const reasons: string[] = [];
  const policy = rc.policy;
  if (tool.requiresApproval && !policy.autoApprove?.includes(tool.name)) reasons.push(`${tool.name} is a ${tool.risk} tool and needs approval`);
  const taint = rc.taint[0];
  if (taint && (policy.untrustedInstructions ?? "approve") === "approve") {
    reasons.push(`it follows untrusted content with instructions (${taint.source}: "${taint.findings[0] ?? ""}")`);
  }
  if (interrupted && !tool.idempotent) reasons.push("an earlier attempt of this call started before the run stopped and may have taken effect");
  return reasons;
}

/** The gate for one tool call with validated `args`: run it (maybe with a person's edits), wait, or report the rejection. */
export function gateToolCall(rc: RunContext, site: GateSite, callId: string, tool: Tool, args: unknown, interrupted: boolean): ToolGate {
  const reasons = approvalReasons(rc, tool, interrupted);
  if (!reasons.length) return { kind: "run", approvedBy: null };
  const a = requestOnce(rc, site, { callId, tool: tool.name, args: args as JsonValue, reason: reasons.join("; "), risk: tool.risk });
  if (a.status === "pending") return { kind: "pending" };
  if (a.status === "rejected") {
    const by = a.decidedBy ?? "?";
    return {
      kind: "rejected",
      outcome: {
        callId,
        tool: tool.name,
        ok: false,
        rejected: { by, comment: a.comment },
        error: { code: "FORBIDDEN", message: `a person (${by}) rejected this call${a.comment ? `: ${a.comment}` : ""}`, hint: "do not retry it; continue without it or explain what you needed" },
        content: JSON.stringify({ rejected: true, by, comment: a.comment }),
        replayed: false,
      },
    };
  }
  return a.editedArgs !== undefined ? { kind: "run", approvedBy: a.decidedBy, editedArgs: a.editedArgs } : { kind: "run", approvedBy: a.decidedBy };
}

/** A node's own human gate (no tool): the stored request, created on first call. */
export function humanGate(rc: RunContext, site: GateSite, callId: string, request: { reason: string; payload?: JsonValue; risk?: ToolRisk }): ApprovalRecord {
  return requestOnce(rc, site, { callId, tool: null, args: request.payload ?? null, reason: request.reason, risk: request.risk ?? "write" });
}

/** The pending calls of a thread, as the run reports them when it interrupts. */
export function pendingCalls(store: AgentStore, threadId: string, callIds: readonly string[]): PendingCall[] {
  return callIds.map((id) => {
    const a = store.getApproval(threadId, id)!;
    return { callId: a.callId, tool: a.tool, args: a.args, reason: a.reason, risk: a.risk, threadId: a.threadId, node: a.node, requestedAt: a.requestedAt };
  });
}

/** The stored approval for a call; the first time, stores the request, audits it and tells the caller's listener. */
function requestOnce(rc: RunContext, site: GateSite, r: { callId: string; tool: string | null; args: JsonValue; reason: string; risk: ToolRisk }): ApprovalRecord {
  const existing = rc.store.getApproval(site.threadId, r.callId);
  if (existing) return existing;
  const a = rc.store.requestApproval({ ...r, threadId: site.threadId, node: site.node, requestedAt: rc.store.timestamp(), rootId: rc.rootId });
  rc.audit(site.threadId, "approval.requested", site.node, r.tool === null ? { callId: r.callId, tool: null, args: r.args, reason: r.reason } : { callId: r.callId, tool: r.tool, args: r.args, reason: a.reason, risk: r.risk });
  rc.emit({ type: "approval-needed", threadId: site.threadId, callId: r.callId, tool: r.tool, reason: a.reason });
  return a;
}
