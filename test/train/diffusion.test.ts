// Diffusion training (src/train/diffusion) on a synthetic Fashion-MNIST-shaped folder: a run writes
// checkpoints, the loss chart and sample grids; stopping and resuming gives bit-for-bit the weights
// of an uninterrupted run; a missing dataset names the apt command and leaves no run behind.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readDiffusionCheckpoint } from "../../src/formats/diffusion-run.js";
import { DiT } from "../../src/nn/diffusion/index.js";
import { DIFFUSION_PRESETS, trainDiffusion } from "../../src/train/diffusion/index.js";
import { rejectsWithCode } from "../helpers/errors.js";
import { writeFashionLike } from "../helpers/fashion.js";
import { tempDir } from "../helpers/paths.js";

const tiny = DIFFUSION_PRESETS.tiny;

async function weights(runDir: string): Promise<Record<string, Float32Array>> {
  const run = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")) as { model: ConstructorParameters<typeof DiT>[0] };
  const shapes = new DiT(run.model).namedParameters().map(([n, t]) => [n, [...t.shape]] as [string, number[]]);
  const ck = await readDiffusionCheckpoint(runDir, shapes, { optimizer: true });
  return Object.fromEntries([...Object.entries(ck.stateDict), ...Object.entries(ck.optimizer!.tensors)].map(([k, v]) => [k, v.data]));
}

describe("diffusion training", () => {
  const data = writeFashionLike(join(tempDir("strata-fashion-"), "data"));

  it("writes checkpoints, loss.html and a sample grid per checkpoint; the loss is finite", async () => {
    const runDir = join(tempDir("strata-diff-"), "run");
    const events: string[] = [];
    const r = await trainDiffusion({ runDir, dataDir: data, model: tiny.model, train: tiny.train, onEvent: (e) => events.push(e.type) });
    assert.equal(r.steps, 4);
    assert.ok(Number.isFinite(r.trainLoss) && Number.isFinite(r.valLoss));
    assert.ok(existsSync(join(runDir, "checkpoints", "step-2", "model.safetensors")));
    assert.ok(existsSync(join(runDir, "samples", "step-4.png")));
    assert.match(readFileSync(join(runDir, "loss.html"), "utf8"), /Diffusion training/);
    assert.equal(events.filter((e) => e === "step").length, 4);
    await rejectsWithCode(trainDiffusion({ runDir, dataDir: data, model: tiny.model, train: tiny.train }), "USAGE", /already holds a training run/);
  });

  it("stopping and resuming gives the weights and moments of an uninterrupted run, bit for bit", async () => {
    const straight = join(tempDir("strata-diff-"), "a");
    await trainDiffusion({ runDir: straight, dataDir: data, model: tiny.model, train: { ...tiny.train, steps: 6, sampleSteps: 0 } });
    const split = join(tempDir("strata-diff-"), "b");
    await trainDiffusion({ runDir: split, dataDir: data, model: tiny.model, train: { ...tiny.train, steps: 6, sampleSteps: 0, checkpointInterval: 3 }, signal: AbortSignal.abort() }).catch((e: Error) => assert.match(e.message, /stopped at step 0/));
    const controller = new AbortController();
    await assert.rejects(
      trainDiffusion({ runDir: split, dataDir: data, resume: true, signal: controller.signal, onEvent: (e) => e.type === "step" && e.step === 3 && controller.abort() }),
      /training stopped at step 3/,
    );
    const r = await trainDiffusion({ runDir: split, dataDir: data, resume: true });
    assert.equal(r.startStep, 3);
    const a = await weights(straight);
    const b = await weights(split);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    for (const k of Object.keys(a)) assert.deepEqual(b[k], a[k], `${k} differs after resume`);
  });

  it("a resumed run keeps its settings", async () => {
    const runDir = join(tempDir("strata-diff-"), "run");
    await trainDiffusion({ runDir, dataDir: data, model: tiny.model, train: { ...tiny.train, steps: 2, sampleSteps: 0 } });
    await rejectsWithCode(trainDiffusion({ runDir, dataDir: data, resume: true, train: { batchSize: 8 } }), "INVALID_CONFIG", /batchSize 4/);
  });

  it("a missing dataset names the apt command and leaves no run folder", async () => {
    const runDir = join(tempDir("strata-diff-"), "run");
    await rejectsWithCode(trainDiffusion({ runDir, dataDir: join(data, "nowhere"), model: tiny.model, train: tiny.train }), "NOT_FOUND", /train-images-idx3-ubyte\.gz is missing/, /apt-get install dataset-fashion-mnist/);
    assert.ok(!existsSync(runDir));
  });
});
