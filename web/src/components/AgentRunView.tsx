// One agent run: its timeline (model calls, tool calls with arguments and results, approvals, budget
// stops), the calls waiting for a person with Approve / Reject (and an optional comment), and its
// answer. While the run works the server's event stream keeps it current.
import { useEffect, useState } from "react";
import { enc, readSse, type Client } from "../api.ts";
import { ErrorNote, formatDate } from "./common.tsx";
import { useSession } from "../session.ts";

export interface PendingCall {
  callId: string;
  tool: string | null;
  args: unknown;
  risk: string;
  reason: string;
}

export interface TimelineItem {
  seq: number;
  at: string;
  type: string;
  actor: string;
  data: Record<string, unknown> | null;
}

export interface AgentRun {
  id: string;
  status: string;
  goal: string | null;
  model: string | null;
  owner: string | null;
  createdAt: string;
  pending: PendingCall[];
  answer: string | null;
  usage: { inputTokens: number; outputTokens: number; modelCalls: number; toolCalls: number };
  error?: { code: string; message: string; hint: string };
  stop?: { reason: string; limit: number; used: number };
  timeline?: TimelineItem[];
}

const json = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

/** Follows a run's event stream while it is running; returns the latest view of it. */
function useLiveRun(client: Client, id: string, reloadKey: number, onStopped: () => void): { run?: AgentRun; error?: unknown } {
  const [run, setRun] = useState<AgentRun>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const ctrl = new AbortController();
    setError(undefined);
    void (async () => {
      const res = await fetch(`/api/agent-runs/${enc(id)}/events`, { headers: { Authorization: `Bearer ${client.key}`, Accept: "text/event-stream" }, signal: ctrl.signal, cache: "no-store", credentials: "omit" });
      if (!res.ok || !res.body) {
        setError(new Error(`the run could not be loaded (HTTP ${res.status})`));
        return;
      }
      await readSse(res.body, (event, data) => {
        if (event === "run") setRun(data as AgentRun);
        else if (event === "item") setRun((r) => (r ? { ...r, timeline: [...(r.timeline ?? []), data as TimelineItem] } : r));
        else if (event === "end") onStopped();
      });
    })().catch((e: unknown) => {
      if (!ctrl.signal.aborted) setError(e);
    });
    return () => ctrl.abort();
  }, [client, id, reloadKey]);
  return { run, error };
}

function Entry({ e }: { e: TimelineItem }) {
  const d = e.data ?? {};
  const head = (label: string, extra?: string) => (
    <p className="t-head">
      <span className="t-type">{label}</span>
      {extra ? <span> {extra}</span> : null}
      <span className="muted small"> · {formatDate(e.at)}</span>
    </p>
  );
  switch (e.type) {
    case "model.request":
      return head("Model call", `${String(d.model ?? "")}`);
    case "model.response": {
      const calls = (d.toolCalls as { name: string; arguments?: unknown }[] | undefined) ?? [];
      return (
        <>
          {head("Model replied", calls.length ? `with ${calls.length} tool call${calls.length > 1 ? "s" : ""}` : undefined)}
          {typeof d.text === "string" && d.text ? <p className="t-text">{d.text}</p> : null}
          {calls.map((c, i) => (
            <pre key={i} className="args">{`${c.name}(${json(c.arguments ?? "")})`}</pre>
          ))}
        </>
      );
    }
    case "tool.call":
      return (
        <>
          {head("Tool call", `${String(d.tool)}${d.approvedBy ? ` (approved by ${String(d.approvedBy)})` : ""}`)}
          <pre className="args">{json(d.args)}</pre>
        </>
      );
    case "tool.result":
      return (
        <>
          {head("Tool result", `${String(d.tool)}: ${d.ok ? "ok" : d.rejected ? "rejected" : "error"}`)}
          <pre className="args">{json(d.ok ? d.value : (d.error ?? d.rejected))}</pre>
        </>
      );
    case "approval.requested":
      return head("Approval requested", `${String(d.tool ?? "gate")} — ${String(d.reason ?? "")}`);
    case "approval.decided":
      return head(`Call ${String(d.decision)}`, `by ${e.actor}${d.comment ? `: “${String(d.comment)}”` : ""}${d.editedArgs ? ` with ${JSON.stringify(d.editedArgs)}` : ""}`);
    case "budget.exceeded":
      return head("Budget reached", `${String(d.reason)}: used ${String(d.used)} of ${String(d.limit)}`);
    case "guardrail.flag":
      return head("Guardrail", `untrusted instructions in ${String(d.source ?? "output")}`);
    case "run.end":
      return head("Run stopped", String(d.status));
    case "run.start":
    case "run.resume":
      return head(e.type === "run.start" ? "Run started" : "Run resumed", `by ${e.actor}`);
    default:
      return head(e.type);
  }
}

function Approval({ run, call, onDecided }: { run: AgentRun; call: PendingCall; onDecided: () => void }) {
  const { client } = useSession();
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const decide = async (what: "approve" | "reject"): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await client.request(`/api/agent-runs/${enc(run.id)}/${what}`, { method: "POST", body: { callId: call.callId, ...(comment.trim() ? { comment: comment.trim() } : {}) } });
      onDecided();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const commentId = `comment-${run.id}-${call.callId}`;
  return (
    <div className="approval" role="group" aria-label={`Approval of ${call.tool ?? "a step"} (${call.callId})`} data-testid="pending-call">
      <p>
        <strong>Waiting for approval:</strong> <code>{call.tool ?? "approval gate"}</code> <span className={`badge risk-${call.risk}`}>{call.risk}</span>
      </p>
      <p className="muted small">{call.reason}</p>
      <pre className="args">{json(call.args)}</pre>
      <label htmlFor={commentId}>Comment (optional)</label>
      <input id={commentId} type="text" value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} />
      <div className="form-actions">
        <button type="button" className="button primary" disabled={busy} onClick={() => void decide("approve")}>
          Approve
        </button>
        <button type="button" className="button danger" disabled={busy} onClick={() => void decide("reject")}>
          Reject
        </button>
      </div>
      {error ? <ErrorNote error={error} title="The decision was not recorded" /> : null}
    </div>
  );
}

/** The run with id `id`, live while it runs; `onChanged` tells the list it changed. */
export function AgentRunView({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { client } = useSession();
  const [reloadKey, setReloadKey] = useState(0);
  const { run, error } = useLiveRun(client, id, reloadKey, onChanged);
  const reopen = (): void => {
    setReloadKey((k) => k + 1);
    onChanged();
  };
  if (error) return <ErrorNote error={error} title="The run could not be loaded" />;
  if (!run) return <p className="muted" role="status">Loading the run…</p>;
  return (
    <section className="panel agent-run" aria-labelledby={`run-${run.id}`} aria-busy={run.status === "running"}>
      <div className="panel-head">
        <h2 id={`run-${run.id}`}>{run.goal ?? run.id}</h2>
        <span className={`badge status-${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </div>
      <p className="muted small">
        <code>{run.id}</code> · {run.model ?? "no model"} · {run.usage.modelCalls} model calls · {run.usage.toolCalls} tool calls · {run.usage.inputTokens + run.usage.outputTokens} tokens
        {run.owner ? ` · ${run.owner}` : ""}
      </p>
      <ol className="timeline" aria-label="Timeline" aria-live="polite">
        {(run.timeline ?? []).map((e) => (
          <li key={e.seq} className={`t-${e.type.replace(/\./g, "-")}`}>
            <Entry e={e} />
          </li>
        ))}
      </ol>
      {run.pending.map((p) => (
        <Approval key={p.callId} run={run} call={p} onDecided={reopen} />
      ))}
      {run.answer !== null ? (
        <div className="agent-answer" data-testid="run-answer">
          <h3>Answer</h3>
          <p>{run.answer}</p>
        </div>
      ) : null}
      {run.error ? <ErrorNote error={Object.assign(new Error(run.error.message), { name: run.error.code })} title="The run stopped" /> : null}
      {run.error ? <p className="hint">Hint: {run.error.hint}</p> : null}
    </section>
  );
}
