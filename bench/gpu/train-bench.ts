// GPU training throughput: tokens/s and model-FLOPs utilisation of the GPU llama step
// (src/nn/gpu: forward, backward; src/train/gpu: the step, clip, AdamW — one host wait per step) for a GPT-2-small-sized
// llama (≈124M parameters: width 768, 12 layers, 12 heads, vocab 50257 tied, block 1024) and the
// `small` preset, with the CPU engine on the same machine as the reference (a few steps, capped).
//
//   MFU = (6·N + 12·L·C·T) · tokens/s / 67 TFLOP/s   (N parameters, L layers, C width, T block:
//   the matmul FLOPs of forward + backward, plus attention's QKᵀ and PV in both; H100 f32 peak)
//
// Usage: node --import tsx bench/gpu/train-bench.ts [out.json] [--quick] [--budget <s per config>]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Rng } from "../../src/core/random.js";
import { Llama, type LlamaConfig, countParameters } from "../../src/nn/index.js";
import { backendInfo } from "../../src/tensor/index.js";
import { AdamW, PRESETS, clipGradNorm, defaultDecay } from "../../src/train/index.js";
import { GpuTrainer, openGpuContext } from "../../src/train/gpu/index.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { quick: { type: "boolean" }, budget: { type: "string", default: "60" } } });
const OUT = positionals[0] ?? "bench/out/gpu-train.json";
const BUDGET_MS = Number(values.budget) * 1000;
const PEAK = 67e12;

interface Case {
  name: string;
  config: LlamaConfig;
  batch: number;
  block: number;
  /** The CPU reference's micro-batch (the CPU engine at block 1024 would take minutes a step). */
  cpuBatch: number;
  cpuBlock: number;
}

const gpt2: LlamaConfig = { vocab: 50257, dim: 768, layers: 12, heads: 12, kvHeads: 12, ffnDim: 2048, maxSeq: 1024, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: true };
const small = PRESETS.small;
const CASES: Case[] = [
  { name: "gpt2-small-llama", config: gpt2, batch: values.quick ? 1 : 8, block: values.quick ? 256 : 1024, cpuBatch: 1, cpuBlock: 128 },
  { name: "small-preset", config: { ...small.model, vocab: 1024 }, batch: small.train.batchSize ?? 16, block: small.train.blockSize ?? 128, cpuBatch: small.train.batchSize ?? 16, cpuBlock: small.train.blockSize ?? 128 },
];

const flopsPerToken = (c: LlamaConfig, T: number): number => 6 * countParameters(c) + 12 * c.layers * c.dim * T;

function batchOf(rng: Rng, vocab: number, B: number, T: number) {
  return { ids: Int32Array.from({ length: B * T }, () => rng.int(vocab)), targets: Int32Array.from({ length: B * T }, () => rng.int(vocab)), shape: [B, T] as [number, number] };
}

function optimizerFor(model: Llama): AdamW {
  return new AdamW(model.namedParameters().map(([name, tensor]) => ({ name, tensor, decay: defaultDecay(name, tensor) })), { lr: 3e-4, beta2: 0.95, weightDecay: 0.1 });
}

/** Steps until the budget is spent (after one warm-up step), at least `min`. */
async function timeSteps(step: () => Promise<number>, min: number, max: number): Promise<{ ms: number[]; losses: number[] }> {
  const ms: number[] = [];
  const losses: number[] = [];
  losses.push(await step()); // warm-up: pipelines compile, buffers are allocated
  const started = performance.now();
  while (ms.length < max && (ms.length < min || performance.now() - started < BUDGET_MS)) {
    const t0 = performance.now();
    losses.push(await step());
    ms.push(performance.now() - t0);
  }
  return { ms, losses };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;

const ctx = await openGpuContext(process.env);
const results = [];
console.log(`adapter: ${ctx.description}; CPU backend ${backendInfo().active}`);
for (const c of CASES) {
  const rng = new Rng(1);
  const model = new Llama(c.config, { seed: 1 });
  const entry: Record<string, unknown> = { name: c.name, config: c.config, parameters: countParameters(c.config) };
  try {
    const trainer = new GpuTrainer(ctx, model, optimizerFor(model), 1);
    const gpu = await timeSteps(async () => {
      const r = await trainer.accumulate([batchOf(rng, c.config.vocab, c.batch, c.block)]);
      trainer.update(3e-4);
      return r.losses[0]!;
    }, 3, values.quick ? 3 : 20);
    trainer.release();
    const tokensPerSecond = (c.batch * c.block * 1000) / median(gpu.ms);
    entry.gpu = { batch: c.batch, block: c.block, stepMs: gpu.ms.map((x) => Math.round(x)), tokensPerSecond: Math.round(tokensPerSecond), mfu: (flopsPerToken(c.config, c.block) * tokensPerSecond) / PEAK, losses: gpu.losses };
    console.log(`${c.name}: GPU ${Math.round(tokensPerSecond)} tokens/s, MFU ${((entry.gpu as { mfu: number }).mfu * 100).toFixed(1)}% (median of ${gpu.ms.length} steps of ${c.batch}×${c.block})`);
  } catch (e) {
    entry.gpuError = e instanceof Error ? e.message : String(e);
    console.log(`${c.name}: GPU failed: ${String(entry.gpuError)}`);
  }
  // The CPU engine, same code path as `strata train pretrain --device cpu`.
  const opt = optimizerFor(model);
  const cpu = await timeSteps(async () => {
    const b = batchOf(rng, c.config.vocab, c.cpuBatch, c.cpuBlock);
    const { loss } = model.loss(b.ids, b.targets, b.shape);
    loss.backward();
    clipGradNorm(opt.params.map((p) => p.tensor), 1);
    opt.step();
    opt.zeroGrad();
    return loss.item();
  }, 1, 5);
  const cpuRate = (c.cpuBatch * c.cpuBlock * 1000) / median(cpu.ms);
  entry.cpu = { backend: backendInfo().active, batch: c.cpuBatch, block: c.cpuBlock, stepMs: cpu.ms.map((x) => Math.round(x)), tokensPerSecond: Math.round(cpuRate) };
  console.log(`${c.name}: CPU ${Math.round(cpuRate)} tokens/s (${backendInfo().active}, ${c.cpuBatch}×${c.cpuBlock})`);
  results.push(entry);
  writeFileSync(OUT, JSON.stringify({ adapter: ctx.description, peakFlops: PEAK, results }, null, 2));
}
ctx.close();
