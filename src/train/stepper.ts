// The device half of the training loop (src/train/loop.ts): what one optimizer step does on a
// device, behind four calls. The loop draws the batches, checks the losses and the norm, schedules
// the learning rate, evaluates and checkpoints; a stepper only computes. The CPU stepper is below;
// the GPU one is src/train/gpu/trainer.ts. Fine-tuning methods plug in as further steppers.
//
//   accumulate(batches)   forward + backward of each micro-batch, loss scaled by 1/batches.length,
//                         gradients summed; then the global-norm clip. No parameter changes yet.
//   update(lr)            the optimizer step with the clipped gradients
//   loss(batch)           mean cross-entropy with the current weights (no gradients)
//   download()            the weights and optimizer state into the CPU model and optimizer
//                         (what a checkpoint writes); nothing to do on the CPU

import type { Llama } from "../nn/index.js";
import { noGrad } from "../tensor/index.js";
import { clipGradNorm } from "./clip.js";
import type { Batch } from "./dataset.js";
import type { AdamW } from "./optimizer.js";

export interface StepResult {
  /** Mean loss of each micro-batch; accumulation stops after the first non-finite one. */
  losses: number[];
  /** The global gradient norm before clipping (NaN when accumulation stopped early). */
  norm: number;
}

export interface Stepper {
  accumulate(batches: readonly Batch[]): Promise<StepResult>;
  update(lr: number): void;
  loss(batch: Batch): Promise<number>;
  download(): Promise<void>;
  /** Frees what the stepper holds (device buffers); the model and optimizer stay usable. */
  release(): void;
  /** Further held-out figures over fixed batches (DPO: reward margin and accuracy); optional. */
  metrics?(batches: readonly Batch[]): Promise<Record<string, number>>;
}

/** The engine's autograd on the CPU: `model.loss(...).backward()`, `clipGradNorm`, `AdamW.step`. */
export class CpuStepper implements Stepper {
  constructor(private readonly model: Llama, private readonly opt: AdamW, private readonly gradClip: number) {}

  async accumulate(batches: readonly Batch[]): Promise<StepResult> {
    this.opt.zeroGrad();
    const losses: number[] = [];
    for (const b of batches) {
      const { loss } = this.model.loss(b.ids, b.targets, b.shape);
      const l = loss.item();
      losses.push(l);
      if (!Number.isFinite(l)) return { losses, norm: Number.NaN };
      loss.backward(Float32Array.of(1 / batches.length));
    }
    const norm = clipGradNorm(this.opt.params.map((p) => p.tensor), this.gradClip).norm;
    return { losses, norm };
  }

  update(lr: number): void {
    this.opt.step(lr);
    this.opt.zeroGrad();
  }

  async loss(b: Batch): Promise<number> {
    return noGrad(() => this.model.loss(b.ids, b.targets, b.shape).loss.item());
  }

  async download(): Promise<void> {}

  release(): void {}
}
