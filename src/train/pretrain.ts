// Pretraining: next-token prediction on raw text, nanoGPT's loop for Strata's llama, in three parts:
// opening the run (src/train/run.ts), a stepper for the device (src/train/stepper.ts: the CPU's
// autograd; src/train/gpu: WebGPU kernels), and the one loop over it (src/train/loop.ts).
//
// Exact resume: the only random choices after initialisation are the batch windows, drawn from one
// generator whose state is saved in each checkpoint with the weights and AdamW's moments (float32,
// bit-exact) and the step; evaluation uses its own freshly seeded generators. A resumed run therefore
// makes the same updates as an uninterrupted one (a test checks the loss curves are identical).
//
// With device "gpu" the same loop runs its steps and evaluations on the GPU (src/train/gpu over
// src/nn/gpu, loaded only then): the weights start from the same seeded initialisation (or the
// checkpoint, whichever device wrote it), live on the GPU during the run, and are downloaded into the
// CPU model and optimizer for each checkpoint, so the files are the same whichever device wrote them.

import { performance } from "node:perf_hooks";
import { trainLoop } from "./loop.js";
import { type PretrainOptions, type PretrainResult, openRun } from "./run.js";
import { CpuStepper, type Stepper } from "./stepper.js";

export type { PretrainOptions, PretrainResult, TrainEvent, TrainListener } from "./run.js";

/** Trains (or resumes training) a llama on text files. See the file comment. */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const t0 = performance.now();
  const emit = options.onEvent ?? (() => {});
  const run = await openRun(options, emit);
  try {
    const { model, opt, settings, gpuCtx } = run;
    // On the GPU: weights and moments uploaded from the CPU copies the run restored.
    const stepper: Stepper = gpuCtx ? new (await import("./gpu/index.js")).GpuTrainer(gpuCtx, model, opt, settings.gradClip) : new CpuStepper(model, opt, settings.gradClip);
    try {
      return await trainLoop(run, stepper, {
        emit,
        signal: options.signal,
        onProgress: options.onProgress,
        chart: options.chart !== false,
        keepCheckpoints: options.keepCheckpoints,
        device: options.device ?? "cpu",
        t0,
      });
    } finally {
      stepper.release();
    }
  } finally {
    run.close();
  }
}
