// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_): the L2 norm of all gradients
// taken together; when it exceeds maxNorm every gradient is scaled by maxNorm / (norm + 1e-6).

import { type Tensor, backend } from "../tensor/index.js";

/** Global L2 norm of the parameters' gradients (parameters without one count as zero), in float64. */
export function gradNorm(params: readonly Tensor[]): number {
  const bk = backend();
  let sum = 0;
  for (const p of params) if (p.grad) sum += bk.sumSquares(p.grad.contiguousData());
  return Math.sqrt(sum);
}

/**
 * Clips in place and returns the norm before clipping. maxNorm ≤ 0 (or Infinity) only measures. A
 * non-finite norm is returned as is and nothing is scaled (the caller stops the run).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): { norm: number; clipped: boolean } {
  const norm = gradNorm(params);
  if (!(maxNorm > 0) || !Number.isFinite(norm) || norm <= maxNorm) return { norm, clipped: false };
  const scale = Math.fround(maxNorm / (norm + 1e-6));
  const bk = backend();
  for (const p of params) if (p.grad) bk.scale(p.grad.contiguousData(), scale); // a leaf's .grad is contiguous (tensor.ts): this is its storage
  return { norm, clipped: true };
}
