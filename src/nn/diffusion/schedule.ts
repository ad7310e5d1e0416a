// The noise schedule of DDPM (Ho et al. 2020) and the timestep features, shared by training (which
// noises images) and sampling (which removes the noise).
//
//   q(x_t | x_0) = N(√ᾱ_t · x_0, (1 − ᾱ_t) I),   ᾱ_t = Π_{s ≤ t} (1 − β_s),  t = 0 … T−1
//   linear:  β from 1e-4 to 0.02 (Ho et al.)
//   cosine:  ᾱ(t) = f(t) / f(0), f(t) = cos²(((t/T) + s) / (1 + s) · π/2), s = 0.008, β clipped at
//            0.999 (Nichol & Dhariwal 2021)

import type { DitConfig } from "./config.js";

export interface NoiseSchedule {
  T: number;
  betas: Float64Array;
  /** ᾱ_t for t = 0 … T−1. */
  alphaBar: Float64Array;
}

export function noiseSchedule(kind: DitConfig["schedule"], T: number): NoiseSchedule {
  const betas = new Float64Array(T);
  if (kind === "linear") {
    for (let t = 0; t < T; t++) betas[t] = 1e-4 + ((0.02 - 1e-4) * t) / Math.max(1, T - 1);
  } else {
    const f = (t: number): number => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < T; t++) betas[t] = Math.min(1 - f(t + 1) / f(t), 0.999);
  }
  const alphaBar = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= 1 - betas[t]!;
    alphaBar[t] = prod;
  }
  return { T, betas, alphaBar };
}

/** Sinusoidal features of the timesteps (as in DiT): [cos(t·f_i), sin(t·f_i)], f_i = 10000^(−i/half). Returns [n, dim]. */
export function timestepFeatures(t: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let b = 0; b < t.length; b++) {
    for (let i = 0; i < half; i++) {
      const a = t[b]! * Math.exp((-Math.log(10000) * i) / half);
      out[b * dim + i] = Math.cos(a);
      out[b * dim + half + i] = Math.sin(a);
    }
  }
  return out;
}
