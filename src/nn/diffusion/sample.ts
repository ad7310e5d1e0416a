// Sampling from the diffusion transformer: DDIM (Song et al. 2021) over a subsequence of the
// training timesteps, deterministic with η = 0, and DDPM's ancestral sampling as the same update
// with η = 1 (on the respaced schedule, which is what "DDPM with fewer steps" means). Classifier-
// free guidance (Ho & Salimans 2022) mixes the conditional and the unconditional prediction:
//
//   ε = ε(x, t, ∅) + w · (ε(x, t, c) − ε(x, t, ∅))        w = 0: unconditional, w = 1: conditional
//   x̂0 = clip((x − √(1−ᾱ_t) ε) / √ᾱ_t, −1, 1),  ε ← (x − √ᾱ_t x̂0) / √(1−ᾱ_t)
//   σ = η · √((1−ᾱ_prev)/(1−ᾱ_t)) · √(1 − ᾱ_t/ᾱ_prev)
//   x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ²) ε + σ z        (ᾱ_prev = 1 after the last step)
//
// Each image draws its starting noise and its z from its own generator, seeded by its seed, so the
// same seed gives the same image.

import { StrataError } from "../../core/errors.js";
import type { ProgressListener } from "../../core/events.js";
import { Rng, noGrad, tensor } from "../../tensor/index.js";
import type { DiT } from "./dit.js";
import { noiseSchedule } from "./schedule.js";

export type Sampler = "ddim" | "ddpm";

export interface SampleOptions {
  /** Condition row per image (model.nullRow for none). */
  rows: readonly number[];
  /** One seed per image. */
  seeds: readonly number[];
  /** Denoising steps, 1 … T. */
  steps: number;
  /** Guidance scale w (default 1: the conditional prediction alone). */
  guidance?: number;
  sampler?: Sampler;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** `steps` timesteps from T−1 down to 0, evenly spaced; refuses 0 steps and more than T. */
export function samplingTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new StrataError("USAGE", `steps must be a whole number from 1 to ${T} (the model's training schedule has ${T} timesteps), got ${steps}`, "e.g. --steps 50");
  }
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(steps === 1 ? T - 1 : Math.round(((T - 1) * (steps - 1 - i)) / (steps - 1)));
  return out;
}

/** Generates images in [−1, 1], [B, C, H, W] row-major; see the file comment. */
export function sampleImages(model: DiT, o: SampleOptions): Float32Array {
  const c = model.config;
  const { alphaBar } = noiseSchedule(c.schedule, c.timesteps);
  const ts = samplingTimesteps(c.timesteps, o.steps);
  const B = o.rows.length;
  if (o.seeds.length !== B) throw new StrataError("USAGE", `${o.seeds.length} seeds for ${B} images`, "give one seed per image");
  const w = o.guidance ?? 1;
  if (!Number.isFinite(w) || w < 0) throw new StrataError("USAGE", `guidance must be a number ≥ 0, got ${w}`, "e.g. --guidance 3 (0 = unconditional, 1 = conditional only)");
  const eta = (o.sampler ?? "ddim") === "ddpm" ? 1 : 0;
  const per = c.channels * c.image * c.image;
  const rngs = o.seeds.map((s) => new Rng(s));
  const x = new Float32Array(B * per);
  rngs.forEach((r, b) => r.fillNormal(x.subarray(b * per, (b + 1) * per)));
  const allNull = o.rows.every((r) => r === model.nullRow);
  const useCond = w !== 0 && !allNull;
  const useUncond = w !== 1 || allNull;
  const shape = [B, c.channels, c.image, c.image];
  const nulls = new Array<number>(B).fill(model.nullRow);
  return noGrad(() => {
    for (let i = 0; i < ts.length; i++) {
      if (o.signal?.aborted) throw new StrataError("ABORTED", `sampling stopped at step ${i} of ${ts.length}`, "run it again");
      const t = ts[i]!;
      const ab = alphaBar[t]!;
      const abPrev = i + 1 < ts.length ? alphaBar[ts[i + 1]!]! : 1;
      const tArr = new Array<number>(useCond && useUncond ? 2 * B : B).fill(t);
      let eps: Float32Array;
      if (useCond && useUncond) {
        const both = new Float32Array(2 * B * per);
        both.set(x);
        both.set(x, B * per);
        const e = model.forward(tensor(both, [2 * B, ...shape.slice(1)]), tArr, [...o.rows, ...nulls]).contiguousData();
        eps = new Float32Array(B * per);
        for (let j = 0; j < B * per; j++) eps[j] = e[B * per + j]! + w * (e[j]! - e[B * per + j]!);
      } else {
        eps = Float32Array.from(model.forward(tensor(Float32Array.from(x), shape), tArr, useCond ? o.rows : nulls).contiguousData());
      }
      const sa = Math.sqrt(ab);
      const s1 = Math.sqrt(1 - ab);
      const sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(Math.max(0, 1 - ab / abPrev));
      const dirCoef = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
      for (let b = 0; b < B; b++) {
        for (let j = b * per; j < (b + 1) * per; j++) {
          const x0 = Math.min(1, Math.max(-1, (x[j]! - s1 * eps[j]!) / sa));
          const e = (x[j]! - sa * x0) / s1;
          x[j] = Math.sqrt(abPrev) * x0 + dirCoef * e + (sigma > 0 ? sigma * rngs[b]!.normal() : 0);
        }
      }
      o.onProgress?.({ phase: "sample", done: i + 1, total: ts.length });
    }
    return x;
  });
}
