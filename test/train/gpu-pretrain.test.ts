// `pretrain({ device: "gpu" })` with the WGSL interpreter as the GPU: a short run (AdamW, clipping,
// warm-up + cosine schedule) follows the CPU run's loss curve and ends with the same parameters;
// the checkpoint it writes is an ordinary one (readCheckpoint + the CPU model give the same loss);
// runs resume across devices (CPU → GPU and GPU → CPU) and match the uninterrupted CPU run.
//
// Tolerances: per-step gradients agree to ≈ 1e-7 (gpu-step.test.ts); after 4 AdamW steps the
// parameters agree within 2e-5 absolute, losses within 1e-4.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readCheckpoint } from "../../src/formats/checkpoint.js";
import { Llama } from "../../src/nn/index.js";
import { type ModelShape, type TrainEvent, type TrainSettings, pretrain } from "../../src/train/index.js";
import { tempDir } from "../helpers/paths.js";
import { InterpreterRunner } from "../tensor/webgpu/interpreter-runner.js";
import { interpreterOpener } from "../tensor/webgpu/interpreter-context.js";
import { writeText } from "./helpers.js";

// Tied and narrow: the byte tokenizer's 261 rows dominate the interpreter's time.
const MODEL: ModelShape = { dim: 8, layers: 1, heads: 2, kvHeads: 1, ffnDim: 16, maxSeq: 8, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: true };
const TRAIN: Partial<TrainSettings> = { steps: 4, batchSize: 2, blockSize: 8, lr: 1e-2, minLr: 1e-3, warmupSteps: 1, gradClip: 0.5, evalInterval: 2, evalBatches: 1, checkpointInterval: 2, seed: 3 };

const losses = (events: TrainEvent[]): number[] => events.flatMap((e) => (e.type === "step" ? [e.loss] : []));

function close(name: string, got: readonly number[], want: readonly number[], tol: number): void {
  assert.equal(got.length, want.length, `${name}: lengths`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= tol, `${name}[${i}]: ${g} vs ${want[i]} (tol ${tol})`));
}

async function paramsClose(gpuRun: string, cpuRun: string, tol: number): Promise<number> {
  const [a, b] = [await readCheckpoint(gpuRun, { optimizer: true }), await readCheckpoint(cpuRun, { optimizer: true })];
  let worst = 0;
  for (const [name, t] of Object.entries(b.stateDict)) {
    const g = a.stateDict[name]!.data;
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(g[i]! - t.data[i]!));
  }
  assert.ok(worst <= tol, `parameters differ by ${worst} > ${tol}`);
  assert.equal(a.optimizer?.metadata.step, b.optimizer?.metadata.step);
  return worst;
}

describe("pretrain on the GPU (WGSL interpreter)", () => {
  let dir: string;
  let text: string;
  let cpuEvents: TrainEvent[];
  const opened: InterpreterRunner[] = [];
  const gpu = { open: interpreterOpener(opened) };
  before(async () => {
    dir = tempDir("strata-gpu-pretrain-");
    text = writeText(dir, "text.txt", 4_000);
    cpuEvents = [];
    await pretrain({ runDir: join(dir, "cpu"), data: [text], model: MODEL, train: TRAIN, chart: false, onEvent: (e) => cpuEvents.push(e) });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("follows the CPU run's loss curve and ends with the same parameters", async () => {
    const events: TrainEvent[] = [];
    const r = await pretrain({ runDir: join(dir, "gpu"), data: [text], model: MODEL, train: TRAIN, chart: false, device: "gpu", gpu, onEvent: (e) => events.push(e) });
    assert.equal(r.steps, 4);
    assert.equal(events.find((e) => e.type === "start")?.type === "start" && (events.find((e) => e.type === "start") as { device: string }).device, "gpu");
    close("loss curve", losses(events), losses(cpuEvents), 1e-4);
    const val = (ev: TrainEvent[]) => ev.flatMap((e) => (e.type === "eval" ? [e.valLoss, e.trainLoss] : []));
    close("evaluations", val(events), val(cpuEvents), 1e-4);
    const worst = await paramsClose(join(dir, "gpu"), join(dir, "cpu"), 2e-5);
    assert.ok(opened.every((o) => o.problems() === ""), "no races or interpreter errors");
    if (process.env.STRATA_GPU_REPORT) console.log(JSON.stringify({ gpu: losses(events), cpu: losses(cpuEvents), worstParam: worst }));
  });

  it("writes an ordinary checkpoint: the CPU model loads it and gives the same loss", async () => {
    const ck = await readCheckpoint(join(dir, "gpu"));
    const model = new Llama(ck.run.model, { seed: 0 });
    model.loadStateDict(ck.stateDict);
    const ids = Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 200);
    const targets = Int32Array.from({ length: 16 }, (_, i) => (i * 5 + 1) % 200);
    const gpuLoss = model.loss(ids, targets, [2, 8]).loss.item();
    const cpuCk = await readCheckpoint(join(dir, "cpu"));
    const ref = new Llama(cpuCk.run.model, { seed: 0 });
    ref.loadStateDict(cpuCk.stateDict);
    assert.ok(Math.abs(gpuLoss - ref.loss(ids, targets, [2, 8]).loss.item()) < 1e-4);
  });

  it("resumes across devices: CPU → GPU and GPU → CPU match the uninterrupted CPU run", async () => {
    const half = { ...TRAIN, steps: 2 };
    const cpuThenGpu: TrainEvent[] = [];
    await pretrain({ runDir: join(dir, "c2g"), data: [text], model: MODEL, train: { ...half, decaySteps: 4 }, chart: false, onEvent: (e) => cpuThenGpu.push(e) });
    await pretrain({ runDir: join(dir, "c2g"), resume: true, train: { steps: 4 }, chart: false, device: "gpu", gpu, onEvent: (e) => cpuThenGpu.push(e) });
    close("CPU → GPU losses", losses(cpuThenGpu), losses(cpuEvents), 1e-4);
    await paramsClose(join(dir, "c2g"), join(dir, "cpu"), 2e-5);

    const gpuThenCpu: TrainEvent[] = [];
    await pretrain({ runDir: join(dir, "g2c"), data: [text], model: MODEL, train: { ...half, decaySteps: 4 }, chart: false, device: "gpu", gpu, onEvent: (e) => gpuThenCpu.push(e) });
    await pretrain({ runDir: join(dir, "g2c"), resume: true, train: { steps: 4 }, chart: false, onEvent: (e) => gpuThenCpu.push(e) });
    close("GPU → CPU losses", losses(gpuThenCpu), losses(cpuEvents), 1e-4);
    await paramsClose(join(dir, "g2c"), join(dir, "cpu"), 2e-5);
  });

  it("refuses mixture-of-experts models on the GPU in one line", async () => {
    await assert.rejects(
      pretrain({ runDir: join(dir, "moe"), data: [text], model: { ...MODEL, moe: { experts: 2, topK: 1 } }, train: TRAIN, device: "gpu", gpu }),
      (e: Error & { code?: string }) => e.code === "INVALID_CONFIG" && /mixture-of-experts/.test(e.message) && !e.message.includes("\n"),
    );
  });
});
