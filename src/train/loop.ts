// The training loop (nanoGPT's, one for every device): draw the micro-batches, let the stepper
// accumulate and clip, stop on a non-finite loss or norm before any update, update, and report;
// evaluate every evalInterval steps and checkpoint every checkpointInterval steps (and at the end,
// and on abort). The device work is the stepper's (src/train/stepper.ts); the run it continues was
// opened by src/train/run.ts.
//
//   for step = start … steps − 1:
//     lr ← schedule(step)
//     batches ← gradAccum draws of B × T windows from the training span (one generator)
//     losses, norm ← stepper.accumulate(batches)      forward + backward + clip
//     stepper.update(lr)                               AdamW
//     every evalInterval steps: mean loss on evalBatches fixed batches of each span
//     every checkpointInterval steps: stepper.download(); checkpoint + loss.html

import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { StrataError } from "../core/errors.js";
import type { ProgressListener } from "../core/events.js";
import { writeFileAtomic } from "../core/atomic-file.js";
import { type LossPoint, type TrainState, type ValPoint, pruneCheckpoints, writeCheckpoint } from "../formats/checkpoint.js";
import { Rng } from "../tensor/index.js";
import { renderLossChart } from "./chart.js";
import { type Batch, type TokenDataset, type TokenRange, sampleBatch } from "./dataset.js";
import type { OpenedRun, PretrainResult, TrainListener } from "./run.js";
import { learningRate } from "./schedule.js";
import type { TrainSettings } from "./settings.js";
import type { Stepper } from "./stepper.js";

const EVAL_SEED_OFFSET = 0xe7a1;

export type { BatchSource } from "./dataset.js";

/** What the loop needs of a run: an opened pretraining run (token windows) or a fine-tuning run (a BatchSource). */
export type LoopRun = Omit<OpenedRun, "ds" | "split" | "existing" | "gpuCtx" | "close"> & { ds?: TokenDataset; split?: { train: TokenRange; val: TokenRange } };

export interface LoopOptions {
  signal?: AbortSignal | undefined;
  emit: TrainListener;
  onProgress?: ProgressListener | undefined;
  /** Write loss.html next to the run. */
  chart: boolean;
  /** Keep only the newest N checkpoints (default: all). */
  keepCheckpoints?: number | undefined;
  /** The device's name for the start event ("cpu", "gpu"). */
  device: string;
  /** When the session started (performance.now()), for elapsed times. */
  t0: number;
  /** Stop when the validation loss has not improved for this many evaluations in a row. */
  earlyStopPatience?: number | undefined;
  /** The chart's title (default "Pretraining"). */
  title?: string | undefined;
}

/** Mean loss over `batches` batches of a span, drawn by a generator seeded afresh (same batches every time). */
async function estimateLoss(lossOf: (b: Batch) => Promise<number>, ds: TokenDataset, range: TokenRange, s: TrainSettings, seed: number): Promise<number> {
  const rng = new Rng(seed);
  let sum = 0;
  for (let i = 0; i < s.evalBatches; i++) sum += await lossOf(sampleBatch(ds, range, s.batchSize, s.blockSize, rng));
  return sum / s.evalBatches;
}

function diverged(step: number, what: string, value: number, history: readonly LossPoint[], lastCheckpoint: number | null): StrataError {
  const lastFinite = [...history].reverse().find((p) => Number.isFinite(p.loss));
  return new StrataError(
    "TRAINING_DIVERGED",
    `training diverged at step ${step}: the ${what} is ${value}${lastFinite ? ` (the last finite loss was ${lastFinite.loss.toFixed(4)} at step ${lastFinite.step})` : ""}`,
    `lower the learning rate (e.g. half of it), keep gradient clipping on, and check the training data for junk${lastCheckpoint !== null ? `; the last good checkpoint is step ${lastCheckpoint} (--resume continues from it)` : ""}`,
  );
}

/** Runs `run` from its current step to settings.steps with `stepper`; see the file comment. */
export async function trainLoop(run: LoopRun, stepper: Stepper, o: LoopOptions): Promise<PretrainResult> {
  const { runDir, config, settings, memory, files, model, opt, dataRng, source } = run;
  if (!source && (!run.ds || !run.split)) throw new StrataError("INTERNAL", "trainLoop: a run needs a token dataset or a batch source");
  const ds = run.ds!;
  const split = run.split!;
  let { step, data, lastSaved } = run;
  const { history, elapsedBefore, resumedFrom } = run;
  const { emit, signal, t0, device } = o;
  const startStep = step;
  const tokensPerStep = settings.batchSize * settings.blockSize * settings.gradAccum;
  emit({ type: "start", step, steps: settings.steps, parameters: memory.parameters, memory, resumedFrom, tokensPerStep, device });

  const chartPath = o.chart ? join(runDir, "loss.html") : null;
  let trainMs = 0;
  const recent: number[] = []; // ms of the last steps, for the tokens/s of step events
  const facts = (): Array<[string, string]> => [
    ["Run", runDir],
    ["Model", `llama · ${config.layers} layers · ${config.heads} heads (${config.kvHeads} kv) · width ${config.dim} · ffn ${config.ffnDim} · vocab ${config.vocab} · ${memory.parameters.toLocaleString("en-US")} parameters`],
    ["Training", `batch ${settings.batchSize} × block ${settings.blockSize} × accum ${settings.gradAccum} · lr ${settings.lr} → ${settings.minLr} (warm-up ${settings.warmupSteps}, cosine to ${settings.decaySteps}) · AdamW β ${settings.beta1}/${settings.beta2}, wd ${settings.weightDecay} · clip ${settings.gradClip}`],
    ["Data", source ? source.describe : `${files.join(", ")} · ${ds.length.toLocaleString("en-US")} tokens (${split.val.length.toLocaleString("en-US")} held out)`],
  ];
  const sessionRate = (): number => (trainMs > 0 ? ((step - startStep) * tokensPerStep) / (trainMs / 1000) : 0);
  const writeChart = async (): Promise<void> => {
    if (!chartPath) return;
    await writeFileAtomic(chartPath, renderLossChart({ title: `${o.title ?? "Pretraining"}: ${runDir.split("/").pop() ?? runDir}`, ...(o.title ? { eyebrow: "Strata · fine-tuning" } : {}), history, steps: settings.steps, facts: facts(), tokensPerSecond: sessionRate() }));
  };
  const save = async (): Promise<string> => {
    const state: TrainState = {
      format: "strata-train-state",
      version: 1,
      step,
      rng: dataRng.state(),
      data,
      lr: history.train[history.train.length - 1]?.lr ?? learningRate(0, settings),
      history,
      elapsedMs: elapsedBefore + (performance.now() - t0),
    };
    await stepper.download();
    const adapter = run.adapterState?.();
    const { dir } = await writeCheckpoint(runDir, { stateDict: model.stateDict({ copy: false }), optimizer: { tensors: opt.stateTensors(), metadata: opt.stateMetadata() }, state, ...(adapter ? { adapter } : {}) });
    lastSaved = step;
    if (o.keepCheckpoints) await pruneCheckpoints(runDir, o.keepCheckpoints);
    await writeChart();
    emit({ type: "checkpoint", step, dir });
    return dir;
  };
  const lossOf = (b: Batch): Promise<number> => stepper.loss(b);
  const fixed = source?.evalBatches();
  const meanLoss = async (bs: readonly Batch[]): Promise<number> => {
    let sum = 0;
    for (const b of bs) sum += await lossOf(b);
    return sum / bs.length;
  };
  const evaluate = async (): Promise<ValPoint> => {
    const trainLoss = fixed ? await meanLoss(fixed.train) : await estimateLoss(lossOf, ds, split.train, settings, settings.seed + EVAL_SEED_OFFSET);
    const valLoss = fixed ? await meanLoss(fixed.val) : await estimateLoss(lossOf, ds, split.val, settings, settings.seed + EVAL_SEED_OFFSET + 1);
    const point: ValPoint = { step, loss: valLoss, perplexity: Math.exp(valLoss), trainLoss };
    if (fixed && stepper.metrics) point.metrics = await stepper.metrics(fixed.val);
    history.val.push(point);
    emit({ type: "eval", step, trainLoss, valLoss, valPerplexity: point.perplexity, ...(point.metrics ? { metrics: point.metrics } : {}) });
    return point;
  };
  // Early stop: evaluations since the best validation loss, counted over the whole history (so a resume continues the count).
  const sinceBest = (): number => {
    let best = Infinity;
    let since = 0;
    for (const p of history.val) {
      if (p.loss < best) {
        best = p.loss;
        since = 0;
      } else since++;
    }
    return since;
  };
  let stoppedEarly = false;

  let checkpointDir = lastSaved !== null ? join(runDir, "checkpoints", `step-${lastSaved}`) : "";
  while (step < settings.steps) {
    await new Promise<void>((r) => setImmediate(r)); // let Ctrl-C (the signal) through between steps
    if (signal?.aborted) {
      if (lastSaved !== step) await save();
      else await writeChart();
      throw new StrataError("ABORTED", `training stopped at step ${step} of ${settings.steps}; checkpoint step-${step} is saved in ${runDir}`, "continue it with --resume");
    }
    const ts = performance.now();
    const lr = learningRate(step, settings);
    // The same batches in the same order on every device; one host wait per step on the GPU.
    const batches: Batch[] = [];
    for (let micro = 0; micro < settings.gradAccum; micro++) {
      batches.push(source ? source.train(Math.round(data.samples / settings.batchSize)) : sampleBatch(ds, split.train, settings.batchSize, settings.blockSize, dataRng));
      data = { samples: data.samples + settings.batchSize, tokens: data.tokens + settings.batchSize * settings.blockSize };
    }
    const { losses, norm } = await stepper.accumulate(batches);
    let lossSum = 0;
    for (const l of losses) {
      if (!Number.isFinite(l)) throw diverged(step + 1, "loss", l, history.train, lastSaved);
      lossSum += l;
    }
    if (!Number.isFinite(norm)) throw diverged(step + 1, "gradient norm", norm, history.train, lastSaved);
    stepper.update(lr);
    step++;
    const ms = performance.now() - ts;
    trainMs += ms;
    recent.push(ms);
    if (recent.length > 20) recent.shift();
    const loss = lossSum / settings.gradAccum;
    history.train.push({ step, loss, lr });
    const rate = (recent.length * tokensPerStep) / (recent.reduce((a, b) => a + b, 0) / 1000);
    emit({ type: "step", step, steps: settings.steps, loss, lr, gradNorm: norm, tokensPerSecond: rate, elapsedMs: performance.now() - t0 });
    o.onProgress?.({ phase: "train", done: step, total: settings.steps });
    let evaluated = false;
    if (step % settings.evalInterval === 0 || step === settings.steps) {
      await evaluate();
      evaluated = true;
    }
    if (step % settings.checkpointInterval === 0 || step === settings.steps) checkpointDir = await save();
    if (evaluated && o.earlyStopPatience && sinceBest() >= o.earlyStopPatience) {
      stoppedEarly = true;
      emit({ type: "early-stop", step, bestValLoss: Math.min(...history.val.map((p) => p.loss)) });
      break;
    }
  }

  // ---- nothing left to do (resumed at or past the target) still reports the figures
  let last = history.val[history.val.length - 1];
  if (!last || last.step !== step) last = await evaluate();
  if (lastSaved !== step) checkpointDir = await save();
  else if (chartPath) await writeChart();
  return {
    runDir,
    steps: step,
    startStep,
    trainLoss: last.trainLoss ?? Number.NaN,
    valLoss: last.loss,
    valPerplexity: last.perplexity,
    tokensPerSecond: sessionRate(),
    checkpoint: checkpointDir,
    chart: chartPath,
    parameters: memory.parameters,
    model: config,
    settings,
    memory,
    dataset: source ? source.sizes : { tokens: ds.length, trainTokens: split.train.length, valTokens: split.val.length },
    elapsedMs: performance.now() - t0,
    ...(stoppedEarly ? { stoppedEarly } : {}),
  };
}
