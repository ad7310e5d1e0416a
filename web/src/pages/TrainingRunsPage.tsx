// Training runs with a live loss chart.
// ROOM FOR LATER: the training layer's HTTP routes have not landed; the server answers 501 and this
// page says so. The run shape below is provisional — pin it to docs/api.md when /api/training-runs exists.
import { useState } from "react";
import { ErrorNote, formatDate, Loading, NotAvailable, PageTitle } from "../components/common.tsx";
import { LossChart, type Point } from "../components/LossChart.tsx";
import { isNotImplemented, useInterval, useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

interface TrainingRun {
  id: string;
  status: string;
  method?: string;
  model?: string;
  startedAt?: string;
  /** Step events as the training loop reports them (step, loss, lr, tokens/s). */
  steps?: { step: number; loss: number; valLoss?: number; lr?: number; tokensPerSecond?: number }[];
}

export function TrainingRunsPage() {
  const { client } = useSession();
  const runs = useLoad(async (signal) => {
    const raw = await client.request<unknown>("/api/training-runs", { signal });
    return (Array.isArray(raw) ? raw : ((raw as { runs?: unknown[] }).runs ?? [])) as TrainingRun[];
  }, [client]);
  const [selected, setSelected] = useState<string | undefined>();
  const live = (runs.data ?? []).some((r) => r.status === "running");
  useInterval(runs.reload, 2000, live);
  const run = runs.data?.find((r) => r.id === selected) ?? runs.data?.[0];
  return (
    <>
      <PageTitle sub="Pretraining and fine-tuning runs, with their loss as it falls.">Training runs</PageTitle>
      {isNotImplemented(runs.error) ? (
        <NotAvailable feature="Training runs">
          When the training layer is served, this page lists each run (pretrain, SFT, LoRA, DPO) and draws its training and validation loss live, step by step.
        </NotAvailable>
      ) : runs.error ? (
        <ErrorNote error={runs.error} title="Training runs could not be listed" />
      ) : null}
      {runs.loading && !runs.data && !runs.error ? <Loading what="training runs" /> : null}
      {runs.data && runs.data.length === 0 ? <p className="muted">No training run yet.</p> : null}
      {runs.data && runs.data.length > 0 ? (
        <div className="training">
          <ul className="run-list" aria-label="Training runs">
            {runs.data.map((r) => (
              <li key={r.id}>
                <button type="button" className="link" aria-current={run?.id === r.id ? "true" : undefined} onClick={() => setSelected(r.id)}>
                  {r.method ?? "run"} <code>{r.id}</code>
                </button>{" "}
                <span className={`badge status-${r.status}`}>{r.status}</span>
              </li>
            ))}
          </ul>
          {run ? (
            <section className="panel" aria-labelledby="run-title">
              <h2 id="run-title">
                {run.method ?? "Run"} <code>{run.id}</code>
              </h2>
              <p className="muted small">
                {run.model ? `${run.model} · ` : ""}
                {run.startedAt ? `started ${formatDate(run.startedAt)}` : ""}
              </p>
              <LossChart
                title="Loss"
                series={[
                  { name: "training loss", points: (run.steps ?? []).map((s): Point => ({ x: s.step, y: s.loss })) },
                  { name: "validation loss", points: (run.steps ?? []).filter((s) => s.valLoss !== undefined).map((s): Point => ({ x: s.step, y: s.valLoss! })) },
                ]}
              />
            </section>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
