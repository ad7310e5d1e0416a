// The trainer's config file for a server run: the preset's model and tokenizer, and its training
// settings with the caller's choices on top. Written to <run>/config.json and passed as --config,
// so the server can set what the CLI has no flag for (evaluation batches, warm-up scaled to the run).
import { writeFileSync } from "node:fs";
import { DEFAULT_TRAIN_SETTINGS, PRESETS, type TrainSettings } from "../../train/index.js";
import type { RequestedSettings, TrainingPreset } from "./job-file.js";

export const CONFIG_FILE = "config.json";

/** Training settings of a run: the preset's, the caller's on top, and warm-up and evaluation fitted to short runs. */
export function trainSettings(preset: TrainingPreset, r: RequestedSettings): Partial<TrainSettings> {
  const p = PRESETS[preset].train;
  const presetSteps = p.steps ?? DEFAULT_TRAIN_SETTINGS.steps;
  // A 20-step run with the tiny preset's 100 warm-up steps would never reach its learning rate:
  // warm-up keeps the preset's share of the run (capped at the preset's).
  const warmup = p.warmupSteps === undefined ? undefined : Math.min(p.warmupSteps, Math.max(1, Math.ceil((r.steps * p.warmupSteps) / presetSteps)));
  // A short run still gets a few validation points for its chart (about 4), but never more often
  // than every 10 steps: each evaluation costs 2 × evalBatches forward passes.
  const evalInterval = r.evalEvery ?? Math.min(p.evalInterval ?? DEFAULT_TRAIN_SETTINGS.evalInterval, Math.max(10, Math.ceil(r.steps / 4)));
  return {
    ...p,
    steps: r.steps,
    warmupSteps: warmup,
    evalInterval,
    ...(r.batch !== undefined ? { batchSize: r.batch } : {}),
    ...(r.block !== undefined ? { blockSize: r.block } : {}),
    ...(r.lr !== undefined ? { lr: r.lr, minLr: Math.min(p.minLr ?? r.lr / 10, r.lr / 10) } : {}),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    ...(r.evalBatches !== undefined ? { evalBatches: r.evalBatches } : {}),
    ...(r.checkpointEvery !== undefined ? { checkpointInterval: r.checkpointEvery } : {}),
  };
}

/** The block size a run will use. */
export function blockSize(preset: TrainingPreset, r: RequestedSettings): number {
  return r.block ?? PRESETS[preset].train.blockSize ?? DEFAULT_TRAIN_SETTINGS.blockSize;
}

export function writeTrainerConfig(path: string, preset: TrainingPreset, r: RequestedSettings): void {
  const p = PRESETS[preset];
  const train = Object.fromEntries(Object.entries(trainSettings(preset, r)).filter(([, v]) => v !== undefined));
  writeFileSync(path, JSON.stringify({ model: p.model, train, tokenizer: p.tokenizer }, null, 2) + "\n", { encoding: "utf8", flag: "wx" });
}
