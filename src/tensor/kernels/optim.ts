// The optimizer's loops over every parameter, the plain-TS reference of native/optim.c: AdamW's
// update (as torch.optim.AdamW does it; the math is in src/train/optimizer.ts) and gradient
// clipping's sum of squares and scaling. Float64 arithmetic, rounded to float32 when stored.

/** AdamW's per-step constants. */
export interface AdamWStep {
  b1: number;
  b2: number;
  /** 1 − β1, 1 − β2 */
  c1: number;
  c2: number;
  /** 1 − lr·wd for decayed parameters (rounded to float32), else 1 */
  keep: number;
  /** lr / (1 − β1ᵗ) */
  stepSize: number;
  /** √(1 − β2ᵗ) */
  bc2Sqrt: number;
  eps: number;
}

/** One AdamW update of p with gradient g, moments m and v (all the same length), in place. */
export function adamwReference(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamWStep): void {
  const { b1, b2, c1, c2, keep, stepSize, bc2Sqrt, eps } = h;
  // Moments are stored (rounded) to float32 before use, as PyTorch's float32 tensors hold them.
  for (let j = 0; j < p.length; j++) {
    const gj = g[j]!;
    m[j] = b1 * m[j]! + c1 * gj;
    v[j] = b2 * v[j]! + c2 * gj * gj;
    p[j] = p[j]! * keep - (stepSize * m[j]!) / (Math.sqrt(v[j]!) / bc2Sqrt + eps);
  }
}

/** Σ g² in float64. */
export function sumSquaresReference(g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return s;
}

/** g ← g · s in place (s a float32). */
export function scaleReference(g: Float32Array, s: number): void {
  for (let i = 0; i < g.length; i++) g[i] = g[i]! * s;
}
