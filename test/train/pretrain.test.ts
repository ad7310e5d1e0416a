// The pretraining loop: exact resume (an interrupted and resumed run reproduces the uninterrupted
// loss curve bit for bit), gradient accumulation equal to one big batch, events, the loss chart,
// Ctrl-C (abort) saving a checkpoint, and the refusals: memory, NaN, another model shape on resume,
// an existing run without --resume, settings changed on resume.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { readCheckpoint } from "../../src/formats/checkpoint.js";
import { Llama } from "../../src/nn/index.js";
import { type TrainEvent, checkTrainingMemory, estimateTrainingMemory, pretrain, PRESETS } from "../../src/train/index.js";
import { tempDir } from "../helpers/paths.js";
import { MICRO_MODEL, MICRO_TRAIN, writeText } from "./helpers.js";
import { isStrataError } from "../helpers/errors.js";

const hasCode = isStrataError;

describe("pretrain", () => {
  let dir: string;
  let text: string;
  before(() => {
    dir = tempDir("strata-pretrain-");
    text = writeText(dir, "text.txt", 12_000);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("trains, reports events, writes checkpoints and a self-contained loss chart", async () => {
    const events: TrainEvent[] = [];
    const progress: number[] = [];
    const r = await pretrain({ runDir: join(dir, "a"), data: [text], model: MICRO_MODEL, train: MICRO_TRAIN, onEvent: (e) => events.push(e), onProgress: (p) => p.phase === "train" && progress.push(p.done) });
    assert.equal(r.steps, 8);
    assert.equal(r.startStep, 0);
    const steps = events.filter((e) => e.type === "step");
    assert.deepEqual(steps.map((e) => e.step), [1, 2, 3, 4, 5, 6, 7, 8]);
    for (const e of steps) assert.ok(Number.isFinite(e.loss) && e.lr > 0 && e.tokensPerSecond > 0 && e.gradNorm > 0);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(events.filter((e) => e.type === "eval").map((e) => e.step), [4, 8]);
    assert.deepEqual(events.filter((e) => e.type === "checkpoint").map((e) => e.step), [4, 8]);
    assert.ok(steps[0]!.loss > 5 && steps[0]!.loss < 6, `an untrained byte model starts near ln(261) = 5.56, got ${steps[0]!.loss}`);
    assert.ok(r.valLoss < steps[0]!.loss, "it learns something in 8 steps");
    assert.equal(r.valPerplexity, Math.exp(r.valLoss));
    assert.equal(r.parameters, new Llama({ ...MICRO_MODEL, vocab: 261 }, { seed: 1 }).numParameters());
    assert.equal(r.checkpoint, join(dir, "a", "checkpoints", "step-8"));
    const html = readFileSync(r.chart!, "utf8");
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg[^>]*role="img"/);
    assert.match(html, /class="train"/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, "no script, no external resource");
    const ck = await readCheckpoint(join(dir, "a"));
    assert.equal(ck.step, 8);
    assert.equal(ck.state.history.train.length, 8);
    assert.deepEqual(ck.state.history.val.map((v) => v.step), [4, 8]);
    assert.equal(ck.run.train.steps, 8);
  });

  it("resumes exactly: interrupted at step 3 (Ctrl-C) and resumed, the loss curve and weights equal an uninterrupted run's", async () => {
    const full = await pretrain({ runDir: join(dir, "full"), data: [text], model: MICRO_MODEL, train: MICRO_TRAIN });
    const ac = new AbortController();
    await assert.rejects(
      pretrain({ runDir: join(dir, "cut"), data: [text], model: MICRO_MODEL, train: MICRO_TRAIN, signal: ac.signal, onEvent: (e) => e.type === "step" && e.step === 3 && ac.abort() }),
      hasCode("ABORTED", /stopped at step 3 of 8; checkpoint step-3 is saved/),
    );
    assert.equal((await readCheckpoint(join(dir, "cut"))).step, 3);
    const resumed = await pretrain({ runDir: join(dir, "cut"), resume: true, train: { steps: 8 } });
    assert.equal(resumed.startStep, 3);
    assert.equal(resumed.steps, 8);
    const a = await readCheckpoint(join(dir, "full"), { optimizer: true });
    const b = await readCheckpoint(join(dir, "cut"), { optimizer: true });
    assert.deepEqual(b.state.history.train, a.state.history.train, "identical loss and lr at every step");
    assert.deepEqual(b.state.history.val, a.state.history.val);
    assert.deepEqual(b.state.rng, a.state.rng);
    for (const [name, t] of Object.entries(a.stateDict)) assert.deepEqual(b.stateDict[name]!.data, t.data, name);
    for (const [name, t] of Object.entries(a.optimizer!.tensors)) assert.deepEqual(b.optimizer!.tensors[name]!.data, t.data, name);
    assert.equal(resumed.valLoss, full.valLoss);
  });

  it("resuming a finished run to more steps continues the step count (the schedule's horizon stays fixed)", async () => {
    const r = await pretrain({ runDir: join(dir, "a"), resume: true, train: { steps: 10 } });
    assert.equal(r.startStep, 8);
    assert.equal(r.steps, 10);
    const ck = await readCheckpoint(join(dir, "a"));
    assert.deepEqual(ck.state.history.train.map((p) => p.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(ck.state.history.train[9]!.lr, MICRO_TRAIN.minLr, "past the horizon (8) the rate is the floor");
    // Resuming at the target does no step but still reports the figures.
    const again = await pretrain({ runDir: join(dir, "a"), resume: true });
    assert.equal(again.steps, 10);
    assert.equal(again.startStep, 10);
    assert.ok(Number.isFinite(again.valLoss));
  });

  it("gradient accumulation of 2 × batch 2 follows the same curve as batch 4", async () => {
    const big = await pretrain({ runDir: join(dir, "big"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, steps: 4, batchSize: 4, gradAccum: 1 } });
    const acc = await pretrain({ runDir: join(dir, "acc"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, steps: 4, batchSize: 2, gradAccum: 2 } });
    const a = (await readCheckpoint(big.runDir)).state.history.train;
    const b = (await readCheckpoint(acc.runDir)).state.history.train;
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]!.loss - b[i]!.loss) < 1e-5, `step ${i + 1}: ${a[i]!.loss} vs ${b[i]!.loss}`);
    const wa = (await readCheckpoint(big.runDir)).stateDict;
    const wb = (await readCheckpoint(acc.runDir)).stateDict;
    for (const [name, t] of Object.entries(wa)) {
      let m = 0;
      t.data.forEach((x, i) => (m = Math.max(m, Math.abs(x - wb[name]!.data[i]!))));
      assert.ok(m < 1e-5, `${name}: max difference ${m}`);
    }
  });

  it("refuses to start over an existing run, to resume a missing one, and to resume with another shape or changed settings", async () => {
    await assert.rejects(pretrain({ runDir: join(dir, "a"), data: [text], model: MICRO_MODEL, train: MICRO_TRAIN }), hasCode("USAGE", /already holds a training run/));
    await assert.rejects(pretrain({ runDir: join(dir, "nothing"), resume: true }), hasCode("NOT_FOUND", /no run to resume/));
    await assert.rejects(
      pretrain({ runDir: join(dir, "a"), resume: true, model: { ...MICRO_MODEL, dim: 32, layers: 3 } }),
      hasCode("STATE_DICT_MISMATCH", /another model shape \(stored → requested: dim 16 → 32, layers 2 → 3\)/),
    );
    await assert.rejects(pretrain({ runDir: join(dir, "a"), resume: true, train: { lr: 0.1 } }), hasCode("INVALID_CONFIG", /started with lr 0\.003/));
  });

  it("refuses a configuration that does not fit in memory before allocating it, with the estimate and the limit", async () => {
    await assert.rejects(
      pretrain({ runDir: join(dir, "mem"), data: [text], model: MICRO_MODEL, train: MICRO_TRAIN, memoryLimitBytes: 1_000_000 }),
      hasCode("MEMORY_LIMIT", /needs about .*MiB .*parameters.*but the limit is 976\.6 KiB/),
    );
    assert.ok(!existsSync(join(dir, "mem", "run.json")));
    // A model of ~70 billion parameters is refused at once under the machine's own limit.
    const huge = { ...PRESETS.tiny.model, dim: 8192, layers: 80, heads: 64, kvHeads: 8, ffnDim: 28672, maxSeq: 4096, vocab: 128256 };
    const t = Date.now();
    assert.throws(() => checkTrainingMemory(huge, { batch: 1, block: 4096 }), hasCode("MEMORY_LIMIT", /training this configuration needs about .* GiB/));
    assert.ok(Date.now() - t < 1000);
    const est = estimateTrainingMemory({ ...MICRO_MODEL, vocab: 261 }, { batch: 4, block: 16 });
    assert.equal(est.optimizer, 8 * est.parameters);
    assert.ok(est.activations > 0 && est.total > est.weights * 4);
  });

  it("stops on a NaN/inf loss with the step and a hint, without saving the broken weights", async () => {
    await assert.rejects(
      pretrain({ runDir: join(dir, "nan"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, lr: 1e30, minLr: 0, warmupSteps: 0, gradClip: 0, checkpointInterval: 100 } }),
      (e: unknown) => {
        hasCode("TRAINING_DIVERGED", /training diverged at step \d+: the (loss|gradient norm) is (NaN|Infinity)/)(e);
        assert.match((e as StrataError).hint, /lower the learning rate/);
        return true;
      },
    );
    assert.ok(!existsSync(join(dir, "nan", "checkpoints", "latest")), "no checkpoint of diverged weights");
  });

  it("refuses text too short for a block, a missing file and an empty one", async () => {
    const short = writeText(dir, "short.txt", 60);
    await assert.rejects(pretrain({ runDir: join(dir, "short"), data: [short], model: MICRO_MODEL, train: MICRO_TRAIN }), hasCode("USAGE", /too short/));
    await assert.rejects(pretrain({ runDir: join(dir, "missing"), data: [join(dir, "nope.txt")], model: MICRO_MODEL, train: MICRO_TRAIN }), hasCode("NOT_FOUND"));
    await assert.rejects(pretrain({ runDir: join(dir, "blk"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, blockSize: 32 } }), hasCode("INVALID_CONFIG", /exceeds the model's maxSeq 16/));
  });

  it("seeds: the same seed gives the same run, another seed another", async () => {
    const a = await pretrain({ runDir: join(dir, "s1"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, steps: 2, seed: 11 }, chart: false });
    const b = await pretrain({ runDir: join(dir, "s2"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, steps: 2, seed: 12 }, chart: false });
    assert.equal(a.chart, null);
    assert.notEqual(a.valLoss, b.valLoss);
  });
});
