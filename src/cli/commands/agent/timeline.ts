// One line of `strata agent show`'s timeline per audit entry.
import type { AuditEntry } from "../../../agents/store/audit.js";
import { short } from "./print.js";

export function formatEntry(e: AuditEntry): string {
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
