// Agent runs: a timeline per run with approve/reject for steps that wait on a person.
// ROOM FOR LATER: the agent layer (src/agents) has not landed; the server answers 501 and this page
// says so. The shapes below are provisional — pin them to docs/api.md when /api/agent-runs exists.
import { useState } from "react";
import { enc } from "../api.ts";
import { ErrorNote, formatDate, Loading, NotAvailable, PageTitle } from "../components/common.tsx";
import { isNotImplemented, useInterval, useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

interface AgentEvent {
  at?: string;
  type: string;
  text?: string;
  tool?: string;
}

interface AgentRun {
  id: string;
  status: string;
  agent?: string;
  startedAt?: string;
  events?: AgentEvent[];
  /** A step waiting for a person: which tool, with what arguments, at what risk. */
  pendingApproval?: { tool?: string; args?: unknown; risk?: string; reason?: string };
}

const WAITING = new Set(["awaiting-approval", "awaiting_approval", "waiting", "interrupted", "paused"]);

export function AgentRunsPage() {
  const { client } = useSession();
  const runs = useLoad(async (signal) => {
    const raw = await client.request<unknown>("/api/agent-runs", { signal });
    return (Array.isArray(raw) ? raw : ((raw as { runs?: unknown[] }).runs ?? [])) as AgentRun[];
  }, [client]);
  const live = (runs.data ?? []).some((r) => r.status === "running" || WAITING.has(r.status));
  useInterval(runs.reload, 3000, live);
  return (
    <>
      <PageTitle sub="What each agent did, step by step; steps that need a person's approval wait here.">Agent runs</PageTitle>
      {isNotImplemented(runs.error) ? (
        <NotAvailable feature="Agent runs">
          When the agent layer lands, this page shows each run as a timeline of its steps (model calls, tool calls, results) with Approve and Reject buttons for steps that wait on a
          person.
        </NotAvailable>
      ) : runs.error ? (
        <ErrorNote error={runs.error} title="Agent runs could not be listed" />
      ) : null}
      {runs.loading && !runs.data && !runs.error ? <Loading what="agent runs" /> : null}
      {runs.data && runs.data.length === 0 ? <p className="muted">No agent has run yet.</p> : null}
      {runs.data?.map((r) => <RunCard key={r.id} run={r} onChanged={runs.reload} />)}
    </>
  );
}

function RunCard({ run, onChanged }: { run: AgentRun; onChanged: () => void }) {
  const { client } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const decide = async (what: "approve" | "reject"): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await client.request(`/api/agent-runs/${enc(run.id)}/${what}`, { method: "POST", body: {} });
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const waiting = WAITING.has(run.status) || run.pendingApproval !== undefined;
  return (
    <section className="panel" aria-labelledby={`run-${run.id}`}>
      <div className="panel-head">
        <h2 id={`run-${run.id}`}>
          {run.agent ?? "Run"} <code>{run.id}</code>
        </h2>
        <span className={`badge status-${run.status}`}>{run.status}</span>
      </div>
      {run.startedAt ? <p className="muted small">Started {formatDate(run.startedAt)}</p> : null}
      <ol className="timeline">
        {(run.events ?? []).map((e, i) => (
          <li key={i}>
            <span className="t-type">{e.type}</span>
            {e.tool ? <code> {e.tool}</code> : null}
            {e.text ? <span> — {e.text}</span> : null}
            {e.at ? <span className="muted small"> · {formatDate(e.at)}</span> : null}
          </li>
        ))}
      </ol>
      {waiting ? (
        <div className="approval" role="group" aria-label={`Approval for run ${run.id}`}>
          <p>
            <strong>Waiting for approval</strong>
            {run.pendingApproval?.tool ? (
              <>
                {" "}
                to call <code>{run.pendingApproval.tool}</code>
              </>
            ) : null}
            {run.pendingApproval?.risk ? ` (risk: ${run.pendingApproval.risk})` : ""}
          </p>
          {run.pendingApproval?.args !== undefined ? <pre className="args">{JSON.stringify(run.pendingApproval.args, null, 2)}</pre> : null}
          <div className="form-actions">
            <button type="button" className="button primary" disabled={busy} onClick={() => void decide("approve")}>
              Approve
            </button>
            <button type="button" className="button danger" disabled={busy} onClick={() => void decide("reject")}>
              Reject
            </button>
          </div>
        </div>
      ) : null}
      {error ? <ErrorNote error={error} title="The decision was not recorded" /> : null}
    </section>
  );
}
