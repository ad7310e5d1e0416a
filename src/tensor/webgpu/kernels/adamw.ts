// AdamW exactly as src/train/optimizer.ts (torch.optim.AdamW): for parameters in the decay set
// p ← p·(1 − lr·wd) first; then m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
// p ← p − (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + ε). The step's scalars are computed on the host in
// float64 with the same expressions and passed as f32; the GPU's f32 arithmetic stays within
// float32 rounding of the CPU (which computes in float64 and rounds once).

import { type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

const WG = 256;
const PARAMS: ParamLayout = [
  ["n", "u32"], ["b1", "f32"], ["b2", "f32"], ["c1", "f32"], ["c2", "f32"], ["keep", "f32"], ["stepSize", "f32"], ["bc2Sqrt", "f32"], ["eps", "f32"],
];

export const adamwShader = `@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${paramDecl(PARAMS, 4)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let i = ${flatGroup} * ${WG}u + lid;
  if (i < p.n) {
    let g = grad[i];
    let mi = p.b1 * m[i] + p.c1 * g;
    let vi = p.b2 * v[i] + p.c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * p.keep - (p.stepSize * mi) / (sqrt(vi) / p.bc2Sqrt + p.eps);
  }
}`;

export interface AdamWStep {
  /** The step number t (1 for the first update). */
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Whether this parameter is in the decay set (src/train/optimizer.ts `defaultDecay`). */
  decay: boolean;
}

/** The per-step scalars, computed as src/train/optimizer.ts computes them. */
export function adamwScalars(s: AdamWStep): Record<string, number> {
  const bc1 = 1 - s.beta1 ** s.step;
  const bc2 = 1 - s.beta2 ** s.step;
  return {
    b1: s.beta1, b2: s.beta2, c1: 1 - s.beta1, c2: 1 - s.beta2,
    keep: s.decay && s.weightDecay > 0 ? Math.fround(1 - s.lr * s.weightDecay) : 1,
    stepSize: s.lr / bc1, bc2Sqrt: Math.sqrt(bc2), eps: s.eps,
  };
}

/** Updates param, m and v (n elements each) in place with the gradient. */
export function adamwUpdate<B>(r: Runner<B>, param: B, grad: B, m: B, v: B, n: number, s: AdamWStep): void {
  r.run({ label: "adamw", code: adamwShader, entry: "main", groups: grid(n / WG), storage: [param, grad, m, v], params: packParams(PARAMS, { n, ...adamwScalars(s) }) });
}
