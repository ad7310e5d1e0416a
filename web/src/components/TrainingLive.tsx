// A training run as the server describes it (docs/api.md, "Training runs"), and a hook that
// follows one live: the run's snapshot first, then each step, evaluation and checkpoint as the
// trainer reports it, until `end`. The stream is a GET with the key in a header (EventSource cannot
// send one), and it reconnects when the connection drops before the run has ended.
import { useEffect, useRef, useState } from "react";
import { ApiError, enc, readSse, type Client } from "../api.ts";

export type RunStatus = "running" | "completed" | "failed" | "stopped" | "interrupted";

export interface RunError {
  code: string;
  message: string;
  hint: string;
}

export interface TrainingRunSummary {
  id: string;
  owner: string;
  kb: string;
  preset: string;
  status: RunStatus;
  stopping: boolean;
  step: number;
  steps: number;
  loss: number | null;
  createdAt: string;
  endedAt: string | null;
  error: RunError | null;
}

export interface TrainingRun extends TrainingRunSummary {
  startedAt: string;
  settings: { steps: number; batch?: number; block?: number; lr?: number; seed?: number };
  documents: number;
  corpusBytes: number;
  phase: "preparing" | "training" | "finished";
  preparing: { phase: string; done: number; total: number | null } | null;
  dataset: { tokens: number; trainTokens: number; valTokens: number } | null;
  model: { layers: number; heads: number; kvHeads: number; dim: number; ffnDim: number; vocab: number; maxSeq: number } | null;
  parameters: number | null;
  tokensPerStep: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
  checkpointStep: number | null;
  history: { train: { step: number; loss: number; lr: number }[]; val: { step: number; valLoss: number; trainLoss: number; valPerplexity: number }[] };
}

interface StepEvent {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  etaSeconds: number | null;
}

/** The run after one event of its stream. */
function applyEvent(run: TrainingRun, event: string, data: unknown): TrainingRun {
  switch (event) {
    case "run":
    case "end":
      return data as TrainingRun;
    case "preparing":
      return { ...run, preparing: data as TrainingRun["preparing"] };
    case "dataset":
      return { ...run, dataset: data as TrainingRun["dataset"] };
    case "start": {
      const s = data as { step: number; steps: number; parameters: number; tokensPerStep: number };
      const keep = <T extends { step: number }>(xs: T[]): T[] => xs.filter((x) => x.step <= s.step);
      return { ...run, phase: "training", step: s.step, steps: s.steps, parameters: s.parameters, tokensPerStep: s.tokensPerStep, history: { train: keep(run.history.train), val: keep(run.history.val) } };
    }
    case "step": {
      const s = data as StepEvent;
      if (run.history.train.length > 0 && s.step <= run.history.train.at(-1)!.step) return run;
      return {
        ...run,
        phase: "training",
        step: s.step,
        steps: s.steps,
        loss: s.loss,
        tokensPerSecond: s.tokensPerSecond,
        etaSeconds: s.etaSeconds,
        history: { ...run.history, train: [...run.history.train, { step: s.step, loss: s.loss, lr: s.lr }] },
      };
    }
    case "eval": {
      const v = data as TrainingRun["history"]["val"][number];
      if (run.history.val.some((p) => p.step === v.step)) return run;
      return { ...run, history: { ...run.history, val: [...run.history.val, v] } };
    }
    case "checkpoint":
      return { ...run, checkpointStep: (data as { step: number }).step };
    default:
      return run;
  }
}

/** One connection to the run's event stream; resolves when it closes, saying whether `end` came. */
async function followOnce(client: Client, id: string, signal: AbortSignal, onEvent: (event: string, data: unknown) => void): Promise<boolean> {
  const res = await fetch(`/api/training-runs/${enc(id)}/events`, {
    headers: { Authorization: `Bearer ${client.key}`, Accept: "text/event-stream" },
    credentials: "omit",
    cache: "no-store",
    signal,
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; hint?: string } };
    throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `the run's events could not be read (HTTP ${res.status})`, body.error?.hint);
  }
  let ended = false;
  await readSse(res.body, (event, data) => {
    if (event === "end") ended = true;
    onEvent(event, data);
  });
  return ended;
}

/** The run, kept up to date while it trains; `onEnd` is told when it finishes. A new `session` (after a resume) reconnects. */
export function useLiveRun(client: Client, id: string | undefined, session: number, onEnd: () => void): { run: TrainingRun | undefined; error: unknown } {
  const [run, setRun] = useState<TrainingRun>();
  const [error, setError] = useState<unknown>();
  const endRef = useRef(onEnd);
  endRef.current = onEnd;
  useEffect(() => {
    setRun(undefined);
    setError(undefined);
    if (!id) return;
    const ctrl = new AbortController();
    let sawRunning = false;
    void (async () => {
      for (let attempt = 0; !ctrl.signal.aborted; attempt++) {
        try {
          const ended = await followOnce(client, id, ctrl.signal, (event, data) => {
            if (event === "run" && (data as TrainingRun).status === "running") sawRunning = true;
            setRun((r) => (r || event === "run" || event === "end" ? applyEvent(r as TrainingRun, event, data) : r));
            if (event === "end" && sawRunning) endRef.current();
          });
          if (ended) return;
        } catch (e) {
          if (ctrl.signal.aborted) return;
          if (e instanceof ApiError) {
            setError(e);
            return;
          }
        }
        // Dropped before the end (a proxy, a restart): try again, a little later each time.
        await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * (attempt + 1))));
      }
    })();
    return () => ctrl.abort();
  }, [client, id, session]);
  return { run, error };
}
