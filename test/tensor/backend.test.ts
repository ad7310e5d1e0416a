// The OpenBLAS fast path against the plain-TS reference on random shapes: every transpose
// combination, sizes 1 and non-multiples of any block size, offsets and padded leading dims,
// alpha/beta, batches; then whole ops (matmul, attention) on both backends. Skipped with a message
// when the addon is not built.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Backend, Rng, attention, backend, backendInfo, matmul, referenceBackend, referenceGemm, setBackend, transpose, withBackend } from "../../src/tensor/index.js";
import { assertClose, randomTensor } from "./helpers.js";

const info = backendInfo();
const skip = info.nativeAvailable ? false : `the OpenBLAS addon is not available: ${info.nativeError ?? "?"}`;
const rng = new Rng(123);

function randArray(n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n));
}

describe("OpenBLAS GEMM vs the reference", { skip }, () => {
  const native = (): ReturnType<typeof backend> => withBackend("openblas", () => backend());

  it("random shapes, all transposes, offsets, padded leading dims, alpha and beta", () => {
    const sizes = [1, 2, 3, 7, 16, 33, 65, 130];
    for (let trial = 0; trial < 60; trial++) {
      const m = sizes[rng.int(sizes.length)]!;
      const n = sizes[rng.int(sizes.length)]!;
      const k = sizes[rng.int(sizes.length)]!;
      const ta = rng.int(2) === 1;
      const tb = rng.int(2) === 1;
      const [ar, ac] = ta ? [k, m] : [m, k];
      const [br, bc] = tb ? [n, k] : [k, n];
      const lda = ac + rng.int(3);
      const ldb = bc + rng.int(3);
      const ldc = n + rng.int(3);
      const aOff = rng.int(5);
      const bOff = rng.int(5);
      const cOff = rng.int(5);
      const a = randArray(aOff + ar * lda);
      const b = randArray(bOff + br * ldb);
      const c0 = randArray(cOff + m * ldc);
      const alpha = [1, 0.5, -2][rng.int(3)]!;
      const beta = [0, 1, 0.25][rng.int(3)]!;
      const want = Float32Array.from(c0);
      const got = Float32Array.from(c0);
      referenceGemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
      native().gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc);
      // float32 sums of k terms in different orders: error grows like sqrt(k)·eps·|terms|
      assertClose(got, want, 2e-5 * Math.sqrt(k) * Math.abs(alpha) + 1e-6, 1e-5, `${m}×${n}×${k} ta=${ta} tb=${tb}`);
    }
  });

  it("one-row products (sent to sgemv) equal the reference for every transpose, offset, leading dim and beta", () => {
    for (const [n, k] of [[1, 1], [7, 33], [130, 65], [1000, 96]] as const) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          for (const beta of [0, 1, 0.25]) {
            const lda = (ta ? 1 : k) + 2;
            const ldb = (tb ? k : n) + 1;
            const a = randArray(3 + (ta ? k : 1) * lda);
            const b = randArray(2 + (tb ? n : k) * ldb);
            const c0 = randArray(1 + n);
            const want = Float32Array.from(c0);
            const got = Float32Array.from(c0);
            referenceGemm(ta, tb, 1, n, k, 0.5, a, 3, lda, b, 2, ldb, beta, want, 1, n);
            native().gemm(ta, tb, 1, n, k, 0.5, a, 3, lda, b, 2, ldb, beta, got, 1, n);
            assertClose(got, want, 2e-5 * Math.sqrt(k) + 1e-6, 1e-5, `1×${n}×${k} ta=${ta} tb=${tb} beta=${beta}`);
            assert.equal(got[0], c0[0], "the element before C is untouched");
          }
        }
      }
    }
  });

  it("batches accumulate into repeated output offsets with beta = 1", () => {
    const [m, n, k] = [5, 3, 4];
    const a = randArray(3 * m * k);
    const b = randArray(k * n);
    const offs = (xs: number[]): Float64Array => Float64Array.from(xs);
    const want = new Float32Array(2 * m * n);
    const got = new Float32Array(2 * m * n);
    const args = [false, false, m, n, k, 1, a, offs([0, m * k, 2 * m * k]), k, b, offs([0, 0, 0]), n, 1] as const;
    referenceBackend.gemmBatch(...args, want, offs([0, m * n, 0]), n);
    native().gemmBatch(...args, got, offs([0, m * n, 0]), n);
    assertClose(got, want, 1e-5, 1e-5);
  });

  it("k = 0 scales C by beta; empty products do nothing", () => {
    const c = Float32Array.of(1, 2, 3, 4);
    native().gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, 1, new Float32Array(0), 0, 2, 0.5, c, 0, 2);
    assert.deepEqual(Array.from(c), [0.5, 1, 1.5, 2]);
    native().gemm(false, false, 0, 2, 3, 1, new Float32Array(0), 0, 3, new Float32Array(6), 0, 2, 0, c, 0, 2);
    assert.deepEqual(Array.from(c), [0.5, 1, 1.5, 2]);
  });

  it("a matrix that does not fit its array is a RangeError, not a crash", () => {
    const a = new Float32Array(6);
    const c = new Float32Array(4);
    assert.throws(() => native().gemm(false, false, 2, 2, 3, 1, a, 0, 3, a, 0, 2, 0, c, 1, 2), RangeError);
    assert.throws(() => native().gemm(false, false, 2, 2, 3, 1, a, 1, 3, a, 0, 2, 0, c, 0, 2), RangeError);
    assert.throws(() => native().gemm(false, false, 2, 2, 3, 1, a, 0, 2, a, 0, 2, 0, c, 0, 2), RangeError); // lda < k
    assert.throws(() => native().gemmBatch(false, false, 2, 2, 3, 1, a, Float64Array.of(0, 1), 3, a, Float64Array.of(0, 0), 2, 0, c, Float64Array.of(0, 0), 2), RangeError);
  });
});

describe("ops on both backends", { skip }, () => {
  it("matmul: batched, broadcast, transposed, with gradients", () => {
    const cases: [number[], number[], boolean][] = [
      [[1, 1], [1, 1], false],
      [[37, 65], [65, 129], false],
      [[3, 17, 33], [33, 9], false],
      [[2, 1, 7, 5], [4, 5, 11], false],
      [[2, 9, 12], [7, 12], true], // x @ wᵀ, folded
      [[3, 4, 6], [3, 5, 6], true],
    ];
    for (const [sa, sb, tb] of cases) {
      const a = randomTensor(sa, rng);
      const b = randomTensor(sb, rng);
      const w = randArray(1 << 16);
      const run = (name: "reference" | "openblas"): Float32Array[] =>
        withBackend(name, () => {
          const x = a.detach().requireGrad();
          const y = b.detach().requireGrad();
          const out = matmul(x, tb ? transpose(y) : y);
          out.backward(w.subarray(0, out.size));
          return [Float32Array.from(out.contiguousData()), x.grad!.contiguousData(), y.grad!.contiguousData()];
        });
      const ref = run("reference");
      const fast = run("openblas");
      ref.forEach((r, i) => assertClose(fast[i]!, r, 1e-4, 1e-4, `${JSON.stringify(sa)}@${JSON.stringify(sb)} output ${i}`));
    }
  });

  it("attention with gradients", () => {
    const q = randomTensor([2, 13, 4, 16], rng);
    const k = randomTensor([2, 13, 2, 16], rng);
    const v = randomTensor([2, 13, 2, 16], rng);
    const w = randArray(q.size);
    const run = (name: "reference" | "openblas"): Float32Array[] =>
      withBackend(name, () => {
        const xs = [q, k, v].map((t) => t.detach().requireGrad());
        const out = attention(xs[0]!, xs[1]!, xs[2]!);
        out.backward(w);
        return [Float32Array.from(out.contiguousData()), ...xs.map((x) => x.grad!.contiguousData())];
      });
    const ref = run("reference");
    const fast = run("openblas");
    ref.forEach((r, i) => assertClose(fast[i]!, r, 1e-5, 1e-4, `attention output ${i}`));
  });

  it("setBackend switches and reports", () => {
    assert.equal(setBackend("reference").name, "reference");
    assert.equal(setBackend("openblas").name, "openblas");
    assert.equal(setBackend("auto").name, "openblas");
    assert.ok((backendInfo().threads ?? 0) >= 1);
  });
});

describe("native row kernels vs the reference", { skip }, () => {
  const native = (): Backend => withBackend("openblas", () => backend());
  // small shapes run on one thread; the large ones (≥ 2·65536 elements) split across the pool
  const rowShapes: [number, number][] = [[1, 1], [3, 7], [5, 33], [97, 130], [600, 513], [2048, 128]];

  it("rmsNorm forward and backward", () => {
    for (const [rows, n] of rowShapes) {
      const x = randArray(rows * n);
      const w = randArray(n);
      const g = randArray(rows * n);
      const ref = referenceBackend.rmsNorm(x, w, rows, n, 1e-5);
      const got = native().rmsNorm(x, w, rows, n, 1e-5);
      assertClose(got.y, ref.y, 1e-5, 1e-5, `y ${rows}×${n}`);
      assertClose(got.rstd, ref.rstd, 1e-6, 1e-5, `rstd ${rows}×${n}`);
      const rb = referenceBackend.rmsNormBackward(g, x, w, ref.rstd, rows, n, true, true);
      const nb = native().rmsNormBackward(g, x, w, ref.rstd, rows, n, true, true);
      assertClose(nb.dx!, rb.dx!, 1e-5, 1e-4, `dx ${rows}×${n}`);
      assertClose(nb.dw!, rb.dw!, 1e-4 * Math.sqrt(rows), 1e-4, `dw ${rows}×${n}`);
      const only = native().rmsNormBackward(g, x, w, ref.rstd, rows, n, false, true);
      assert.equal(only.dx, null);
      assertClose(only.dw!, rb.dw!, 1e-4 * Math.sqrt(rows), 1e-4);
    }
  });

  it("swiglu forward and backward", () => {
    for (const [rows, n] of rowShapes) {
      const a = randArray(rows * n);
      const b = randArray(rows * n);
      const g = randArray(rows * n);
      assertClose(native().swiglu(a, b), referenceBackend.swiglu(a, b), 1e-6, 1e-5);
      const r = referenceBackend.swigluBackward(g, a, b, true, true);
      const f = native().swigluBackward(g, a, b, true, true);
      assertClose(f.da!, r.da!, 1e-6, 1e-5);
      assertClose(f.db!, r.db!, 1e-6, 1e-5);
    }
  });

  it("cross-entropy forward and backward, with ignored rows", () => {
    for (const [rows, n] of rowShapes) {
      const x = randArray(rows * n);
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * 3;
      const t = Int32Array.from({ length: rows }, () => (rng.int(5) === 0 ? -1 : rng.int(n)));
      const r = referenceBackend.crossEntropy(x, t, rows, n, -1);
      const f = native().crossEntropy(x, t, rows, n, -1);
      assert.equal(f.count, r.count);
      assert.ok(Math.abs(f.loss - r.loss) < 1e-5 * Math.max(1, Math.abs(r.loss)), `loss ${f.loss} vs ${r.loss}`);
      assertClose(native().crossEntropyBackward(0.7, x, t, r.lse, rows, n, -1, r.count), referenceBackend.crossEntropyBackward(0.7, x, t, r.lse, rows, n, -1, r.count), 1e-7, 1e-4);
    }
    assert.throws(() => native().crossEntropy(Float32Array.of(1, 2), Int32Array.of(2), 1, 2, -1), RangeError);
  });

  it("attention forward and backward: GQA, causal and not, more keys than queries, strided views, threads", () => {
    const cases: { B: number; T: number; S: number; Hq: number; Hkv: number; D: number; causal: boolean; pad: number }[] = [
      { B: 1, T: 1, S: 1, Hq: 1, Hkv: 1, D: 1, causal: true, pad: 0 },
      { B: 2, T: 5, S: 5, Hq: 4, Hkv: 2, D: 8, causal: true, pad: 0 },
      { B: 1, T: 3, S: 11, Hq: 6, Hkv: 1, D: 5, causal: true, pad: 3 },
      { B: 3, T: 7, S: 9, Hq: 2, Hkv: 2, D: 16, causal: false, pad: 1 },
      { B: 4, T: 64, S: 64, Hq: 4, Hkv: 4, D: 32, causal: true, pad: 0 },
    ];
    for (const c of cases) {
      // views with padded rows: [B, T, H, D] inside [B, T, H + pad, D] storage
      const view = (L: number, H: number): { data: Float32Array; offset: number; sB: number; sT: number; sH: number } => {
        const sH = c.D;
        const sT = (H + c.pad) * c.D;
        return { data: randArray(c.B * L * sT + c.pad), offset: c.pad, sB: L * sT, sT, sH };
      };
      const q = view(c.T, c.Hq);
      const k = view(c.S, c.Hkv);
      const v = view(c.S, c.Hkv);
      const dims = { B: c.B, T: c.T, S: c.S, Hq: c.Hq, Hkv: c.Hkv, D: c.D, scale: 1 / Math.sqrt(c.D), causal: c.causal };
      const r = referenceBackend.attention(q, k, v, dims);
      const f = native().attention(q, k, v, dims);
      const what = JSON.stringify(c);
      assertClose(f.out, r.out, 1e-5, 1e-4, `out ${what}`);
      assertClose(f.lse, r.lse, 1e-5, 1e-5, `lse ${what}`);
      const dout = randArray(r.out.length);
      const want = { q: true, k: true, v: true };
      const rb = referenceBackend.attentionBackward(dout, r.out, r.lse, q, k, v, dims, want);
      const fb = native().attentionBackward(dout, r.out, r.lse, q, k, v, dims, want);
      assertClose(fb.dq!, rb.dq!, 1e-5, 1e-4, `dq ${what}`);
      assertClose(fb.dk!, rb.dk!, 1e-5, 1e-4, `dk ${what}`);
      assertClose(fb.dv!, rb.dv!, 1e-5, 1e-4, `dv ${what}`);
    }
  });

  it("a view or an array that does not fit is a RangeError, not a crash", () => {
    const q = { data: new Float32Array(8), offset: 0, sB: 8, sT: 4, sH: 2 };
    const dims = { B: 1, T: 2, S: 2, Hq: 2, Hkv: 1, D: 2, scale: 1, causal: true };
    assert.throws(() => native().attention(q, { ...q, offset: 3 }, q, dims), RangeError); // 3 + 1·4 + 2 > 8
    assert.throws(() => native().attention(q, q, q, { ...dims, T: 3 }), RangeError);
    assert.throws(() => native().rmsNorm(new Float32Array(5), new Float32Array(3), 2, 3, 1e-5), RangeError);
    assert.throws(() => native().swiglu(new Float32Array(5), new Float32Array(4)), RangeError);
  });
});
