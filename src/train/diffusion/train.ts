// Training the diffusion transformer (src/nn/diffusion) on Fashion-MNIST, with the pieces of the
// language-model trainer: AdamW, the warm-up + cosine learning-rate schedule, global-norm clipping,
// the loss chart, and checkpoints that resume exactly (weights, moments, the batch generator's state).
//
//   for step = start … steps − 1:
//     batch ← B images, prompt rows (null with p = condDropout), timesteps, noise   (one generator)
//     loss ← MSE(ε̂(√ᾱ_t x0 + √(1−ᾱ_t) ε, t, row), ε); backward; clip; AdamW(lr(step))
//     every evalInterval: mean loss on fixed batches of the training and the test split
//     every checkpointInterval (and at the end, and on abort): checkpoint, loss.html, samples/step-N.png
//
// The step itself is a DiffusionStepper (the device half, as src/train/stepper.ts is for text); the
// language-model loop draws token windows, so this file keeps its own loop around the same parts.

import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { StrataError, isStrataError } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import { type DiffusionRun, type DiffusionState, type DiffusionValPoint, readDiffusionCheckpoint, readDiffusionRun, writeDiffusionCheckpoint, writeDiffusionRun } from "../../formats/diffusion-run.js";
import { cleanCheckpointLeftovers, latestStep, pruneCheckpoints } from "../../formats/checkpoint.js";
import { FASHION_CLASSES, FASHION_MNIST_DIR, readFashionMnist } from "../../formats/idx.js";
import { encodeGreyGrid } from "../../formats/png.js";
import { DiT, FASHION_PROMPTS, noiseImages, noiseSchedule, promptTable, sampleImages } from "../../nn/diffusion/index.js";
import { Rng, noGrad, tensor } from "../../tensor/index.js";
import { renderLossChart } from "../chart.js";
import { clipGradNorm } from "../clip.js";
import { AdamW } from "../optimizer.js";
import { learningRate } from "../schedule.js";
import { type BatchSource, type DiffusionBatch, drawBatch, rowsByClass } from "./data.js";
import { type DiffusionSettings, type DitShape, resolveDiffusionSettings } from "./settings.js";

export type DiffusionEvent =
  | { type: "dataset"; train: number; test: number; dir: string }
  | { type: "start"; step: number; steps: number; parameters: number; resumedFrom: number | null; imagesPerStep: number }
  | { type: "step"; step: number; steps: number; loss: number; lr: number; gradNorm: number; imagesPerSecond: number; elapsedMs: number }
  | { type: "eval"; step: number; trainLoss: number; valLoss: number }
  | { type: "checkpoint"; step: number; dir: string; samples: string | null };

export interface DiffusionTrainOptions extends LongOperationOptions {
  runDir: string;
  /** The Fashion-MNIST folder (default: Debian's). */
  dataDir?: string;
  /** Required for a new run; checked against run.json on resume. */
  model?: DitShape;
  /** On resume only steps, evalInterval, evalBatches, checkpointInterval and sampleSteps may change. */
  train?: Partial<DiffusionSettings>;
  resume?: boolean;
  keepCheckpoints?: number;
  onEvent?: (e: DiffusionEvent) => void;
}

export interface DiffusionTrainResult {
  runDir: string;
  steps: number;
  startStep: number;
  trainLoss: number;
  valLoss: number;
  imagesPerSecond: number;
  checkpoint: string;
  chart: string;
  samples: string | null;
  parameters: number;
  elapsedMs: number;
}

/** The device half of a step, as src/train/stepper.ts's Stepper is for text (CPU autograd here). */
export interface DiffusionStepper {
  accumulate(batch: DiffusionBatch): { loss: number; norm: number };
  update(lr: number): void;
  loss(batch: DiffusionBatch): number;
}

export function cpuDiffusionStepper(model: DiT, opt: AdamW, gradClip: number): DiffusionStepper {
  const { alphaBar } = noiseSchedule(model.config.schedule, model.config.timesteps);
  const c = model.config;
  const lossOf = (b: DiffusionBatch) => {
    const per = c.channels * c.image * c.image;
    const shape = [b.size, c.channels, c.image, c.image];
    const xt = noiseImages(b.x0, b.noise, b.t, alphaBar, per);
    return model.loss(tensor(xt, shape), b.t, b.rows, tensor(b.noise, shape));
  };
  return {
    accumulate(b) {
      opt.zeroGrad();
      const loss = lossOf(b);
      const l = loss.item();
      if (!Number.isFinite(l)) return { loss: l, norm: Number.NaN };
      loss.backward();
      return { loss: l, norm: clipGradNorm(opt.params.map((p) => p.tensor), gradClip).norm };
    },
    update(lr) {
      opt.step(lr);
      opt.zeroGrad();
    },
    loss: (b) => noGrad(() => lossOf(b).item()),
  };
}

const RESUME_CHANGEABLE = new Set(["steps", "evalInterval", "evalBatches", "checkpointInterval", "sampleSteps"]);
const DATA_SEED_OFFSET = 0x5eed;
const EVAL_SEED_OFFSET = 0xe7a1;

/** Trains (or resumes) the run in options.runDir; see the file comment. */
export async function trainDiffusion(options: DiffusionTrainOptions): Promise<DiffusionTrainResult> {
  const t0 = performance.now();
  const runDir = resolve(options.runDir);
  const emit = options.onEvent ?? (() => {});
  let existing: DiffusionRun | null = null;
  try {
    existing = await readDiffusionRun(runDir);
  } catch (e) {
    if (!(isStrataError(e) && e.code === "NOT_FOUND")) throw e;
  }
  if (options.resume && !existing) throw new StrataError("NOT_FOUND", `there is no diffusion run to resume in ${runDir}`, "start it without --resume first");
  if (!options.resume && existing) throw new StrataError("USAGE", `${runDir} already holds a training run`, "continue it with --resume, or choose another --out folder");

  let run: DiffusionRun;
  let settings: DiffusionSettings;
  const dataDir = resolve(options.dataDir ?? ((existing?.train as { data?: string } | undefined)?.data ?? FASHION_MNIST_DIR));
  if (existing) {
    const stored = resolveDiffusionSettings(existing.train as Partial<DiffusionSettings>);
    for (const [k, v] of Object.entries(options.train ?? {})) {
      if (v === undefined || RESUME_CHANGEABLE.has(k) || stored[k as keyof DiffusionSettings] === v) continue;
      throw new StrataError("INVALID_CONFIG", `the run was started with ${k} ${stored[k as keyof DiffusionSettings]}; a resumed run keeps its settings (got ${v})`, `leave ${k} out when resuming; only ${[...RESUME_CHANGEABLE].join(", ")} may change`);
    }
    if (options.model) {
      const diff = Object.keys(options.model).filter((k) => (options.model as Record<string, unknown>)[k] !== (existing!.model as Record<string, unknown>)[k]);
      if (diff.length) throw new StrataError("STATE_DICT_MISMATCH", `the run in ${runDir} has another model (${diff.join(", ")} differ)`, "resume without --config, or start a new run");
    }
    const changes = Object.fromEntries(Object.entries(options.train ?? {}).filter(([k, v]) => v !== undefined && RESUME_CHANGEABLE.has(k)));
    settings = resolveDiffusionSettings({ ...stored, ...changes });
    run = existing;
  } else {
    if (!options.model) throw new StrataError("USAGE", "a new run needs a model configuration", "pass a preset: --config fashion");
    settings = resolveDiffusionSettings(options.train ?? {});
    const { prompts, classOf } = promptTable(FASHION_PROMPTS);
    run = { format: "strata-diffusion-run", version: 1, kind: "diffusion", model: { ...options.model, prompts: prompts.length }, prompts, classOf, classes: [...FASHION_CLASSES], train: {} };
  }

  // Data first: a missing dataset leaves no run folder behind.
  const train = await readFashionMnist("train", dataDir);
  const test = await readFashionMnist("t10k", dataDir);
  if (train.rows !== run.model.image || train.cols !== run.model.image) {
    throw new StrataError("INVALID_CONFIG", `the images in ${dataDir} are ${train.rows}×${train.cols}, the model takes ${run.model.image}×${run.model.image}`, "use a model config with image equal to the data's side");
  }
  emit({ type: "dataset", train: train.count, test: test.count, dir: dataDir });
  run = await writeDiffusionRun(runDir, { ...run, train: { ...settings, data: dataDir }, createdAt: existing?.createdAt ?? new Date().toISOString() });
  await cleanCheckpointLeftovers(runDir);

  const model = new DiT(run.model, { seed: settings.seed });
  const named = model.namedParameters();
  const opt = new AdamW(named.map(([name, t]) => ({ name, tensor: t, decay: t.ndim >= 2 && !name.includes("embed") })), { lr: settings.lr, beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay });
  const dataRng = new Rng(settings.seed + DATA_SEED_OFFSET);
  let step = 0;
  let history: DiffusionState["history"] = { train: [], val: [] };
  let samplesSeen = 0;
  let elapsedBefore = 0;
  let resumedFrom: number | null = null;
  let lastSaved: number | null = null;
  if (existing && (await latestStep(runDir)) !== null) {
    const ck = await readDiffusionCheckpoint(runDir, named.map(([n, t]) => [n, [...t.shape]]), { optimizer: true });
    model.loadStateDict(ck.stateDict);
    opt.loadState(ck.optimizer!.tensors, ck.optimizer!.metadata);
    dataRng.setState(ck.state.rng);
    step = ck.step;
    history = { train: [...ck.state.history.train], val: [...ck.state.history.val] };
    samplesSeen = ck.state.data.samples;
    elapsedBefore = ck.state.elapsedMs;
    resumedFrom = lastSaved = ck.step;
  }

  const stepper = cpuDiffusionStepper(model, opt, settings.gradClip);
  const trainSrc: BatchSource = { set: train, rowsOfClass: rowsByClass(run.classOf, run.classes.length), nullRow: model.nullRow, timesteps: run.model.timesteps };
  const testSrc: BatchSource = { ...trainSrc, set: test };
  const startStep = step;
  emit({ type: "start", step, steps: settings.steps, parameters: model.numParameters(), resumedFrom, imagesPerStep: settings.batchSize });

  const chartPath = join(runDir, "loss.html");
  let trainMs = 0;
  const rate = (): number => (trainMs > 0 ? ((step - startStep) * settings.batchSize) / (trainMs / 1000) : 0);
  const writeChart = () =>
    writeFileAtomic(chartPath, renderLossChart({
      title: `Diffusion training: ${runDir.split("/").pop() ?? runDir}`,
      history: { train: history.train, val: history.val.map((v) => ({ step: v.step, loss: v.loss, perplexity: Number.NaN, trainLoss: v.trainLoss })) },
      steps: settings.steps,
      facts: [
        ["Run", runDir],
        ["Model", `DiT · ${run.model.depth} blocks · ${run.model.heads} heads · width ${run.model.dim} · ${run.model.patch}×${run.model.patch} patches · ${run.model.schedule} schedule of ${run.model.timesteps} · ${model.numParameters().toLocaleString("en-US")} parameters`],
        ["Training", `batch ${settings.batchSize} · lr ${settings.lr} → ${settings.minLr} (warm-up ${settings.warmupSteps}) · condition dropout ${settings.condDropout} · clip ${settings.gradClip}`],
        ["Data", `${dataDir} · ${train.count} training images; the validation loss is on the test split · loss = noise-prediction MSE`],
      ],
    }));
  const estimate = (src: BatchSource, seed: number): number => {
    const rng = new Rng(seed);
    let sum = 0;
    for (let i = 0; i < settings.evalBatches; i++) sum += stepper.loss(drawBatch(src, settings.batchSize, rng, 0));
    return sum / settings.evalBatches;
  };
  const evaluate = (): DiffusionValPoint => {
    const p = { step, trainLoss: estimate(trainSrc, settings.seed + EVAL_SEED_OFFSET), loss: estimate(testSrc, settings.seed + EVAL_SEED_OFFSET + 1) };
    history.val.push(p);
    emit({ type: "eval", step, trainLoss: p.trainLoss, valLoss: p.loss });
    return p;
  };
  const save = async (): Promise<string> => {
    const state: DiffusionState = { step, rng: dataRng.state(), data: { samples: samplesSeen }, lr: history.train.at(-1)?.lr ?? learningRate(0, settings), history, elapsedMs: elapsedBefore + (performance.now() - t0) };
    const dir = await writeDiffusionCheckpoint(runDir, { stateDict: model.stateDict({ copy: false }), optimizer: { tensors: opt.stateTensors(), metadata: opt.stateMetadata() }, state });
    lastSaved = step;
    if (options.keepCheckpoints) await pruneCheckpoints(runDir, options.keepCheckpoints);
    let samples: string | null = null;
    if (settings.sampleSteps > 0) {
      // One image per class (its first phrasing), the same seeds every time, so the grids show the run improving.
      const rows = run.classes.map((_, c) => run.classOf.indexOf(c));
      const px = sampleImages(model, { rows, seeds: rows.map((_, i) => i), steps: Math.min(settings.sampleSteps, run.model.timesteps), guidance: 3 });
      samples = join(runDir, "samples", `step-${step}.png`);
      await mkdir(join(runDir, "samples"), { recursive: true });
      await writeFileAtomic(samples, encodeGreyGrid(px, rows.length, run.model.image, rows.length, 2));
    }
    await writeChart();
    emit({ type: "checkpoint", step, dir, samples });
    return dir;
  };

  let checkpoint = lastSaved !== null ? join(runDir, "checkpoints", `step-${lastSaved}`) : "";
  const recent: number[] = [];
  while (step < settings.steps) {
    await new Promise<void>((r) => setImmediate(r)); // let Ctrl-C through between steps
    if (options.signal?.aborted) {
      if (lastSaved !== step) await save();
      throw new StrataError("ABORTED", `training stopped at step ${step} of ${settings.steps}; checkpoint step-${step} is saved in ${runDir}`, "continue it with --resume");
    }
    const ts = performance.now();
    const lr = learningRate(step, settings);
    const batch = drawBatch(trainSrc, settings.batchSize, dataRng, settings.condDropout);
    samplesSeen += batch.size;
    const { loss, norm } = stepper.accumulate(batch);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      throw new StrataError("TRAINING_DIVERGED", `training diverged at step ${step + 1}: the ${Number.isFinite(loss) ? "gradient norm" : "loss"} is ${Number.isFinite(loss) ? norm : loss}`, `lower the learning rate${lastSaved !== null ? `; the last good checkpoint is step ${lastSaved} (--resume continues from it)` : ""}`);
    }
    stepper.update(lr);
    step++;
    const ms = performance.now() - ts;
    trainMs += ms;
    recent.push(ms);
    if (recent.length > 20) recent.shift();
    history.train.push({ step, loss, lr });
    emit({ type: "step", step, steps: settings.steps, loss, lr, gradNorm: norm, imagesPerSecond: (recent.length * settings.batchSize) / (recent.reduce((a, b) => a + b, 0) / 1000), elapsedMs: performance.now() - t0 });
    options.onProgress?.({ phase: "train", done: step, total: settings.steps });
    if (step % settings.evalInterval === 0 || step === settings.steps) evaluate();
    if (step % settings.checkpointInterval === 0 || step === settings.steps) checkpoint = await save();
  }
  let last = history.val.at(-1);
  if (!last || last.step !== step) last = evaluate();
  if (lastSaved !== step) checkpoint = await save();
  const samples = settings.sampleSteps > 0 ? join(runDir, "samples", `step-${step}.png`) : null;
  return {
    runDir, steps: step, startStep, trainLoss: last.trainLoss, valLoss: last.loss, imagesPerSecond: rate(), checkpoint, chart: chartPath, samples,
    parameters: model.numParameters(), elapsedMs: performance.now() - t0,
  };
}
