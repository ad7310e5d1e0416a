// Training runs: start pretraining a small model on a knowledge base's text, the list of your runs
// with their status, and the chosen run with its loss chart drawn live. Shapes: docs/api.md
// ("Training runs").
import { useState } from "react";
import { ErrorNote, formatDate, Loading, PageTitle } from "../components/common.tsx";
import type { TrainingRunSummary } from "../components/TrainingLive.tsx";
import { TrainingRunPanel } from "../components/TrainingRunPanel.tsx";
import { TrainingStartForm } from "../components/TrainingStartForm.tsx";
import { useInterval, useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

function RunList({ runs, open, onOpen }: { runs: TrainingRunSummary[]; open: string | undefined; onOpen: (id: string) => void }) {
  return (
    <ul className="run-list training-runs" aria-label="Training runs">
      {runs.map((r) => (
        <li key={r.id}>
          <button type="button" className={`run-item${r.id === open ? " selected" : ""}`} aria-current={r.id === open ? "true" : undefined} onClick={() => onOpen(r.id)}>
            <span className="run-goal">
              {r.preset} on {r.kb} <span className="muted small">· step {r.step} of {r.steps}</span>
            </span>
            <span className={`badge status-${r.status}`}>{r.stopping ? "stopping" : r.status}</span>
            <span className="muted small">
              {formatDate(r.createdAt)}
              {r.loss !== null ? ` · loss ${r.loss.toFixed(3)}` : ""}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function TrainingRunsPage() {
  const { client, me } = useSession();
  const runs = useLoad((signal) => client.request<TrainingRunSummary[]>("/api/training-runs", { signal }), [client]);
  const [selected, setSelected] = useState<string>();
  // The list's steps and losses move while a run trains; the open run has its own live stream.
  useInterval(runs.reload, 3000, (runs.data ?? []).some((r) => r.status === "running"));
  const open = selected ?? runs.data?.[0]?.id;
  const canStart = me.scopes.includes("ingest") && me.scopes.includes("read");
  return (
    <>
      <PageTitle sub="Pretrain a small model on the text of a knowledge base, and watch its loss fall.">Training runs</PageTitle>
      <div className="training-layout">
        <div className="training-side">
          {canStart ? (
            <TrainingStartForm
              onStarted={(run) => {
                setSelected(run.id);
                runs.reload();
              }}
            />
          ) : (
            <p className="muted">Starting a run needs a key with the read and ingest scopes.</p>
          )}
          <section className="panel" aria-labelledby="training-runs-title">
            <h2 id="training-runs-title">Runs</h2>
            {runs.error ? <ErrorNote error={runs.error} title="Training runs could not be listed" /> : null}
            {runs.loading && !runs.data ? <Loading what="training runs" /> : null}
            {runs.data && runs.data.length === 0 ? <p className="muted">No training run yet.</p> : null}
            {runs.data && runs.data.length > 0 ? <RunList runs={runs.data} open={open} onOpen={setSelected} /> : null}
          </section>
        </div>
        <div className="training-main">
          {open ? (
            <TrainingRunPanel
              key={open}
              id={open}
              onChanged={runs.reload}
              onDeleted={() => {
                setSelected(undefined);
                runs.reload();
              }}
            />
          ) : null}
        </div>
      </div>
    </>
  );
}
