// AdamW, the learning-rate schedule and gradient clipping: a hand-computed example, agreement with
// torch.optim.AdamW (Debian's PyTorch through /usr/bin/python3; skipped with a message without it),
// the decay rule, the schedule's values and clip_grad_norm_'s behaviour.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Llama } from "../../src/nn/index.js";
import { Rng, type Tensor, tensor } from "../../src/tensor/index.js";
import { AdamW, clipGradNorm, defaultDecay, gradNorm, learningRate } from "../../src/train/index.js";
import { repoRoot, tempDir } from "../helpers/paths.js";

const PYTHON = "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8", timeout: 60_000 });
const noTorch = probe.status === 0 ? false : `PyTorch is not importable from ${PYTHON} (apt-get install -y python3-torch)`;

function param(values: number[]): Tensor {
  return tensor(values, [values.length]).requireGrad();
}
function setGrad(t: Tensor, values: number[]): void {
  t.grad = tensor(values, [values.length]);
}
function close(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

describe("AdamW", () => {
  it("matches a hand-computed example (decoupled decay on one parameter, none on the other)", () => {
    // A constant gradient makes the bias-corrected moments m̂ = g and v̂ = g², so each update is
    // lr · g / (|g| + ε) ≈ lr · sign(g), after the decay p ← p · (1 − lr · wd).
    const w = param([1, -2]);
    const b = param([3]);
    const opt = new AdamW([{ name: "w", tensor: w, decay: true }, { name: "b", tensor: b, decay: false }], { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    setGrad(w, [0.5, -1]);
    setGrad(b, [2]);
    opt.step();
    close(w.data, [1 * 0.99 - 0.1, -2 * 0.99 + 0.1], 1e-6, "w after step 1");
    close(b.data, [2.9], 1e-6, "b after step 1");
    // m = (1 − β1) g, v = (1 − β2) g²
    const st = opt.stateTensors();
    close(st["w.exp_avg"]!.data, [0.05, -0.1], 1e-7, "m");
    close(st["w.exp_avg_sq"]!.data, [0.00025, 0.001], 1e-9, "v");
    opt.step();
    close(w.data, [0.89 * 0.99 - 0.1, -1.88 * 0.99 + 0.1], 1e-6, "w after step 2");
    close(b.data, [2.8], 1e-6, "b after step 2");
    close(st["w.exp_avg"]!.data, [0.095, -0.19], 1e-7, "m after step 2");
    assert.equal(opt.stepCount, 2);
  });

  it("skips parameters without a gradient and takes the step's learning rate", () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new AdamW([{ name: "a", tensor: a, decay: true }, { name: "b", tensor: b, decay: true }], { lr: 0.5, weightDecay: 0.5 });
    setGrad(a, [1]);
    opt.step(0.01);
    close(a.data, [1 * (1 - 0.01 * 0.5) - 0.01], 1e-6, "a");
    assert.equal(b.data[0], 1, "b has no gradient: untouched, not even decayed");
  });

  it("round-trips its state (moments and step) through stateTensors/loadState", () => {
    const a = param([1, 2, 3]);
    const opt = new AdamW([{ name: "a", tensor: a, decay: true }]);
    setGrad(a, [0.1, 0.2, -0.3]);
    opt.step();
    const saved = Object.fromEntries(Object.entries(opt.stateTensors()).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
    const a2 = param([...a.data]);
    const opt2 = new AdamW([{ name: "a", tensor: a2, decay: true }]);
    opt2.loadState(saved, opt.stateMetadata());
    setGrad(a, [0.3, 0.1, 0.2]);
    setGrad(a2, [0.3, 0.1, 0.2]);
    opt.step();
    opt2.step();
    assert.deepEqual(a2.data, a.data);
    assert.throws(() => opt2.loadState({}, opt.stateMetadata()), (e: Error & { code?: string }) => e.code === "CHECKPOINT_INVALID" && /lacks a\.exp_avg/.test(e.message));
    assert.throws(() => opt2.loadState(saved, { type: "sgd" }), /not adamw/);
  });

  it("decays linear weights but not the embedding or the norms (tied output: not decayed either)", () => {
    const cfg = { vocab: 20, dim: 8, layers: 1, heads: 2, kvHeads: 2, ffnDim: 16, maxSeq: 8, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };
    const decayed = (tie: boolean): string[] => new Llama({ ...cfg, tieEmbeddings: tie }, { seed: 1 }).namedParameters().filter(([n, t]) => defaultDecay(n, t)).map(([n]) => n);
    const d = decayed(false);
    assert.ok(d.includes("layers.0.attention.wq.weight") && d.includes("layers.0.feed_forward.w2.weight") && d.includes("output.weight"));
    assert.ok(!d.includes("tok_embeddings.weight") && !d.some((n) => n.includes("norm")));
    assert.ok(!decayed(true).includes("tok_embeddings.weight"));
  });

  it("agrees with torch.optim.AdamW over several steps with a changing learning rate", { skip: noTorch }, () => {
    const rng = new Rng(5);
    const sizes = [7, 12, 5];
    const decay = [true, false, true];
    const params = sizes.map((n) => param(Array.from({ length: n }, () => rng.normal())));
    const init = params.map((p) => Float32Array.from(p.data));
    const steps = 6;
    const lrs = Array.from({ length: steps }, (_, s) => learningRate(s, { lr: 0.03, minLr: 0.003, warmupSteps: 2, decaySteps: steps }));
    const grads = Array.from({ length: steps }, () => sizes.map((n) => Array.from({ length: n }, () => rng.normal() * (rng.uniform() < 0.2 ? 1e-4 : 1))));
    const opt = new AdamW(params.map((t, i) => ({ name: `p${i}`, tensor: t, decay: decay[i]! })), { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    for (let s = 0; s < steps; s++) {
      params.forEach((p, i) => setGrad(p, grads[s]![i]!));
      opt.step(lrs[s]);
    }
    const dir = tempDir("strata-adamw-ref-");
    try {
      writeFileSync(join(dir, "config.json"), JSON.stringify({ lr: lrs, beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.1, steps, params: sizes.map((size, i) => ({ name: `p${i}`, size, decay: decay[i] })) }));
      const cat = (arrs: ArrayLike<number>[]): Float32Array => Float32Array.from(arrs.flatMap((a) => Array.from(a)));
      writeFileSync(join(dir, "params.bin"), new Uint8Array(cat(init).buffer));
      writeFileSync(join(dir, "grads.bin"), new Uint8Array(cat(grads.flat()).buffer));
      const res = spawnSync(PYTHON, [join(repoRoot(), "test", "train", "adamw_reference.py"), dir], { encoding: "utf8", timeout: 120_000 });
      assert.equal(res.status, 0, `the PyTorch reference failed: ${res.stderr}`);
      const buf = readFileSync(join(dir, "out.bin"));
      const torchOut = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const st = opt.stateTensors();
      const ours = cat([...params.map((p) => p.data), ...sizes.map((_, i) => st[`p${i}.exp_avg`]!.data), ...sizes.map((_, i) => st[`p${i}.exp_avg_sq`]!.data)]);
      assert.equal(ours.length, torchOut.length);
      for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i]! - torchOut[i]!) <= 1e-6 * Math.max(1, Math.abs(torchOut[i]!)), `value ${i}: ours ${ours[i]} torch ${torchOut[i]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("learning-rate schedule", () => {
  const s = { lr: 1e-3, minLr: 1e-4, warmupSteps: 100, decaySteps: 2000 };
  it("warms up linearly, decays by a cosine to the floor, then stays there", () => {
    assert.equal(learningRate(0, s), 1e-3 / 101);
    assert.equal(learningRate(49, s), (1e-3 * 50) / 101);
    assert.ok(Math.abs(learningRate(99, s) - 1e-3 * (100 / 101)) < 1e-15);
    assert.equal(learningRate(100, s), 1e-3); // cos(0) = 1: the peak
    assert.ok(Math.abs(learningRate(1050, s) - 5.5e-4) < 1e-12); // halfway: (lr + minLr) / 2
    assert.ok(Math.abs(learningRate(2000, s) - 1e-4) < 1e-15);
    assert.equal(learningRate(2001, s), 1e-4);
    assert.equal(learningRate(10_000, s), 1e-4);
    for (let t = 101; t < 2000; t++) assert.ok(learningRate(t, s) <= learningRate(t - 1, s), `not decreasing at ${t}`);
  });
  it("without warm-up starts at the peak; a horizon inside the warm-up goes straight to the floor", () => {
    assert.equal(learningRate(0, { ...s, warmupSteps: 0 }), 1e-3);
    assert.equal(learningRate(50, { ...s, warmupSteps: 10, decaySteps: 5 }), 1e-4);
  });
});

describe("gradient clipping", () => {
  it("scales all gradients together when the global norm exceeds the limit (torch's clip_grad_norm_)", () => {
    const a = param([0, 0]);
    const b = param([0]);
    setGrad(a, [3, 0]);
    setGrad(b, [4]);
    assert.equal(gradNorm([a, b]), 5);
    const r = clipGradNorm([a, b], 1);
    assert.deepEqual(r, { norm: 5, clipped: true });
    close(a.grad!.data, [3 / (5 + 1e-6), 0], 1e-7, "a");
    close(b.grad!.data, [4 / (5 + 1e-6)], 1e-7, "b");
    assert.ok(Math.abs(gradNorm([a, b]) - 1) < 1e-6);
  });
  it("leaves gradients alone under the limit, with maxNorm 0, and when the norm is not finite", () => {
    const a = param([0, 0]);
    setGrad(a, [0.3, 0.4]);
    for (const max of [1, 0]) {
      const r = clipGradNorm([a], max);
      assert.ok(!r.clipped && Math.abs(r.norm - 0.5) < 1e-7, `maxNorm ${max}: ${JSON.stringify(r)}`);
    }
    close(a.grad!.data, [0.3, 0.4], 1e-7, "a");
    setGrad(a, [Number.NaN, 1]);
    const r = clipGradNorm([a], 1);
    assert.ok(Number.isNaN(r.norm) && !r.clipped);
  });
});
