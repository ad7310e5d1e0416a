// Settings and presets of diffusion training. "fashion" is the documented preset (README): it
// finishes in under 30 minutes on a 2-core machine; "tiny" is what tests and CI train for a few steps.

import { StrataError } from "../../core/errors.js";
import type { DitConfig } from "../../nn/diffusion/config.js";
import { checkSchedule } from "../schedule.js";
import type { OptimizerSettings } from "../settings.js";

export interface DiffusionSettings extends OptimizerSettings {
  steps: number;
  batchSize: number;
  /** Share of training examples whose prompt is replaced by the null condition (classifier-free guidance). */
  condDropout: number;
  evalInterval: number;
  evalBatches: number;
  checkpointInterval: number;
  /** Steps of the DDIM sampler that draws the per-checkpoint sample grid (0 = no grid). */
  sampleSteps: number;
  seed: number;
}

/** The model without `prompts` (taken from the prompt table). */
export type DitShape = Omit<DitConfig, "prompts">;

export interface DiffusionPreset {
  description: string;
  model: DitShape;
  train: Partial<DiffusionSettings>;
}

const BASE: Omit<DitShape, "dim" | "depth" | "heads" | "mlpRatio"> = { image: 28, channels: 1, patch: 4, freqDim: 64, timesteps: 1000, schedule: "cosine" };

export const DIFFUSION_PRESETS = {
  fashion: {
    description: "DiT, width 64, 3 blocks, 4 heads, 4×4 patches (49 tokens), cosine schedule of 1000 steps; 2,500 steps of 32 images",
    model: { ...BASE, dim: 64, depth: 3, heads: 4, mlpRatio: 2 },
    train: { steps: 2500, batchSize: 32, lr: 1e-3, minLr: 1e-4, warmupSteps: 100, evalInterval: 250, checkpointInterval: 250 },
  },
  tiny: {
    description: "DiT, width 16, 1 block, 2 heads: a smoke test, not a useful model",
    model: { ...BASE, dim: 16, depth: 1, heads: 2, mlpRatio: 2, freqDim: 16, timesteps: 100 },
    train: { steps: 4, batchSize: 4, lr: 1e-3, minLr: 1e-3, warmupSteps: 0, evalInterval: 2, evalBatches: 1, checkpointInterval: 2, sampleSteps: 2 },
  },
} as const satisfies Record<string, DiffusionPreset>;
export type DiffusionPresetName = keyof typeof DIFFUSION_PRESETS;

export function isDiffusionPreset(name: string): name is DiffusionPresetName {
  return Object.hasOwn(DIFFUSION_PRESETS, name);
}

const DEFAULTS: Omit<DiffusionSettings, "decaySteps"> = {
  steps: 2500, batchSize: 32, lr: 1e-3, minLr: 1e-4, warmupSteps: 100, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 1,
  condDropout: 0.1, evalInterval: 250, evalBatches: 4, checkpointInterval: 250, sampleSteps: 20, seed: 1337,
};

export function resolveDiffusionSettings(partial: Partial<DiffusionSettings>): DiffusionSettings {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<DiffusionSettings>;
  const s: DiffusionSettings = { ...DEFAULTS, decaySteps: defined.steps ?? DEFAULTS.steps, ...defined };
  const bad = (what: string, hint: string): never => {
    throw new StrataError("INVALID_CONFIG", `diffusion training: ${what}`, hint);
  };
  for (const k of ["steps", "batchSize", "evalInterval", "evalBatches", "checkpointInterval"] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) bad(`${k} must be a whole number ≥ 1, got ${s[k]}`, `e.g. ${DEFAULTS[k]}`);
  }
  if (!(s.condDropout >= 0 && s.condDropout < 1)) bad(`condDropout must be in [0, 1), got ${s.condDropout}`, "use 0.1");
  if (!(s.gradClip > 0)) bad(`gradClip must be positive, got ${s.gradClip}`, "use 1");
  if (!Number.isInteger(s.sampleSteps) || s.sampleSteps < 0) bad(`sampleSteps must be a whole number ≥ 0, got ${s.sampleSteps}`, "use 20");
  checkSchedule(s);
  return s;
}
