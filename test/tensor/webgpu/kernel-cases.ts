// Every WebGPU kernel against the engine's CPU code (src/tensor kernels and ops, src/train's AdamW
// and clipping), written once over a `Harness` so the same cases run in the WGSL interpreter (small
// shapes, small workgroups) and on a real adapter (default tiles). Shapes include sizes that are not
// multiples of any tile and sizes of 1. Random data comes from the project's seeded Rng.
//
// Tolerances: the CPU references accumulate row statistics and dot products in float64 (or f32 in
// a different order); the kernels accumulate in f32 with tree or tiled orders. For sums of k terms
// of size O(1) the f32 error grows like k·2⁻²⁴ ≈ k·6e-8 in the worst case, so products with k ≤ 64
// use 1e-4 absolute + 1e-4 relative, row ops 2e-5, and exactly reproduced orders (embedding
// gradient, gather, elementwise) are compared exactly or at 1e-6.
import assert from "node:assert/strict";
import { Rng } from "../../../src/core/random.js";
import { referenceGemm } from "../../../src/tensor/kernels/gemm.js";
import { attentionBackward as cpuAttentionBackward, attentionForward as cpuAttentionForward } from "../../../src/tensor/kernels/attention.js";
import { crossEntropyRows, crossEntropyRowsBackward, rmsNormRows, rmsNormRowsBackward, rope as cpuRope, swiglu as cpuSwiglu, swigluBackward as cpuSwigluBackward } from "../../../src/tensor/kernels/rows.js";
import { embedding } from "../../../src/tensor/ops.js";
import { Tensor } from "../../../src/tensor/tensor.js";
import { AdamW } from "../../../src/train/optimizer.js";
import { clipGradNorm as cpuClip } from "../../../src/train/clip.js";
import type { Runner } from "../../../src/tensor/webgpu/kernel-call.js";
import { type MatmulTile, matmulCall } from "../../../src/tensor/webgpu/kernels/matmul.js";
import { accumulate, add, fill, scale } from "../../../src/tensor/webgpu/kernels/elementwise.js";
import { copy } from "../../../src/tensor/webgpu/kernels/copy.js";
import { swigluBackward, swigluForward } from "../../../src/tensor/webgpu/kernels/swiglu.js";
import { rope, ropeTables } from "../../../src/tensor/webgpu/kernels/rope.js";
import { rmsNormBackward, rmsNormForward } from "../../../src/tensor/webgpu/kernels/rmsnorm.js";
import { embeddingBackward, embeddingForward, embeddingGradIndex } from "../../../src/tensor/webgpu/kernels/embedding.js";
import { countTargets, crossEntropyBackward, crossEntropyForward } from "../../../src/tensor/webgpu/kernels/cross-entropy.js";
import { adamwUpdate } from "../../../src/tensor/webgpu/kernels/adamw.js";
import { clipGradNorm, sumAll } from "../../../src/tensor/webgpu/kernels/reduce.js";
import { attentionForward } from "../../../src/tensor/webgpu/kernels/attention.js";
import { attentionBackward } from "../../../src/tensor/webgpu/kernels/attention-backward.js";
import { type AttentionTiles, packedLayout } from "../../../src/tensor/webgpu/kernels/attention-common.js";

export interface Harness<B> {
  r: Runner<B>;
  put(values: Float32Array | Int32Array): B;
  get(buffer: B, elements: number): Promise<Float32Array>;
  /** Interpreter: small workgroups and tiles; device: the defaults. */
  small: boolean;
  /** Largest |error| seen per case, for the report. */
  record(name: string, maxErr: number): void;
}

export function maxAbsErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length >= want.length, true, `got ${got.length} values, want ${want.length}`);
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d;
  }
  return e;
}

export function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol = 0): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const d = Math.abs(got[i]! - w);
    if (!(d <= atol + rtol * Math.abs(w))) assert.fail(`${name}: element ${i} is ${got[i]}, want ${w} (|err| ${d} > ${atol} + ${rtol}·|want|)`);
    worst = Math.max(worst, d);
  }
  return worst;
}

const normal = (rng: Rng, n: number, std = 1): Float32Array => rng.fillNormal(new Float32Array(n), 0, std);

export const SMALL_TILE: MatmulTile = { BM: 16, BN: 16, BK: 4, TM: 4, TN: 4 };
const SMALL_ATTN: AttentionTiles = { BR: 8, BC: 4 };

type Case = <B>(h: Harness<B>, rng: Rng) => Promise<void>;

export const cases: Record<string, Case> = {
  async matmul(h, rng) {
    const shapes: [number, number, number, boolean, boolean][] = h.small
      ? [[1, 1, 1, false, false], [5, 7, 9, false, true], [17, 16, 3, true, false], [16, 20, 8, true, true], [3, 33, 5, false, false]]
      : [[1, 1, 1, false, false], [130, 67, 33, false, true], [257, 129, 64, true, false], [64, 256, 100, true, true], [300, 200, 77, false, false], [256, 256, 256, true, false]];
    for (const [M, N, K, ta, tb] of shapes) {
      for (const batch of h.small ? [1] : [1, 3]) {
        const a = normal(rng, batch * M * K);
        const b = normal(rng, batch * K * N);
        const c0 = normal(rng, batch * M * N);
        const alpha = 0.5;
        const beta = M % 2 === 0 ? 1 : 0;
        const want = Float32Array.from(c0);
        for (let z = 0; z < batch; z++) referenceGemm(ta, tb, M, N, K, alpha, a, z * M * K, ta ? M : K, b, z * K * N, tb ? K : N, beta, want, z * M * N, N);
        const C = h.put(c0);
        h.r.run(matmulCall(h.put(a), h.put(b), C, { transA: ta, transB: tb, M, N, K, alpha, beta, batch }, h.small ? SMALL_TILE : undefined));
        h.record("matmul", assertClose(`matmul ${M}x${N}x${K} ${ta ? "T" : "N"}${tb ? "T" : "N"} batch ${batch}`, await h.get(C, want.length), want, 1e-4, 1e-4));
      }
    }
    if (h.small) {
      // The production tile (128×128, 8×8 per thread) once, on one workgroup with edges.
      const [M, N, K] = [33, 20, 12];
      const a = normal(rng, M * K);
      const b = normal(rng, N * K);
      const want = new Float32Array(M * N);
      referenceGemm(false, true, M, N, K, 1, a, 0, K, b, 0, K, 0, want, 0, N);
      const C = h.r.alloc(M * N);
      h.r.run(matmulCall(h.put(a), h.put(b), C, { transA: false, transB: true, M, N, K }));
      h.record("matmul", assertClose("matmul 128x128 tile", await h.get(C, want.length), want, 1e-4, 1e-4));
    }
  },

  async elementwise(h, rng) {
    for (const n of [1, 7, 300]) {
      const a = normal(rng, n);
      const b = normal(rng, n);
      const A = h.put(a);
      const sum = await h.get(add(h.r, A, h.put(b), n), n);
      h.record("elementwise", assertClose("add", sum, a.map((x, i) => Math.fround(x + b[i]!)), 0));
      const sc = await h.get(scale(h.r, A, n, 0.25), n);
      h.record("elementwise", assertClose("scale", sc, a.map((x) => x * 0.25), 0));
      accumulate(h.r, A, h.put(b), n, 2);
      h.record("elementwise", assertClose("accumulate", await h.get(A, n), a.map((x, i) => Math.fround(x + Math.fround(2 * b[i]!))), 1e-6));
      const F = h.r.alloc(n);
      fill(h.r, F, n, 3);
      assertClose("fill", await h.get(F, n), new Float32Array(n).fill(3), 0);
    }
  },

  async copy(h, rng) {
    for (const [n, srcOff, dstOff] of [[1, 0, 0], [7, 3, 5], [300, 11, 0]] as const) {
      const src = normal(rng, n + srcOff);
      const dst0 = normal(rng, n + dstOff + 2);
      const want = Float32Array.from(dst0);
      want.set(src.subarray(srcOff, srcOff + n), dstOff);
      const got = await h.get(copy(h.r, h.put(src), srcOff, h.put(dst0), dstOff, n), want.length);
      h.record("copy", assertClose(`copy ${n} from ${srcOff} to ${dstOff}`, got, want, 0));
    }
  },

  async swiglu(h, rng) {
    for (const n of [1, 5, 333]) {
      const a = normal(rng, n, 3);
      const b = normal(rng, n);
      const g = normal(rng, n);
      const A = h.put(a);
      const B = h.put(b);
      h.record("swiglu", assertClose("swiglu", await h.get(swigluForward(h.r, A, B, n), n), cpuSwiglu(a, b), 1e-5, 1e-5));
      const { da, db } = swigluBackward(h.r, h.put(g), A, B, n);
      const want = cpuSwigluBackward(g, a, b, true, true);
      h.record("swiglu", assertClose("swiglu da", await h.get(da, n), want.da!, 1e-5, 1e-5));
      h.record("swiglu", assertClose("swiglu db", await h.get(db, n), want.db!, 1e-5, 1e-5));
    }
  },

  async rope(h, rng) {
    for (const [B, T, H, D, start] of [[1, 1, 1, 2, 0], [2, 3, 2, 6, 5], [1, 5, 3, 8, 100]] as const) {
      const x = normal(rng, B * T * H * D);
      const positions = Int32Array.from({ length: T }, (_, t) => start + t);
      const { cos, sin } = ropeTables(D, 10000, positions);
      const args = [h.put(positions), h.put(cos), h.put(sin), { B, T, H, D }] as const;
      for (const dir of [1, -1] as const) {
        const got = await h.get(rope(h.r, h.put(x), ...args, dir), x.length);
        h.record("rope", assertClose(`rope ${dir}`, got, cpuRope(x, B, T, H, D, positions, 10000, dir), 1e-6, 1e-6));
      }
    }
  },

  async rmsNorm(h, rng) {
    const wg = h.small ? 8 : undefined;
    for (const [rows, n] of (h.small ? [[1, 1], [3, 7], [5, 20]] : [[1, 1], [37, 300], [300, 768]]) as [number, number][]) {
      const x = normal(rng, rows * n);
      const w = normal(rng, n);
      const g = normal(rng, rows * n);
      const want = rmsNormRows(x, w, rows, n, 1e-5);
      const X = h.put(x);
      const W = h.put(w);
      const { y, rstd } = rmsNormForward(h.r, X, W, rows, n, 1e-5, wg);
      h.record("rmsNorm", assertClose("rmsNorm y", await h.get(y, rows * n), want.y, 2e-5, 2e-5));
      h.record("rmsNorm", assertClose("rmsNorm rstd", await h.get(rstd, rows), want.rstd, 2e-5, 2e-5));
      const back = rmsNormRowsBackward(g, x, w, want.rstd, rows, n, true, true);
      const { dx, dw } = rmsNormBackward(h.r, h.put(g), X, W, rstd, rows, n, { wg, chunk: h.small ? 2 : 64 });
      h.record("rmsNorm", assertClose("rmsNorm dx", await h.get(dx, rows * n), back.dx!, 2e-5, 2e-5));
      h.record("rmsNorm", assertClose("rmsNorm dw", await h.get(dw, n), back.dw!, 1e-4, 1e-4));
    }
  },

  async embedding(h, rng) {
    for (const [V, D, N] of (h.small ? [[1, 1, 1], [7, 5, 9]] : [[1, 1, 1], [1000, 96, 777]]) as [number, number, number][]) {
      const w = normal(rng, V * D);
      const ids = Int32Array.from({ length: N }, () => rng.int(Math.max(1, Math.floor(V / 2)))); // half the rows never occur
      const g = normal(rng, N * D);
      const weight = new Tensor(w, [V, D]).requireGrad();
      const out = embedding(weight, ids);
      out.backward(g);
      const IDS = h.put(ids);
      h.record("embedding", assertClose("embedding", await h.get(embeddingForward(h.r, h.put(w), IDS, N, D), N * D), out.data, 0));
      const { start, order } = embeddingGradIndex(ids, V);
      const dw = embeddingBackward(h.r, h.put(g), h.put(start), h.put(order), V, D);
      h.record("embedding", assertClose("embedding grad", await h.get(dw, V * D), weight.grad!.data, 0));
    }
  },

  async crossEntropy(h, rng) {
    const wg = h.small ? 8 : undefined;
    for (const [rows, n] of (h.small ? [[1, 1], [4, 11]] : [[1, 1], [65, 1000], [300, 50257]]) as [number, number][]) {
      const x = normal(rng, rows * n, 2);
      const t = Int32Array.from({ length: rows }, (_, r) => (r % 3 === 2 ? -100 : rng.int(n)));
      const count = countTargets(t, -100);
      const want = crossEntropyRows(x, t, rows, n, -100);
      const X = h.put(x);
      const T = h.put(t);
      const { loss, lse } = crossEntropyForward(h.r, X, T, rows, n, -100, count, wg);
      h.record("crossEntropy", assertClose("crossEntropy loss", await h.get(loss, 1), [want.loss], 2e-5, 2e-5));
      const dx = crossEntropyBackward(h.r, 1, X, T, lse, rows, n, -100, count, wg);
      h.record("crossEntropy", assertClose("crossEntropy dx", await h.get(dx, rows * n), crossEntropyRowsBackward(1, x, t, want.lse, rows, n, -100, count), 1e-6, 1e-4));
    }
  },

  async adamw(h, rng) {
    const n = h.small ? 10 : 100_003;
    for (const decay of [true, false]) {
      const p0 = normal(rng, n);
      const param = new Tensor(Float32Array.from(p0), [n]);
      const opt = new AdamW([{ name: "w", tensor: param, decay }], { lr: 3e-3, weightDecay: 0.1 });
      const P = h.put(p0);
      const M = h.r.alloc(n);
      const Vb = h.r.alloc(n);
      fill(h.r, M, n, 0);
      fill(h.r, Vb, n, 0);
      for (let step = 1; step <= 3; step++) {
        const g = normal(rng, n);
        param.grad = new Tensor(g, [n]);
        opt.step();
        adamwUpdate(h.r, P, h.put(g), M, Vb, n, { step, lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decay });
      }
      h.record("adamw", assertClose(`adamw decay=${decay}`, await h.get(P, n), param.data, 2e-6, 2e-6));
    }
  },

  async gradNormClip(h, rng) {
    const wg = h.small ? 8 : undefined;
    const sizes = h.small ? [1, 9, 70] : [1, 1000, 300_001];
    for (const maxNorm of [0.5, 1e9, 0]) {
      const gs = sizes.map((n) => normal(rng, n));
      const params = gs.map((g) => {
        const t = new Tensor(new Float32Array(g.length), [g.length]);
        t.grad = new Tensor(Float32Array.from(g), [g.length]);
        return t;
      });
      const want = cpuClip(params, maxNorm);
      const bufs = gs.map((g) => [h.put(g), g.length] as const);
      const stats = await h.get(clipGradNorm(h.r, bufs, maxNorm, wg), 3);
      h.record("gradNormClip", assertClose("grad norm", [stats[0]!], [want.norm], 1e-5, 1e-5));
      assert.equal(stats[2] === 1, want.clipped, "clipped flag");
      for (let i = 0; i < gs.length; i++) h.record("gradNormClip", assertClose("clipped grad", await h.get(bufs[i]![0], gs[i]!.length), params[i]!.grad!.data, 1e-6, 1e-5));
    }
    const x = normal(rng, sizes[2]!);
    const total = await h.get(sumAll(h.r, h.put(x), x.length, { wg }), 1);
    h.record("gradNormClip", assertClose("sum", total, [x.reduce((a, b) => a + b, 0)], 1e-4, 1e-5));
  },

  async attention(h, rng) {
    const tiles = h.small ? SMALL_ATTN : undefined;
    const shapes: [number, number, number, number, number, number, boolean][] = h.small
      ? [[1, 1, 1, 1, 1, 2, true], [1, 5, 7, 2, 1, 4, true], [2, 3, 3, 2, 2, 2, false]]
      : [[1, 1, 1, 1, 1, 64, true], [2, 70, 70, 4, 2, 64, true], [1, 33, 100, 6, 3, 32, true], [1, 50, 50, 2, 2, 128, false]];
    for (const [B, T, S, Hq, Hkv, D, causal] of shapes) {
      const q = normal(rng, B * T * Hq * D);
      const k = normal(rng, B * S * Hkv * D);
      const v = normal(rng, B * S * Hkv * D);
      const dout = normal(rng, B * T * Hq * D);
      const dims = { B, T, S, Hq, Hkv, D, scale: 1 / Math.sqrt(D), causal };
      const view = (data: Float32Array, L: number, H: number) => ({ data, offset: 0, sB: L * H * D, sT: H * D, sH: D });
      const [qv, kv, vv] = [view(q, T, Hq), view(k, S, Hkv), view(v, S, Hkv)];
      const want = cpuAttentionForward(referenceGemm, qv, kv, vv, dims);
      const layouts = { q: packedLayout(T, Hq, D), k: packedLayout(S, Hkv, D), v: packedLayout(S, Hkv, D) };
      const [Q, K, V] = [h.put(q), h.put(k), h.put(v)];
      const { out, lse } = attentionForward(h.r, Q, K, V, layouts, dims, tiles);
      const name = `attention B${B} T${T} S${S} H${Hq}/${Hkv} D${D}${causal ? " causal" : ""}`;
      h.record("attention", assertClose(`${name} out`, await h.get(out, want.out.length), want.out, 2e-5, 1e-4));
      h.record("attention", assertClose(`${name} lse`, await h.get(lse, want.lse.length), want.lse, 2e-5, 1e-5));
      const back = cpuAttentionBackward(referenceGemm, dout, want.out, want.lse, qv, kv, vv, dims, { q: true, k: true, v: true });
      const g = attentionBackward(h.r, h.put(dout), out, lse, Q, K, V, layouts, dims, tiles);
      h.record("attention", assertClose(`${name} dq`, await h.get(g.dq, back.dq!.length), back.dq!, 1e-4, 1e-4));
      h.record("attention", assertClose(`${name} dk`, await h.get(g.dk, back.dk!.length), back.dk!, 1e-4, 1e-4));
      h.record("attention", assertClose(`${name} dv`, await h.get(g.dv, back.dv!.length), back.dv!, 1e-4, 1e-4));
    }
  },
};
