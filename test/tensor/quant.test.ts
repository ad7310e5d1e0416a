// Products with Q8_0/Q4_0 weights (src/tensor/kernels/quant.ts, native/quant.c): the native kernel
// (AVX2 where the CPU has it, and its portable C version) against the plain-TS reference; the
// reference against the float32 product of the dequantized weights; and `linear`'s use of a
// weight's quantized twin — only without a recorded gradient, dropped when the weight changes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { quantizeQ4_0, quantizeQ8_0 } from "../../src/formats/gguf/index.js";
import {
  Rng, Tensor, adamwReference, attachQuantized, quantizedKernel, scaleReference, sumSquaresReference, backendInfo, dequantizeRows, linear, noGrad, qmatmulReference, quantizedTwin, referenceGemm, setThreads, withBackend,
} from "../../src/tensor/index.js";
import { backend } from "../../src/tensor/backend.js";
import { isStrataError } from "../helpers/errors.js";

const info = backendInfo();
const skip = info.nativeAvailable ? false : `the OpenBLAS addon is not available: ${info.nativeError ?? "?"}`;
const rng = new Rng(7);
const TYPES = ["Q8_0", "Q4_0"] as const;

function randArray(n: number, scale = 1): Float32Array {
  const a = rng.fillNormal(new Float32Array(n));
  for (let i = 0; i < n; i++) a[i] = a[i]! * scale;
  return a;
}

function blocks(type: "Q8_0" | "Q4_0", w: Float32Array): Uint8Array {
  return type === "Q8_0" ? quantizeQ8_0(w) : quantizeQ4_0(w);
}

/** Bound on float32 reordering error: a few ulps of Σ|w|·|x| per output. */
function absBound(wf: Float32Array, x: Float32Array, outF: number, inF: number, rows: number): Float32Array {
  const b = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outF; o++) {
    let s = 0;
    for (let i = 0; i < inF; i++) s += Math.abs(wf[o * inF + i]! * x[r * inF + i]!);
    b[r * outF + o] = s;
  }
  return b;
}

describe("quantized products", () => {
  it("the reference equals the float32 product of the dequantized weights within the activation rounding", () => {
    for (const type of TYPES) {
      const [outF, inF, rows] = [13, 96, 3];
      const q = blocks(type, randArray(outF * inF));
      const wf = dequantizeRows(type, q, outF, inF);
      const x = randArray(rows * inF + 5);
      const got = qmatmulReference(type, q, outF, inF, x, 5, rows);
      const want = new Float32Array(rows * outF);
      referenceGemm(false, true, rows, outF, inF, 1, x, 5, inF, wf, 0, inF, 0, want, 0, outF);
      const bound = absBound(wf, x.subarray(5), outF, inF, rows);
      for (let i = 0; i < got.length; i++) {
        // each x value moves by at most half a step of amax/127: a relative 1/254 of the block's largest
        assert.ok(Math.abs(got[i]! - want[i]!) <= bound[i]! / 50 + 1e-5, `${type} [${i}]: ${got[i]} vs ${want[i]}`);
      }
      assert.notDeepEqual(got, new Float32Array(got.length), "not all zero");
    }
  });

  it("native (AVX2 where available, and portable C) equals the reference on awkward shapes", { skip }, () => {
    const native = withBackend("openblas", () => backend());
    assert.equal(native.name, "openblas");
    for (const type of TYPES) {
      for (const [outF, inF, rows] of [[1, 32, 1], [3, 64, 1], [17, 96, 2], [64, 320, 5], [5, 32, 7]] as const) {
        const q = blocks(type, randArray(outF * inF, 0.3));
        const x = randArray(rows * inF + 3);
        x[3] = 0; // a zero and a whole zero block exercise the scale-0 path
        x.fill(0, 3 + inF - 32 * (inF > 32 ? 1 : 0), 3 + inF);
        const want = qmatmulReference(type, q, outF, inF, x, 3, rows);
        const got = native.qmatmul(type, q, outF, inF, x, 3, rows);
        const bound = absBound(dequantizeRows(type, q, outF, inF), x.subarray(3), outF, inF, rows);
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6 * bound[i]! + 1e-7, `${type} ${outF}×${inF}×${rows} [${i}]: ${got[i]} vs ${want[i]}`);
      }
    }
  });

  it("the multi-threaded split and the portable C version agree with the reference", { skip }, () => {
    const native = withBackend("openblas", () => backend());
    const [outF, inF, rows] = [640, 1024, 2];
    for (const type of TYPES) {
      const q = blocks(type, randArray(outF * inF, 0.1));
      const x = randArray(rows * inF);
      const want = qmatmulReference(type, q, outF, inF, x, 0, rows);
      const bound = absBound(dequantizeRows(type, q, outF, inF), x, outF, inF, rows);
      const threads = backendInfo().threads ?? 1;
      setThreads(2);
      try {
        for (const forcePortable of [false, true]) {
          const isa = quantizedKernel(forcePortable);
          const got = native.qmatmul(type, q, outF, inF, x, 0, rows);
          for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6 * bound[i]! + 1e-7, `${type} ${isa} [${i}]: ${got[i]} vs ${want[i]}`);
        }
      } finally {
        quantizedKernel(false);
        setThreads(threads);
      }
    }
    assert.throws(() => native.qmatmul("Q8_0", new Uint8Array(33), 1, 32, new Float32Array(32), 0, 1), RangeError);
    assert.throws(() => native.qmatmul("Q8_0", new Uint8Array(34), 1, 32, new Float32Array(31), 0, 1), RangeError);
  });

  it("linear multiplies by the twin only when no gradient is recorded, and drops it when the weight changes", () => {
    const [outF, inF] = [8, 64];
    const q = quantizeQ8_0(randArray(outF * inF));
    const w = new Tensor(dequantizeRows("Q8_0", q, outF, inF), [outF, inF], undefined, 0, { requiresGrad: true });
    const x = new Tensor(randArray(2 * inF), [2, inF]);
    attachQuantized(w, { type: "Q8_0", bytes: q });
    const viaBlocks = noGrad(() => linear(x, w)).contiguousData();
    assert.deepEqual(viaBlocks, backend().qmatmul("Q8_0", q, outF, inF, x.data, 0, 2));
    const f32 = new Float32Array(2 * outF);
    backend().gemm(false, true, 2, outF, inF, 1, x.data, 0, inF, w.data, 0, inF, 0, f32, 0, outF);
    assert.notDeepEqual(viaBlocks, f32, "the twin path quantizes the activations");
    // a replaced weight (loadStateDict writes into the data) is noticed by the spot check
    const w2 = new Tensor(dequantizeRows("Q8_0", q, outF, inF), [outF, inF]);
    attachQuantized(w2, { type: "Q8_0", bytes: q });
    w2.data.set(randArray(outF * inF));
    assert.equal(quantizedTwin(w2), undefined);
    // training: the forward that records w's gradient drops the twin and uses float32
    const y = linear(x, w);
    assert.deepEqual(y.contiguousData(), f32);
    assert.equal(quantizedTwin(w), undefined);
  });

  it("attachQuantized refuses blocks that do not hold the weight's values", () => {
    const q = quantizeQ8_0(randArray(4 * 32));
    const w = new Tensor(randArray(4 * 32), [4, 32]);
    assert.throws(() => attachQuantized(w, { type: "Q8_0", bytes: q }), isStrataError("USAGE"));
    assert.throws(() => attachQuantized(new Tensor(new Float32Array(4 * 30), [4, 30]), { type: "Q8_0", bytes: q }), isStrataError("USAGE"));
  });
});


describe("the optimizer's fused loops", { skip }, () => {
  it("native AdamW equals the reference to the bit; sum of squares and scaling agree", () => {
    const native = withBackend("openblas", () => backend());
    const n = 200_003; // several pool parts and a ragged tail
    const p0 = randArray(n), g = randArray(n, 0.01), m0 = randArray(n, 0.001), v0 = Float32Array.from(randArray(n, 0.001), (x) => x * x);
    const h = { b1: 0.9, b2: 0.99, c1: 1 - 0.9, c2: 1 - 0.99, keep: Math.fround(1 - 1e-3 * 0.1), stepSize: 1e-3 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.99 ** 3), eps: 1e-8 };
    const [pa, ma, va] = [Float32Array.from(p0), Float32Array.from(m0), Float32Array.from(v0)];
    const [pb, mb, vb] = [Float32Array.from(p0), Float32Array.from(m0), Float32Array.from(v0)];
    const threads = backendInfo().threads ?? 1;
    setThreads(2);
    try {
      adamwReference(pa, g, ma, va, h);
      native.adamw(pb, g, mb, vb, h);
      assert.deepEqual(pb, pa);
      assert.deepEqual(mb, ma);
      assert.deepEqual(vb, va);
      assert.notDeepEqual(pa, p0, "the update changed something");
      const want = sumSquaresReference(g);
      assert.ok(Math.abs(native.sumSquares(g) - want) <= 1e-12 * want, "sum of squares");
      const [ga, gb] = [Float32Array.from(g), Float32Array.from(g)];
      scaleReference(ga, Math.fround(0.37));
      native.scale(gb, Math.fround(0.37));
      assert.deepEqual(gb, ga);
    } finally {
      setThreads(threads);
    }
    assert.throws(() => native.adamw(pb, g.subarray(1), mb, vb, h), RangeError);
  });
});
