// The Fréchet distance between two sets of feature vectors, each summarised as a Gaussian (mean μ,
// covariance Σ) — FID (Heusel et al. 2017) when the features come from an image classifier:
//
//   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½),   Tr((Σ₁Σ₂)^½) = Σ √λ_i(Σ₁^½ Σ₂ Σ₁^½)
//
// The matrix square roots come from symmetric eigendecompositions (cyclic Jacobi, float64), which is
// exact enough for the feature widths used here (tens to a few hundred). Small negative eigenvalues
// from rounding are clipped to 0.

import { StrataError } from "../core/errors.js";

export interface Gaussian {
  mean: Float64Array;
  /** d × d, row-major. */
  cov: Float64Array;
  dim: number;
}

/** Mean and (unbiased) covariance of n vectors of width d stored row-major. */
export function gaussianOf(features: Float32Array | Float64Array, n: number, d: number): Gaussian {
  if (n < 2 || features.length !== n * d) throw new StrataError("USAGE", `Fréchet distance: need at least 2 vectors of width ${d}, got ${features.length} values for ${n}`, "pass more samples");
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + features[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = features[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] = cov[a * d + b]! + ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { mean, cov, dim: d };
}

/** Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric d × d matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(m: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i]!;
  return { values, vectors: v };
}

/** The Fréchet distance (squared, as FID reports it) between two Gaussians of the same width. */
export function frechetDistance(g1: Gaussian, g2: Gaussian): number {
  const d = g1.dim;
  if (g2.dim !== d) throw new StrataError("USAGE", `Fréchet distance: feature widths ${g1.dim} and ${g2.dim} differ`, "use features from the same layer for both sets");
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (g1.mean[i]! - g2.mean[i]!) ** 2;
  // S = Σ₁^½ = V diag(√λ) Vᵀ
  const e1 = symmetricEigen(g1.cov, d);
  const s = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += e1.vectors[i * d + k]! * Math.sqrt(Math.max(0, e1.values[k]!)) * e1.vectors[j * d + k]!;
      s[i * d + j] = acc;
    }
  }
  // M = S Σ₂ S (symmetric PSD), Tr(M^½) = Σ √λ(M)
  const tmp = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const sik = s[i * d + k]!;
    if (sik === 0) continue;
    for (let j = 0; j < d; j++) tmp[i * d + j] = tmp[i * d + j]! + sik * g2.cov[k * d + j]!;
  }
  const mm = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const t = tmp[i * d + k]!;
    if (t === 0) continue;
    for (let j = 0; j < d; j++) mm[i * d + j] = mm[i * d + j]! + t * s[k * d + j]!;
  }
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) {
    const avg = (mm[i * d + j]! + mm[j * d + i]!) / 2;
    mm[i * d + j] = avg;
    mm[j * d + i] = avg;
  }
  const em = symmetricEigen(mm, d);
  let trSqrt = 0;
  for (let i = 0; i < d; i++) trSqrt += Math.sqrt(Math.max(0, em.values[i]!));
  let tr = 0;
  for (let i = 0; i < d; i++) tr += g1.cov[i * d + i]! + g2.cov[i * d + i]!;
  return Math.max(0, meanTerm + tr - 2 * trSqrt);
}
