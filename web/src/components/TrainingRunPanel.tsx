// One training run: its status, progress (step x of y, tokens/s, time left), the loss chart drawn
// live as steps arrive, what it trains, and Stop / Resume / Delete.
import { useState } from "react";
import { ErrorNote, formatDate } from "./common.tsx";
import { LossChart } from "./LossChart.tsx";
import { useLiveRun, type TrainingRun } from "./TrainingLive.tsx";
import { useSession } from "../session.ts";
import { ApiError, enc } from "../api.ts";

function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

const number = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toLocaleString(undefined, { maximumFractionDigits: digits }));

function statusLine(run: TrainingRun): string {
  if (run.status !== "running") return `This run is ${run.status} at step ${run.step} of ${run.steps}.`;
  if (run.stopping) return "Stopping: saving a checkpoint…";
  if (run.phase === "preparing") {
    const p = run.preparing;
    return p ? `Preparing the text (${p.phase}${p.total ? ` ${Math.round((100 * p.done) / p.total)}%` : ""})…` : "Starting the trainer…";
  }
  return "Training…"; // the step is in the progress bar; a live region per step would be noise
}

function Progress({ run }: { run: TrainingRun }) {
  const running = run.status === "running";
  return (
    <div className="training-progress">
      <progress value={run.step} max={Math.max(1, run.steps)} aria-label={`Step ${run.step} of ${run.steps}`} />
      <dl className="training-stats">
        <div>
          <dt>Step</dt>
          <dd data-testid="training-step">
            {run.step} of {run.steps}
          </dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd>{number(run.loss, 4)}</dd>
        </div>
        <div>
          <dt>Tokens/s</dt>
          <dd>{number(run.tokensPerSecond)}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{running ? duration(run.etaSeconds) : "—"}</dd>
        </div>
      </dl>
    </div>
  );
}

function Facts({ run }: { run: TrainingRun }) {
  const m = run.model;
  return (
    <dl className="meta">
      <div className="meta-row">
        <dt>Model</dt>
        <dd>{m ? `llama · ${m.layers} layers · ${m.heads} heads · width ${m.dim} · vocabulary ${m.vocab}` : "not built yet"}</dd>
      </div>
      <div className="meta-row">
        <dt>Parameters</dt>
        <dd>{number(run.parameters)}</dd>
      </div>
      <div className="meta-row">
        <dt>Text</dt>
        <dd>
          {run.documents} readable document{run.documents === 1 ? "" : "s"} of <strong>{run.kb}</strong>, {number(run.corpusBytes)} bytes
          {run.dataset ? `, ${number(run.dataset.tokens)} tokens (${number(run.dataset.valTokens)} held out)` : ""}
        </dd>
      </div>
      <div className="meta-row">
        <dt>Checkpoint</dt>
        <dd>{run.checkpointStep === null ? "none yet" : `step ${run.checkpointStep}`}</dd>
      </div>
      <div className="meta-row">
        <dt>Started</dt>
        <dd>
          {formatDate(run.startedAt)} by {run.owner}
        </dd>
      </div>
      {run.endedAt ? (
        <div className="meta-row">
          <dt>Ended</dt>
          <dd>{formatDate(run.endedAt)}</dd>
        </div>
      ) : null}
    </dl>
  );
}

export function TrainingRunPanel({ id, onChanged, onDeleted }: { id: string; onChanged: () => void; onDeleted: () => void }) {
  const { client, me } = useSession();
  // Bumped after a resume, so the panel follows the run's new session.
  const [session, setSession] = useState(0);
  const { run, error } = useLiveRun(client, id, session, onChanged);
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const canAct = me.scopes.includes("ingest");

  const act = async (what: "stop" | "resume" | "delete"): Promise<void> => {
    if (what === "delete" && !window.confirm(`Delete training run ${id} and its checkpoints?`)) return;
    setBusy(what);
    setActionError(undefined);
    try {
      if (what === "delete") {
        await client.request(`/api/training-runs/${enc(id)}`, { method: "DELETE" });
        onDeleted();
      } else {
        await client.request(`/api/training-runs/${enc(id)}/${what}`, { method: "POST", ...(what === "resume" ? { body: {} } : {}) });
        if (what === "resume") setSession((n) => n + 1);
        onChanged();
      }
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(undefined);
    }
  };

  if (error) return <ErrorNote error={error} title="This run could not be shown" />;
  if (!run) return <p className="muted" role="status">Loading the run…</p>;
  const running = run.status === "running";
  const resumable = !running && run.status !== "completed" && run.checkpointStep !== null;
  return (
    <section className="panel training-run" aria-labelledby="training-run-title" data-status={run.status}>
      <div className="panel-head">
        <h2 id="training-run-title">
          {run.preset} on {run.kb} <code className="training-id">{run.id}</code>
        </h2>
        <span className={`badge status-${run.status}`} data-testid="training-status">
          {run.stopping ? "stopping" : run.status}
        </span>
      </div>
      <p className="muted small" role="status">
        {statusLine(run)}
      </p>
      {run.error ? <ErrorNote error={new ApiError(0, run.error.code, run.error.message, run.error.hint)} title={run.status === "interrupted" ? "Interrupted" : "The run failed"} /> : null}
      <Progress run={run} />
      <LossChart
        title="Loss"
        series={[
          { name: "training loss", points: run.history.train.map((p) => ({ x: p.step, y: p.loss })) },
          { name: "validation loss", points: run.history.val.map((p) => ({ x: p.step, y: p.valLoss })) },
        ]}
      />
      <Facts run={run} />
      {canAct ? (
        <div className="form-actions">
          {running ? (
            <button type="button" className="button danger" disabled={busy !== undefined || run.stopping} onClick={() => void act("stop")}>
              {busy === "stop" || run.stopping ? "Stopping…" : "Stop"}
            </button>
          ) : null}
          {resumable ? (
            <button type="button" className="button" disabled={busy !== undefined} onClick={() => void act("resume")}>
              {busy === "resume" ? "Resuming…" : "Resume"}
            </button>
          ) : null}
          {!running ? (
            <button type="button" className="button ghost" disabled={busy !== undefined} onClick={() => void act("delete")}>
              {busy === "delete" ? "Deleting…" : "Delete"}
            </button>
          ) : null}
        </div>
      ) : null}
      {actionError ? <ErrorNote error={actionError} title="That did not work" /> : null}
    </section>
  );
}
