// The one training loop over the Stepper interface (src/train/loop.ts): what it asks of any device.
// A stepper double that wraps the CPU stepper records the calls, so the loop's own rules are
// checked apart from the numerics (pretrain.test.ts checks those, gpu-pretrain.test.ts the GPU).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Batch } from "../../src/train/dataset.js";
import { trainLoop } from "../../src/train/loop.js";
import { openRun } from "../../src/train/run.js";
import { CpuStepper, type StepResult, type Stepper } from "../../src/train/stepper.js";
import { isStrataError } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";
import { MICRO_MODEL, MICRO_TRAIN, writeText } from "./helpers.js";

/** The CPU stepper with a log of calls; `poison` makes the loss of that step's accumulate NaN. */
class Recording implements Stepper {
  readonly calls: string[] = [];
  private steps = 0;
  constructor(private readonly inner: Stepper, private readonly poison?: number) {}
  async accumulate(batches: readonly Batch[]): Promise<StepResult> {
    this.calls.push(`accumulate(${batches.length})`);
    const r = await this.inner.accumulate(batches);
    return ++this.steps === this.poison ? { losses: [Number.NaN], norm: r.norm } : r;
  }
  update(lr: number): void {
    this.calls.push("update");
    assert.ok(lr > 0);
    this.inner.update(lr);
  }
  loss(b: Batch): Promise<number> {
    return this.inner.loss(b);
  }
  async download(): Promise<void> {
    this.calls.push("download");
  }
  release(): void {
    this.calls.push("release");
  }
}

describe("the training loop over a stepper", () => {
  let dir: string;
  let text: string;
  before(() => {
    dir = tempDir("strata-loop-");
    text = writeText(dir, "text.txt", 8_000);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const options = { emit: () => {}, chart: false, device: "test", t0: performance.now() };

  it("accumulates gradAccum batches and updates once per step; downloads before every checkpoint", async () => {
    const run = await openRun({ runDir: join(dir, "a"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, steps: 4, gradAccum: 2, checkpointInterval: 2 } }, () => {});
    try {
      const stepper = new Recording(new CpuStepper(run.model, run.opt, run.settings.gradClip));
      const r = await trainLoop(run, stepper, options);
      assert.equal(r.steps, 4);
      assert.deepEqual(stepper.calls, ["accumulate(2)", "update", "accumulate(2)", "update", "download", "accumulate(2)", "update", "accumulate(2)", "update", "download"]);
      assert.equal(run.opt.stepCount, 4);
    } finally {
      run.close();
    }
  });

  it("a non-finite loss stops the run before that step's update, naming the step and the last checkpoint", async () => {
    const run = await openRun({ runDir: join(dir, "b"), data: [text], model: MICRO_MODEL, train: { ...MICRO_TRAIN, steps: 6, checkpointInterval: 2 } }, () => {});
    try {
      const stepper = new Recording(new CpuStepper(run.model, run.opt, run.settings.gradClip), 3);
      await assert.rejects(trainLoop(run, stepper, options), isStrataError("TRAINING_DIVERGED", /diverged at step 3: the loss is NaN/, /last good checkpoint is step 2/));
      assert.equal(stepper.calls.filter((c) => c === "update").length, 2, "no update after the bad step");
    } finally {
      run.close();
    }
  });
});
