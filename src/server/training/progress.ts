// A run's progress, folded from the trainer's event lines (`strata train pretrain --events`):
// the loss history, validation points, rate, ETA and latest checkpoint. The same fold serves a live
// run (lines as they arrive) and a finished one (the whole events.jsonl read back).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LossPoint } from "../../formats/checkpoint.js";

export const EVENTS_FILE = "events.jsonl";

export type { LossPoint };

export interface ValPoint {
  step: number;
  valLoss: number;
  trainLoss: number;
  valPerplexity: number;
}

/** What the trainer is doing: preparing the text, training, or done (whatever the outcome). */
export type Phase = "preparing" | "training" | "finished";

export interface Progress {
  phase: Phase;
  /** Work before training (tokenize, tokenizer): the latest report. */
  preparing: { phase: string; done: number; total: number | null } | null;
  dataset: { tokens: number; trainTokens: number; valTokens: number } | null;
  parameters: number | null;
  tokensPerStep: number | null;
  step: number;
  steps: number;
  train: LossPoint[];
  val: ValPoint[];
  tokensPerSecond: number | null;
  checkpointStep: number | null;
}

/** One event of the stream as the server forwards it (paths left out: they are the operator's business). */
export type ProgressEvent =
  | { type: "preparing"; phase: string; done: number; total: number | null }
  | { type: "dataset"; tokens: number; trainTokens: number; valTokens: number }
  | { type: "start"; step: number; steps: number; parameters: number; tokensPerStep: number; resumedFrom: number | null }
  | { type: "step"; step: number; steps: number; loss: number; lr: number; tokensPerSecond: number }
  | { type: "eval"; step: number; trainLoss: number; valLoss: number; valPerplexity: number }
  | { type: "checkpoint"; step: number };

export function emptyProgress(steps: number): Progress {
  return { phase: "preparing", preparing: null, dataset: null, parameters: null, tokensPerStep: null, step: 0, steps, train: [], val: [], tokensPerSecond: null, checkpointStep: null };
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const numOrNaN = (v: unknown): number | undefined => (typeof v === "number" ? v : v === null ? Number.NaN : undefined);

/** One line of events.jsonl as a forwarded event; undefined for lines that are not events we know. */
export function parseEventLine(line: string): ProgressEvent | undefined {
  let o: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(line);
    if (!v || typeof v !== "object") return undefined;
    o = v as Record<string, unknown>;
  } catch {
    return undefined; // a torn last line of a killed trainer
  }
  const step = num(o.step);
  switch (o.type) {
    case "progress":
      return typeof o.phase === "string" && num(o.done) !== undefined ? { type: "preparing", phase: o.phase, done: num(o.done)!, total: num(o.total) ?? null } : undefined;
    case "dataset":
      return num(o.tokens) !== undefined ? { type: "dataset", tokens: num(o.tokens)!, trainTokens: num(o.trainTokens) ?? 0, valTokens: num(o.valTokens) ?? 0 } : undefined;
    case "start":
      return step !== undefined && num(o.steps) !== undefined
        ? { type: "start", step, steps: num(o.steps)!, parameters: num(o.parameters) ?? 0, tokensPerStep: num(o.tokensPerStep) ?? 0, resumedFrom: num(o.resumedFrom) ?? null }
        : undefined;
    case "step": {
      // A non-finite loss is written as null by JSON; it stays NaN so the chart can skip it.
      const loss = numOrNaN(o.loss);
      return step !== undefined && loss !== undefined ? { type: "step", step, steps: num(o.steps) ?? step, loss, lr: num(o.lr) ?? 0, tokensPerSecond: num(o.tokensPerSecond) ?? 0 } : undefined;
    }
    case "eval":
      return step !== undefined && num(o.valLoss) !== undefined ? { type: "eval", step, trainLoss: num(o.trainLoss) ?? Number.NaN, valLoss: num(o.valLoss)!, valPerplexity: num(o.valPerplexity) ?? Number.NaN } : undefined;
    case "checkpoint":
      return step !== undefined ? { type: "checkpoint", step } : undefined;
    default:
      return undefined;
  }
}

/** Applies one event to the progress (in place). */
export function applyEvent(p: Progress, e: ProgressEvent): void {
  switch (e.type) {
    case "preparing":
      p.preparing = { phase: e.phase, done: e.done, total: e.total };
      break;
    case "dataset":
      p.dataset = { tokens: e.tokens, trainTokens: e.trainTokens, valTokens: e.valTokens };
      break;
    case "start":
      p.phase = "training";
      p.parameters = e.parameters;
      p.tokensPerStep = e.tokensPerStep;
      p.step = e.step;
      p.steps = e.steps;
      p.tokensPerSecond = null;
      // A resumed run repeats the steps after its checkpoint: drop what it will redo.
      p.train = p.train.filter((x) => x.step <= e.step);
      p.val = p.val.filter((x) => x.step <= e.step);
      break;
    case "step":
      p.phase = "training";
      p.step = e.step;
      p.steps = e.steps;
      p.train.push({ step: e.step, loss: e.loss, lr: e.lr });
      p.tokensPerSecond = e.tokensPerSecond;
      break;
    case "eval":
      p.val.push({ step: e.step, valLoss: e.valLoss, trainLoss: e.trainLoss, valPerplexity: e.valPerplexity });
      break;
    case "checkpoint":
      p.checkpointStep = e.step;
      break;
  }
}

/** Seconds left at the current rate (steps only; evaluations and saving add a little). */
export function etaSeconds(p: Progress): number | null {
  if (p.phase !== "training" || !p.tokensPerSecond || !p.tokensPerStep) return null;
  return Math.max(0, ((p.steps - p.step) * p.tokensPerStep) / p.tokensPerSecond);
}

/** The progress recorded in a run folder's events.jsonl (empty when there is none yet). */
export function readProgress(runDir: string, steps: number): Progress {
  const p = emptyProgress(steps);
  let text = "";
  try {
    text = readFileSync(join(runDir, EVENTS_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  for (const line of text.split("\n")) {
    const e = line ? parseEventLine(line) : undefined;
    if (e) applyEvent(p, e);
  }
  return p;
}

/** At most `max` points, evenly spread, always keeping the last (for long runs' answers). */
export function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const every = points.length / max;
  const out: T[] = [];
  for (let i = 0; i < max - 1; i++) out.push(points[Math.floor(i * every)]!);
  out.push(points[points.length - 1]!);
  return out;
}
