// A llama training step on the GPU (llm.c-style): parameters, gradients and AdamW's moments live in
// GPU buffers for the whole run. A step runs forward + backward for each micro-batch (gradients
// summed, each loss scaled by 1/gradAccum as src/train/pretrain.ts does), the global gradient-norm
// clip (scale kept on the GPU), then reads back only the losses and the norm — the one host wait
// per step. The caller checks them (a non-finite value stops the run before any update, as on the
// CPU) and then `update(lr)` queues AdamW for every parameter. Checkpoints download the parameters
// and moments into the CPU model and optimizer, so the files are the CPU path's own.

import type { Llama } from "../../nn/index.js";
import { backward } from "../../nn/gpu/backward.js";
import type { GpuContext } from "../../nn/gpu/context.js";
import { type GpuModel, forward, gpuModel, releaseModel } from "../../nn/gpu/forward.js";
import { ScopedRunner } from "../../nn/gpu/scope.js";
import { GpuWeights } from "../../nn/gpu/weights.js";
import { type Batch } from "../dataset.js";
import { type AdamW, defaultDecay } from "../optimizer.js";
import type { StepResult, Stepper } from "../stepper.js";
import type { HostRunner } from "../../tensor/webgpu/kernel-call.js";
import { adamwUpdate } from "../../tensor/webgpu/kernels/adamw.js";
import { countTargets, crossEntropyBackward, crossEntropyForward } from "../../tensor/webgpu/kernels/cross-entropy.js";
import { fill } from "../../tensor/webgpu/kernels/elementwise.js";
import { clipGradNorm } from "../../tensor/webgpu/kernels/reduce.js";

const IGNORE = -100;

/** The GPU stepper of the training loop (src/train/stepper.ts). */
export class GpuTrainer<B> implements Stepper {
  readonly model: GpuModel<B>;
  readonly grads: Map<string, B>;
  private readonly m: Map<string, B>;
  private readonly v: Map<string, B>;
  private readonly runner: HostRunner<B>;
  /** Whether AdamW decays each parameter (`defaultDecay`, the CPU optimizer's rule). */
  private readonly decay: Map<string, boolean>;
  /** AdamW steps taken (t of the bias correction). */
  stepCount: number;

  /** Uploads the CPU model's parameters and the optimizer's moments (zeros, or a checkpoint's). */
  constructor(readonly ctx: GpuContext<B>, private readonly cpuModel: Llama, private readonly opt: AdamW, private readonly gradClip: number) {
    this.runner = ctx.runner;
    this.model = gpuModel(ctx.runner, new GpuWeights(ctx.runner, cpuModel.config, cpuModel), ctx.tuning);
    this.decay = new Map(cpuModel.namedParameters().map(([name, t]) => [name, defaultDecay(name, t)]));
    const state = opt.stateTensors();
    const params = this.model.weights.params;
    this.grads = new Map(params.map((p) => [p.name, this.runner.alloc(p.size)]));
    this.m = new Map(params.map((p) => [p.name, this.runner.upload(state[`${p.name}.exp_avg`]!.data)]));
    this.v = new Map(params.map((p) => [p.name, this.runner.upload(state[`${p.name}.exp_avg_sq`]!.data)]));
    this.stepCount = opt.stepCount;
  }

  /**
   * Forward and backward of every micro-batch into the gradients, then the clip; resolves with the
   * losses and the norm (no parameter changes yet).
   */
  async accumulate(batches: readonly Batch[]): Promise<StepResult> {
    const r = this.runner;
    for (const p of this.model.weights.params) fill(r, this.grads.get(p.name)!, p.size, 0);
    const losses: B[] = [];
    const scope = new ScopedRunner(r);
    try {
      for (const b of batches) {
        const f = forward(this.model, scope, b.ids, b.shape, { save: true });
        const ce = this.crossEntropy(scope, f.logits, b.targets, f.rows);
        losses.push(scope.keep(ce.loss));
        const count = countTargets(b.targets, IGNORE);
        const dlogits = crossEntropyBackward(scope, 1 / batches.length, f.logits, ce.targets, ce.lse, f.rows, this.model.dims.V, IGNORE, count, this.ctx.tuning.rowWg);
        backward(this.model, scope, f, b.ids, dlogits, this.grads);
        scope.releaseAll();
      }
      const grads = this.model.weights.params.map((p) => [this.grads.get(p.name)!, p.size] as const);
      const stats = scope.keep(clipGradNorm(r, grads, this.gradClip, this.ctx.tuning.rowWg));
      const values = await Promise.all(losses.map((l) => r.download(l, 1)));
      const norm = (await r.download(stats, 1))[0]!;
      for (const b of [...losses, stats]) r.release(b);
      return { losses: values.map((x) => x[0]!), norm };
    } finally {
      scope.releaseAll();
    }
  }

  /** AdamW on every parameter with the (clipped) gradients, at `lr`; queued, no host wait. */
  update(lr: number): void {
    this.stepCount++;
    const o = this.opt;
    for (const p of this.model.weights.params) {
      adamwUpdate(this.runner, p.buffer, this.grads.get(p.name)!, this.m.get(p.name)!, this.v.get(p.name)!, p.size, {
        step: this.stepCount, lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decay: this.decay.get(p.name)!,
      });
    }
  }

  /** Mean cross-entropy of one batch with the current weights (no gradients). */
  async loss(batch: Batch): Promise<number> {
    const scope = new ScopedRunner(this.runner);
    try {
      const f = forward(this.model, scope, batch.ids, batch.shape);
      const { loss } = this.crossEntropy(scope, f.logits, batch.targets, f.rows);
      return (await this.runner.download(loss, 1))[0]!;
    } finally {
      scope.releaseAll();
    }
  }

  /** The gradients as host arrays by name (for tests and diagnostics). */
  async gradients(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const p of this.model.weights.params) out.set(p.name, await this.runner.download(this.grads.get(p.name)!, p.size));
    return out;
  }

  /** Copies parameters, moments and the step count into the CPU model and optimizer (for a checkpoint). */
  async download(): Promise<void> {
    await this.model.weights.downloadInto(this.cpuModel);
    const state = this.opt.stateTensors();
    for (const p of this.model.weights.params) {
      state[`${p.name}.exp_avg`]!.data.set(await this.runner.download(this.m.get(p.name)!, p.size));
      state[`${p.name}.exp_avg_sq`]!.data.set(await this.runner.download(this.v.get(p.name)!, p.size));
    }
    this.opt.stepCount = this.stepCount;
  }

  /** Frees every buffer (the context stays open; its owner closes it). */
  release(): void {
    for (const map of [this.grads, this.m, this.v]) for (const b of map.values()) this.runner.release(b);
    releaseModel(this.model);
  }

  private crossEntropy(scope: ScopedRunner<B>, logits: B, targets: Int32Array, rows: number): { loss: B; lse: B; targets: B } {
    const t = scope.track(this.runner.upload(targets));
    const { loss, lse } = crossEntropyForward(scope, logits, t, rows, this.model.dims.V, IGNORE, countTargets(targets, IGNORE), this.ctx.tuning.rowWg);
    return { loss, lse, targets: t };
  }
}
