// What the API says about a run: the job (who, what, status), the trainer's progress, the model
// from run.json and the latest checkpoint on disk. Server paths are left out: they are the
// operator's business.
import { latestStep, readRunConfig } from "../../formats/checkpoint.js";
import type { Job, RunError, RunStatus, TrainingPreset, RequestedSettings } from "./job-file.js";
import { etaSeconds, thin, type LossPoint, type Phase, type Progress, type ValPoint } from "./progress.js";

/** Most loss points in one answer; longer histories are thinned evenly (the last point kept). */
export const MAX_HISTORY_POINTS = 2000;

export interface RunSummary {
  id: string;
  owner: string;
  kb: string;
  preset: TrainingPreset;
  status: RunStatus;
  /** The trainer has been asked to stop and has not yet. */
  stopping: boolean;
  step: number;
  steps: number;
  /** The last training loss, null before the first step. */
  loss: number | null;
  createdAt: string;
  endedAt: string | null;
  error: RunError | null;
}

export interface ModelSummary {
  layers: number;
  heads: number;
  kvHeads: number;
  dim: number;
  ffnDim: number;
  vocab: number;
  maxSeq: number;
}

export interface RunView extends RunSummary {
  startedAt: string;
  settings: RequestedSettings;
  documents: number;
  corpusBytes: number;
  phase: Phase;
  preparing: Progress["preparing"];
  dataset: Progress["dataset"];
  model: ModelSummary | null;
  parameters: number | null;
  tokensPerStep: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
  checkpointStep: number | null;
  history: { train: LossPoint[]; val: ValPoint[] };
}

export function summaryOf(job: Job, progress: Progress, stopping: boolean): RunSummary {
  return {
    id: job.id,
    owner: job.owner,
    kb: job.kb,
    preset: job.preset,
    status: job.status,
    stopping,
    step: progress.step,
    steps: job.status === "running" ? progress.steps : Math.max(progress.step, job.settings.steps),
    loss: progress.train.at(-1)?.loss ?? null,
    createdAt: job.createdAt,
    endedAt: job.endedAt,
    error: job.error,
  };
}

async function modelOf(runDir: string): Promise<ModelSummary | null> {
  try {
    const m = (await readRunConfig(runDir)).model;
    return { layers: m.layers, heads: m.heads, kvHeads: m.kvHeads, dim: m.dim, ffnDim: m.ffnDim, vocab: m.vocab, maxSeq: m.maxSeq };
  } catch {
    return null; // not written yet (the trainer is still preparing), or the run failed before
  }
}

async function checkpointOf(runDir: string): Promise<number | null> {
  try {
    return await latestStep(runDir);
  } catch {
    return null;
  }
}

export async function viewOf(job: Job, runDir: string, progress: Progress, stopping: boolean): Promise<RunView> {
  const running = job.status === "running";
  return {
    ...summaryOf(job, progress, stopping),
    startedAt: job.startedAt,
    settings: job.settings,
    documents: job.documents,
    corpusBytes: job.corpusBytes,
    phase: running ? progress.phase : "finished",
    preparing: progress.preparing,
    dataset: progress.dataset,
    model: await modelOf(runDir),
    parameters: progress.parameters,
    tokensPerStep: progress.tokensPerStep,
    tokensPerSecond: progress.tokensPerSecond,
    etaSeconds: running ? etaSeconds(progress) : null,
    checkpointStep: await checkpointOf(runDir),
    history: { train: thin(progress.train, MAX_HISTORY_POINTS), val: progress.val },
  };
}
