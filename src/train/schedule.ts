// The learning-rate schedule: linear warm-up, then a cosine decay to a floor (nanoGPT's get_lr).
//
//   step < warmup            lr · (step + 1) / (warmup + 1)
//   warmup ≤ step ≤ decay    minLr + ½ (1 + cos(π · (step − warmup) / (decay − warmup))) · (lr − minLr)
//   step > decay             minLr
//
// `step` is the 0-based index of the update about to be made. The decay horizon is fixed when a run
// starts (its step count), so resuming a run — even to go further than planned — never changes the
// rates already used; steps past the horizon run at minLr.

import { StrataError } from "../core/errors.js";

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Floor reached at `decaySteps`. */
  minLr: number;
  warmupSteps: number;
  decaySteps: number;
}

export function checkSchedule(s: LrSchedule): void {
  const bad = (what: string, hint: string): never => {
    throw new StrataError("INVALID_CONFIG", `learning-rate schedule: ${what}`, hint);
  };
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) bad(`lr must be a positive number, got ${s.lr}`, "use e.g. 1e-3");
  if (!(s.minLr >= 0) || s.minLr > s.lr) bad(`minLr must be between 0 and lr (${s.lr}), got ${s.minLr}`, "use lr / 10");
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) bad(`warmupSteps must be a whole number ≥ 0, got ${s.warmupSteps}`, "use e.g. 100");
  if (!Number.isInteger(s.decaySteps) || s.decaySteps < 0) bad(`decaySteps must be a whole number ≥ 0, got ${s.decaySteps}`, "use the number of training steps");
}

/** The learning rate of update `step` (0-based). */
export function learningRate(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / (s.warmupSteps + 1);
  if (step > s.decaySteps || s.decaySteps <= s.warmupSteps) return s.minLr;
  const ratio = (step - s.warmupSteps) / (s.decaySteps - s.warmupSteps);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return s.minLr + coeff * (s.lr - s.minLr);
}
