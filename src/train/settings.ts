// Training settings: what run.json's "train" holds, with defaults and checks.

import { z } from "zod";
import { StrataError } from "../core/errors.js";
import { checkSchedule } from "./schedule.js";

/** The learning-rate schedule and AdamW: what every trainer (language model, diffusion) is stepped by. */
export interface OptimizerSettings {
  lr: number;
  minLr: number;
  warmupSteps: number;
  /** Where the cosine reaches minLr; fixed when the run starts (default: steps). */
  decaySteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  gradClip: number;
}

export interface TrainSettings extends OptimizerSettings {
  /** Optimizer steps to reach (a resumed run continues to this count). */
  steps: number;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Tokens per sequence (≤ the model's maxSeq). */
  blockSize: number;
  /** Micro-batches whose gradients are summed (averaged) into one step. */
  gradAccum: number;
  /** Evaluate every N steps (and at the end). */
  evalInterval: number;
  /** Batches per evaluation, for each of the training and validation estimates. */
  evalBatches: number;
  /** Save a checkpoint every N steps (and at the end). */
  checkpointInterval: number;
  /** Share of the token stream, at its end, held out for validation. */
  valFraction: number;
  /** Seeds the weights and the batch sampler. */
  seed: number;
}

export const DEFAULT_TRAIN_SETTINGS: Omit<TrainSettings, "decaySteps"> = {
  steps: 1000,
  batchSize: 12,
  blockSize: 64,
  gradAccum: 1,
  lr: 1e-3,
  minLr: 1e-4,
  warmupSteps: 100,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  gradClip: 1.0,
  evalInterval: 250,
  evalBatches: 20,
  checkpointInterval: 500,
  valFraction: 0.1,
  seed: 1337,
};

const posInt = z.number().int().positive();
const SettingsSchema = z.object({
  steps: posInt,
  batchSize: posInt,
  blockSize: posInt,
  gradAccum: posInt,
  lr: z.number(),
  minLr: z.number(),
  warmupSteps: z.number().int().nonnegative(),
  decaySteps: z.number().int().nonnegative(),
  weightDecay: z.number().nonnegative(),
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  eps: z.number().positive(),
  gradClip: z.number().nonnegative(),
  evalInterval: posInt,
  evalBatches: posInt,
  checkpointInterval: posInt,
  valFraction: z.number().gt(0).lt(1),
  seed: z.number().int().nonnegative(),
});

/** Fills defaults and checks every field; a bad value is INVALID_CONFIG naming it. */
export function resolveSettings(partial: Partial<TrainSettings>, maxSeq: number): TrainSettings {
  const merged = { ...DEFAULT_TRAIN_SETTINGS, ...stripUndefined(partial) };
  const s: TrainSettings = { ...merged, decaySteps: partial.decaySteps ?? merged.steps };
  const parsed = SettingsSchema.safeParse(s);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const field = i.path.join(".");
    throw new StrataError("INVALID_CONFIG", `training setting ${field}: ${i.message} (got ${JSON.stringify((s as unknown as Record<string, unknown>)[field])})`, `fix ${field} in the config`);
  }
  checkSchedule(s);
  if (s.blockSize > maxSeq) {
    throw new StrataError("INVALID_CONFIG", `block size ${s.blockSize} exceeds the model's maxSeq ${maxSeq}`, "use a block size ≤ maxSeq, or raise maxSeq in the model config");
  }
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
