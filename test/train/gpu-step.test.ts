// The GPU llama training step (src/train/gpu), run in the WGSL interpreter, against the CPU
// engine's autograd on the same seeded model: the loss and EVERY parameter's gradient, for an
// untied 2-layer model and a tied 1-layer one (grouped-query attention, 2 heads / 1 kv head), and
// with gradient accumulation over two micro-batches.
//
// Tolerance: f32 sums of at most a few dozen O(1) terms in different orders (tiled matmuls, tree
// reductions) against the CPU's order: |gpu − cpu| ≤ 1e-5 + 1e-3·max|cpu| per tensor; measured
// errors are reported with STRATA_GPU_REPORT=1.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/core/random.js";
import { Llama, type LlamaConfig } from "../../src/nn/index.js";
import { AdamW, defaultDecay } from "../../src/train/index.js";
import { GpuTrainer } from "../../src/train/gpu/index.js";
import { interpreterContext } from "../tensor/webgpu/interpreter-context.js";
import { GPU_TEST_MODEL, compare, randomBatch } from "./gpu-helpers.js";

function newOpt(model: Llama): AdamW {
  return new AdamW(model.namedParameters().map(([name, tensor]) => ({ name, tensor, decay: defaultDecay(name, tensor) })), { lr: 1e-3, weightDecay: 0.1 });
}

async function checkStep(config: LlamaConfig, micro: number): Promise<void> {
  const rng = new Rng(11);
  const batches = Array.from({ length: micro }, () => randomBatch(rng, config.vocab, 2, config.maxSeq));
  const cpu = new Llama(config, { seed: 5 });
  let cpuLoss = 0;
  for (const b of batches) {
    const { loss } = cpu.loss(b.ids, b.targets, b.shape);
    cpuLoss += loss.item();
    loss.backward(Float32Array.of(1 / micro));
  }
  const ctx = interpreterContext();
  const gpuModel = new Llama(config, { seed: 5 });
  const trainer = new GpuTrainer(ctx, gpuModel, newOpt(gpuModel), 0);
  const { losses, norm } = await trainer.accumulate(batches);
  assert.equal(ctx.runner.problems(), "", "the interpreter reported races or errors");
  const gpuLoss = losses.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(gpuLoss - cpuLoss) <= 1e-5 * micro, `loss ${gpuLoss} vs ${cpuLoss}`);
  const grads = await trainer.gradients();
  let sq = 0;
  const errs: Record<string, number> = {};
  for (const [name, t] of cpu.namedParameters()) {
    assert.ok(t.grad, `the CPU has a gradient for ${name}`);
    errs[name] = compare(`grad ${name}`, grads.get(name)!, t.grad.contiguousData());
    for (const g of t.grad.contiguousData()) sq += g * g;
  }
  assert.ok(Math.abs(norm - Math.sqrt(sq)) <= 1e-4 * Math.sqrt(sq), `grad norm ${norm} vs ${Math.sqrt(sq)}`);
  if (process.env.STRATA_GPU_REPORT) console.log(JSON.stringify({ config: { tied: config.tieEmbeddings, layers: config.layers, micro }, loss: [gpuLoss, cpuLoss], dispatches: ctx.runner.dispatches, errs }));
}

describe("the GPU training step (WGSL interpreter) against CPU autograd", () => {
  it("loss and every gradient: untied, 2 layers, GQA 2/1", () => checkStep(GPU_TEST_MODEL, 1));
  it("loss and every gradient: tied embeddings, 1 layer", () => checkStep({ ...GPU_TEST_MODEL, layers: 1, tieEmbeddings: true }, 1));
  it("gradient accumulation over two micro-batches", () => checkStep({ ...GPU_TEST_MODEL, layers: 1 }, 2));
});
