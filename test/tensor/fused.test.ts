// Fused ops against direct formulas and against their compositions of primitive ops (values and
// gradients), and the KV cache: incremental decoding equals attention over the whole sequence.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import {
  KVCache, Rng, Tensor, add, attention, broadcastTo, crossEntropy, div, exp, full, log, logSoftmax, matmul, mean, mul, noGrad, permute, reshape,
  rmsNorm, rope, rsqrt, slice, softmax, square, sum, takeAlong, tensor, transpose, withBackend,
} from "../../src/tensor/index.js";
import { assertClose, availableBackends, randomTensor } from "./helpers.js";

const rng = new Rng(5);

/** Runs f on fresh copies of the inputs (as leaves), returns the output and each input's gradient for upstream weights w. */
function valueAndGrads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], w: Float32Array): { y: Float32Array; grads: Float32Array[] } {
  const xs = inputs.map((x) => tensor(Float32Array.from(x.contiguousData()), x.shape, { requiresGrad: true }));
  const y = f(...xs);
  y.backward(w);
  return { y: Float32Array.from(y.contiguousData()), grads: xs.map((x) => x.grad!.contiguousData()) };
}

function compareWithComposite(fused: (...xs: Tensor[]) => Tensor, composite: (...xs: Tensor[]) => Tensor, inputs: Tensor[], tol = 1e-5): void {
  const outSize = noGrad(() => fused(...inputs)).size;
  const w = rng.fillNormal(new Float32Array(outSize));
  const a = valueAndGrads(fused, inputs, w);
  const b = valueAndGrads(composite, inputs, w);
  assertClose(a.y, b.y, tol, tol, "values");
  a.grads.forEach((g, i) => assertClose(g, b.grads[i]!, tol, tol, `gradient of input ${i}`));
}

/** Attention written with primitive ops: repeat kv heads, QKᵀ·scale + mask, softmax, ·V. */
function compositeAttention(q: Tensor, k: Tensor, v: Tensor, causal = true): Tensor {
  const [B, T, Hq, D] = q.shape as [number, number, number, number];
  const [, S, Hkv] = k.shape as [number, number, number];
  const G = Hq / Hkv;
  const heads = (x: Tensor): Tensor => reshape(broadcastTo(reshape(permute(x, [0, 2, 1, 3]), [B, Hkv, 1, S, D]), [B, Hkv, G, S, D]), [B, Hq, S, D]);
  const qh = permute(q, [0, 2, 1, 3]);
  const mask = new Float32Array(T * S);
  if (causal) for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) if (j > S - T + i) mask[i * S + j] = -Infinity;
  const scores = add(mul(matmul(qh, transpose(heads(k))), 1 / Math.sqrt(D)), tensor(mask, [T, S]));
  return permute(matmul(softmax(scores), heads(v)), [0, 2, 1, 3]);
}

describe("RoPE", () => {
  it("rotates adjacent pairs by pos·base^(−2i/d) (direct formula, float64)", () => {
    const [B, T, H, D] = [2, 5, 3, 8];
    const x = randomTensor([B, T, H, D], rng);
    const start = 7;
    const base = 500;
    const y = rope(x, { startPos: start, base }).contiguousData();
    const xd = x.contiguousData();
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++)
          for (let i = 0; i < D / 2; i++) {
            const o = ((b * T + t) * H + h) * D + 2 * i;
            const theta = (start + t) * Math.pow(base, (-2 * i) / D);
            const e0 = xd[o]! * Math.cos(theta) - xd[o + 1]! * Math.sin(theta);
            const e1 = xd[o]! * Math.sin(theta) + xd[o + 1]! * Math.cos(theta);
            assert.ok(Math.abs(y[o]! - e0) < 1e-5 && Math.abs(y[o + 1]! - e1) < 1e-5, `b${b} t${t} h${h} i${i}`);
          }
  });

  it("position 0 is the identity; explicit positions equal startPos", () => {
    const x = randomTensor([1, 1, 2, 4], rng);
    assertClose(rope(x).contiguousData(), x.contiguousData(), 0, 0);
    const y = randomTensor([1, 3, 1, 6], rng);
    assertClose(rope(y, { positions: Int32Array.of(4, 5, 6) }).contiguousData(), rope(y, { startPos: 4 }).contiguousData(), 0, 0);
  });

  it("preserves norms and relative positions: <rope(q, m), rope(k, n)> depends on m − n only", () => {
    const q = randomTensor([1, 1, 1, 8], rng);
    const k = randomTensor([1, 1, 1, 8], rng);
    const dot = (m: number, n: number): number => sum(mul(rope(q, { startPos: m }), rope(k, { startPos: n }))).item();
    assert.ok(Math.abs(dot(3, 1) - dot(10, 8)) < 1e-4);
    const norm = (t: Tensor): number => Math.sqrt(sum(square(t)).item());
    assert.ok(Math.abs(norm(rope(q, { startPos: 37 })) - norm(q)) < 1e-5);
  });
});

describe("fused ops equal their composites", () => {
  it("softmax = exp(x − max) / Σ", () => {
    compareWithComposite((x) => softmax(x), (x) => div(exp(x), sum(exp(x), -1, true)), [randomTensor([3, 7], rng)]);
  });

  it("logSoftmax = x − log Σ exp(x), stable for large logits", () => {
    compareWithComposite((x) => logSoftmax(x), (x) => add(x, mul(log(sum(exp(x), -1, true)), -1)), [randomTensor([4, 5], rng)]);
    const big = logSoftmax(tensor([1000, 1001, 999], [1, 3])).toArray();
    assert.ok(big.every(Number.isFinite));
    assert.ok(Math.abs(big[1]! - -Math.log(1 + Math.exp(-1) + Math.exp(-2))) < 1e-5);
  });

  it("rmsNorm = x · rsqrt(mean(x²) + eps) · w", () => {
    const eps = 1e-5;
    compareWithComposite(
      (x, w) => rmsNorm(x, w, eps),
      (x, w) => mul(mul(x, rsqrt(add(mean(square(x), -1, true), eps))), w),
      [randomTensor([2, 3, 16], rng), randomTensor([16], rng)],
    );
  });

  it("crossEntropy = −mean of log-softmax at the targets, skipping the ignore index", () => {
    const x = randomTensor([4, 6], rng);
    const t = [3, -100, 0, 5];
    compareWithComposite(
      (l) => crossEntropy(l, t),
      (l) => mul(sum(takeAlong(slice(logSoftmax(l), 0, 0, 1), [3], 1)).add(sum(takeAlong(slice(logSoftmax(l), 0, 2, 4), [0, 5], 1))), -1 / 3),
      [x],
    );
  });

  for (const backend of availableBackends()) {
    it(`attention (GQA, causal, more keys than queries) = composite (${backend})`, () =>
      withBackend(backend, () => {
        compareWithComposite((q, k, v) => attention(q, k, v), (q, k, v) => compositeAttention(q, k, v), [
          randomTensor([2, 5, 6, 4], rng), randomTensor([2, 5, 2, 4], rng), randomTensor([2, 5, 2, 4], rng),
        ]);
        compareWithComposite((q, k, v) => attention(q, k, v), (q, k, v) => compositeAttention(q, k, v), [
          randomTensor([1, 3, 4, 8], rng), randomTensor([1, 7, 1, 8], rng), randomTensor([1, 7, 1, 8], rng),
        ]);
        compareWithComposite((q, k, v) => attention(q, k, v, { causal: false }), (q, k, v) => compositeAttention(q, k, v, false), [
          randomTensor([2, 4, 2, 3], rng), randomTensor([2, 6, 2, 3], rng), randomTensor([2, 6, 2, 3], rng),
        ]);
      }));
  }
});

describe("KV cache", () => {
  for (const backend of availableBackends()) {
    it(`incremental decoding equals full causal attention (${backend})`, () =>
      withBackend(backend, () => {
        const [B, T, Hq, Hkv, D] = [2, 9, 4, 2, 8];
        const q = randomTensor([B, T, Hq, D], rng);
        const k = randomTensor([B, T, Hkv, D], rng);
        const v = randomTensor([B, T, Hkv, D], rng);
        const full = attention(q, k, v).contiguousData();
        const cache = new KVCache(B, 16, Hkv, D);
        // a prompt of 4 positions, then one position at a time, then a chunk of 2
        const steps = [[0, 4], [4, 5], [5, 6], [6, 7], [7, 9]] as const;
        noGrad(() => {
          for (const [s, e] of steps) {
            const out = attention(slice(q, 1, s, e), slice(k, 1, s, e), slice(v, 1, s, e), { cache }).contiguousData();
            const want = slice(tensor(full, [B, T, Hq, D]), 1, s, e).contiguousData();
            assertClose(out, want, 1e-5, 1e-5, `positions ${s}..${e}`);
          }
        });
        assert.equal(cache.length, T);
      }));
  }

  it("refuses to overflow, to carry gradients, and rewinds with truncate", () => {
    const cache = new KVCache(1, 3, 1, 2);
    const kv = (t: number): Tensor => full([1, t, 1, 2], 1);
    noGrad(() => attention(kv(2), kv(2), kv(2), { cache }));
    assert.throws(() => noGrad(() => attention(kv(2), kv(2), kv(2), { cache })), (e: unknown) => e instanceof StrataError && e.code === "CONTEXT_OVERFLOW");
    cache.truncate(1);
    assert.equal(cache.length, 1);
    const leaf = full([1, 1, 1, 2], 1, { requiresGrad: true });
    assert.throws(() => attention(leaf, leaf, leaf, { cache }), (e: unknown) => e instanceof StrataError && e.code === "USAGE");
  });
});
