// The Fréchet distance (src/eval/frechet.ts) against closed forms: 0 for a set and itself, the squared
// mean shift for equal covariances, (σ₁ − σ₂)² per dimension for diagonal covariances; and the
// Jacobi eigensolver reconstructs its matrix.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/tensor/index.js";
import { frechetDistance, gaussianOf, symmetricEigen } from "../../src/eval/frechet.js";

const g = (mean: number[], diag: number[]) => {
  const d = mean.length;
  const cov = new Float64Array(d * d);
  diag.forEach((v, i) => (cov[i * d + i] = v));
  return { mean: Float64Array.from(mean), cov, dim: d };
};

describe("Fréchet distance", () => {
  it("matches the closed forms", () => {
    assert.ok(Math.abs(frechetDistance(g([0, 0], [1, 2]), g([3, 4], [1, 2])) - 25) < 1e-9);
    // Diagonal: Σ (σ₁ − σ₂)², with variances 4 and 1 → (2 − 1)² = 1, 9 and 9 → 0.
    assert.ok(Math.abs(frechetDistance(g([1, 1], [4, 9]), g([1, 1], [1, 9])) - 1) < 1e-9);
  });

  it("is 0 for a sample and itself, and grows with a shift of the sample", () => {
    const rng = new Rng(5);
    const n = 400;
    const d = 6;
    const a = rng.fillNormal(new Float32Array(n * d));
    // Correlated features: mix the columns.
    for (let i = 0; i < n; i++) a[i * d + 1] = a[i * d + 1]! + 0.8 * a[i * d]!;
    const ga = gaussianOf(a, n, d);
    assert.ok(frechetDistance(ga, ga) < 1e-6);
    const shifted = a.map((v, i) => (i % d === 0 ? v + 2 : v));
    const fd = frechetDistance(ga, gaussianOf(shifted, n, d));
    assert.ok(Math.abs(fd - 4) < 1e-3, `shift of 2 in one feature: ${fd}`);
  });

  it("the eigensolver reconstructs a symmetric matrix", () => {
    const m = Float64Array.from([4, 1, 2, 1, 3, 0.5, 2, 0.5, 5]);
    const { values, vectors } = symmetricEigen(m, 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let acc = 0;
      for (let k = 0; k < 3; k++) acc += vectors[i * 3 + k]! * values[k]! * vectors[j * 3 + k]!;
      assert.ok(Math.abs(acc - m[i * 3 + j]!) < 1e-9);
    }
  });
});
