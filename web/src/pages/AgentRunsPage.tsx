// Agent runs: start a run on a goal (with knowledge bases and tools, and which tools wait for a
// person), the list of your runs with their status, and the chosen run as a live timeline with
// Approve / Reject on the calls that wait. Shapes: docs/api.md ("Agent runs").
import { useState, type FormEvent } from "react";
import type { KbSummary } from "../api.ts";
import { AgentRunView, type AgentRun } from "../components/AgentRunView.tsx";
import { ErrorNote, formatDate, Loading, PageTitle } from "../components/common.tsx";
import { useInterval, useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

const TOOLS = [
  { name: "calculator", label: "Calculator" },
  { name: "kb_search", label: "Search knowledge bases" },
  { name: "kb_ask", label: "Ask knowledge bases" },
] as const;

function StartForm({ onStarted }: { onStarted: (id: string) => void }) {
  const { client } = useSession();
  const kbs = useLoad((signal) => client.request<KbSummary[]>("/api/kbs", { signal }), [client]);
  const [goal, setGoal] = useState("");
  const [chosenKbs, setChosenKbs] = useState<string[]>([]);
  const [tools, setTools] = useState<string[]>(["calculator"]);
  const [approve, setApprove] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const toggle = (list: string[], set: (v: string[]) => void, name: string) => set(list.includes(name) ? list.filter((x) => x !== name) : [...list, name]);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await client.request<{ id: string }>("/api/agent-runs", { body: { goal, kbs: chosenKbs, tools, approve: approve.filter((a) => tools.includes(a)) } });
      setGoal("");
      onStarted(r.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel agent-start" onSubmit={(e) => void submit(e)} aria-labelledby="start-title">
      <h2 id="start-title">Start a run</h2>
      <label htmlFor="agent-goal">Goal</label>
      <textarea id="agent-goal" required maxLength={4000} rows={3} value={goal} onChange={(e) => setGoal(e.target.value)} placeholder="What should the agent do?" />
      <fieldset>
        <legend>Knowledge bases</legend>
        {kbs.data?.length === 0 ? <p className="muted small">You are not a member of any knowledge base.</p> : null}
        {kbs.data?.map((k) => (
          <label key={k.name} className="check">
            <input type="checkbox" checked={chosenKbs.includes(k.name)} onChange={() => toggle(chosenKbs, setChosenKbs, k.name)} /> {k.name}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Tools</legend>
        {TOOLS.map((t) => (
          <label key={t.name} className="check">
            <input type="checkbox" checked={tools.includes(t.name)} onChange={() => toggle(tools, setTools, t.name)} /> {t.label} <code>{t.name}</code>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Ask me before each call of</legend>
        {TOOLS.filter((t) => tools.includes(t.name)).map((t) => (
          <label key={t.name} className="check">
            <input type="checkbox" checked={approve.includes(t.name)} onChange={() => toggle(approve, setApprove, t.name)} /> <code>{t.name}</code>
          </label>
        ))}
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy || !goal.trim()}>
          {busy ? "Starting…" : "Start run"}
        </button>
      </div>
      {error ? <ErrorNote error={error} title="The run was not started" /> : null}
    </form>
  );
}

export function AgentRunsPage() {
  const { client } = useSession();
  const [selected, setSelected] = useState<string>();
  const runs = useLoad((signal) => client.request<AgentRun[]>("/api/agent-runs", { signal }), [client]);
  useInterval(runs.reload, 3000, (runs.data ?? []).some((r) => r.status === "running"));
  const open = selected ?? runs.data?.[0]?.id;
  return (
    <>
      <PageTitle sub="What each agent did, step by step; calls that need your approval wait here.">Agent runs</PageTitle>
      <div className="agent-layout">
        <div className="agent-side">
          <StartForm
            onStarted={(id) => {
              setSelected(id);
              runs.reload();
            }}
          />
          <section className="panel" aria-labelledby="runs-title">
            <h2 id="runs-title">Runs</h2>
            {runs.error ? <ErrorNote error={runs.error} title="Agent runs could not be listed" /> : null}
            {runs.loading && !runs.data ? <Loading what="agent runs" /> : null}
            {runs.data && runs.data.length === 0 ? <p className="muted">No agent has run yet.</p> : null}
            <ul className="run-list">
              {runs.data?.map((r) => (
                <li key={r.id}>
                  <button type="button" className={`run-item${r.id === open ? " selected" : ""}`} aria-current={r.id === open ? "true" : undefined} onClick={() => setSelected(r.id)}>
                    <span className="run-goal">{r.goal ?? r.id}</span>
                    <span className={`badge status-${r.status}`}>{r.pending.length ? `waiting (${r.pending.length})` : r.status}</span>
                    <span className="muted small">{formatDate(r.createdAt)}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        </div>
        <div className="agent-main">{open ? <AgentRunView key={open} id={open} onChanged={runs.reload} /> : null}</div>
      </div>
    </>
  );
}
