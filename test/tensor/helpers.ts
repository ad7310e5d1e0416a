// Test helpers for tensors: a finite-difference gradient check, closeness assertions, and the list
// of backends available on this machine.
import assert from "node:assert/strict";
import { type BackendName, Rng, Tensor, backendInfo, noGrad, randn } from "../../src/tensor/index.js";

export interface GradCheckOptions {
  /** Finite-difference step (inputs are O(1)). */
  h?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

/**
 * Checks the analytic gradient of every input of `f` against central finite differences.
 * The scalar checked is L = Σ_i w_i · f(x)_i with fixed random weights w, accumulated in float64 from
 * the float32 outputs; the analytic side is f(x).backward(w). Each input is perturbed element by
 * element in its own storage (inputs must be contiguous leaves).
 */
export function gradCheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const h = options.h ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const rtol = options.rtol ?? 1e-2;
  const rng = new Rng(options.seed ?? 99);
  for (const x of inputs) {
    assert.ok(x.isContiguous() && x.offset === 0 && x.node === null, "gradCheck inputs must be contiguous leaves");
    x.requireGrad(true);
    x.zeroGrad();
  }
  const out = f(...inputs);
  const w = rng.fillNormal(new Float32Array(out.size));
  out.backward(w);
  const loss = (): number =>
    noGrad(() => {
      const y = f(...inputs).contiguousData();
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
      return s;
    });
  inputs.forEach((x, xi) => {
    const analytic = x.grad?.contiguousData() ?? new Float32Array(x.size);
    for (let j = 0; j < x.size; j++) {
      const orig = x.data[j]!;
      x.data[j] = orig + h;
      const up = x.data[j]! - orig;
      const lp = loss();
      x.data[j] = orig - h;
      const down = orig - x.data[j]!;
      const lm = loss();
      x.data[j] = orig;
      const numeric = (lp - lm) / (up + down);
      const a = analytic[j]!;
      assert.ok(
        Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric),
        `input ${xi} ${JSON.stringify(x.shape)} element ${j}: analytic ${a}, numeric ${numeric}`,
      );
    }
  });
}

/** Elementwise |a − b| ≤ atol + rtol·|b|. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = "values"): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    const err = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(err <= worst) || Number.isNaN(a) !== Number.isNaN(b)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} differs: ${actual[at]} vs ${expected[at]} (atol ${atol}, rtol ${rtol})`);
}

/** Random leaf tensors. */
export function randomTensor(shape: number[], rng: Rng, scale = 1): Tensor {
  return randn(shape, rng, { std: scale });
}

/** Positive random values in [lo, hi). */
export function positiveTensor(shape: number[], rng: Rng, lo = 0.5, hi = 2): Tensor {
  const t = randn(shape, rng);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * rng.uniform();
  return t;
}

/** The backends to run backend-sensitive checks on: always the reference, plus OpenBLAS when built. */
export function availableBackends(): BackendName[] {
  return backendInfo().nativeAvailable ? ["reference", "openblas"] : ["reference"];
}
