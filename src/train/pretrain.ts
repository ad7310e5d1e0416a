// Pretraining: next-token prediction on raw text, nanoGPT's loop for Strata's llama.
//
//   for step = start … steps − 1:
//     lr ← schedule(step)
//     for each of gradAccum micro-batches:            B × T windows drawn from the training span
//       loss ← cross-entropy(model(ids), targets)    [B, T, V] logits → a scalar
//       backward(loss / gradAccum)                   gradients add up in .grad
//     clip the global gradient norm; AdamW update; zero the gradients
//     every evalInterval steps (and at the end): mean loss on evalBatches fixed batches of each span
//     every checkpointInterval steps (and at the end, and on abort): checkpoint + loss.html
//
// Exact resume: the only random choices after initialisation are the batch windows, drawn from one
// generator whose state is saved in each checkpoint with the weights and AdamW's moments (float32,
// bit-exact) and the step; evaluation uses its own freshly seeded generators. A resumed run therefore
// makes the same updates as an uninterrupted one (a test checks the loss curves are identical).
//
// With device "gpu" the same loop runs its steps and evaluations on the GPU (src/train/gpu over src/nn/gpu,
// loaded only then): the weights start from the same seeded initialisation (or the checkpoint, whichever
// device wrote it), live on the GPU during the run, and are downloaded into the CPU model and
// optimizer for each checkpoint, so the files are the same whichever device wrote them.

import { join, resolve } from "node:path";
import { mkdir } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { StrataError, isStrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import {
  type LossPoint, type RunConfig, type TrainState, type ValPoint, assertSameModel, cleanCheckpointLeftovers, latestStep, pruneCheckpoints, readCheckpoint,
  readRunConfig, writeCheckpoint, writeFileAtomic, writeRunConfig,
} from "../formats/checkpoint.js";
import { Llama, type LlamaConfig, validateConfig } from "../nn/index.js";
import { type DeviceName, Rng, noGrad } from "../tensor/index.js";
import { Tokenizer, loadTokenizer } from "../tokenizer/index.js";
import { renderLossChart } from "./chart.js";
import { clipGradNorm } from "./clip.js";
import { type Batch, type TokenDataset, type TokenRange, buildTokenDataset, sampleBatch, tokenizerHash } from "./dataset.js";
import type { GpuContext, GpuOptions } from "../nn/gpu/context.js";
import type { GpuTrainer } from "./gpu/trainer.js";
import { type MemoryEstimate, checkTrainingMemory } from "./memory.js";
import { AdamW, defaultDecay } from "./optimizer.js";
import type { ModelShape } from "./presets.js";
import { learningRate } from "./schedule.js";
import { type TrainSettings, resolveSettings } from "./settings.js";

export type TrainEvent =
  | { type: "dataset"; tokens: number; trainTokens: number; valTokens: number; reused: boolean }
  | { type: "start"; step: number; steps: number; parameters: number; memory: MemoryEstimate; resumedFrom: number | null; tokensPerStep: number; device: string }
  | { type: "step"; step: number; steps: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; elapsedMs: number }
  | { type: "eval"; step: number; trainLoss: number; valLoss: number; valPerplexity: number }
  | { type: "checkpoint"; step: number; dir: string };

export type TrainListener = (event: TrainEvent) => void;

export interface PretrainOptions extends LongOperationOptions {
  /** The run directory (created; see src/formats/checkpoint.ts for its layout). */
  runDir: string;
  /** UTF-8 text files. Required for a new run; on resume the run's token file is reused (and must match these when given). */
  data?: readonly string[];
  /** The model without `vocab` (taken from the tokenizer), or with it (must then equal it). Required for a new run; checked on resume. */
  model?: ModelShape | LlamaConfig;
  /** Default: raw bytes (256 + 5 special tokens). Ignored on resume unless it differs from the run's (an error). */
  tokenizer?: Tokenizer;
  /**
   * Training settings (defaults in settings.ts). On resume the run's own settings are kept; only
   * steps, evalInterval, evalBatches and checkpointInterval may be changed.
   */
  train?: Partial<TrainSettings>;
  /** Continue from the run's latest checkpoint. */
  resume?: boolean;
  /** Refuse configurations whose estimate exceeds this (default: 90% of RAM or the cgroup limit). */
  memoryLimitBytes?: number;
  /** Keep only the newest N checkpoints (default: all). */
  keepCheckpoints?: number;
  /** Write loss.html next to the run (default true). */
  chart?: boolean;
  onEvent?: TrainListener;
  /** Where steps and evaluations run: "cpu" (default) or "gpu" (WebGPU; docs/gpu.md). */
  device?: DeviceName;
  /** How the GPU is opened (default: WebGPU through Dawn; tests pass the WGSL interpreter). */
  gpu?: GpuOptions;
}

export interface PretrainResult {
  runDir: string;
  /** Steps done in all (the final checkpoint's step). */
  steps: number;
  /** The step this session started from (0 for a new run). */
  startStep: number;
  /** Mean loss over evalBatches training batches at the final evaluation. */
  trainLoss: number;
  valLoss: number;
  valPerplexity: number;
  /** Training tokens per second in this session (steps only, not evaluation or saving). */
  tokensPerSecond: number;
  /** The final checkpoint's directory. */
  checkpoint: string;
  /** loss.html, or null when disabled. */
  chart: string | null;
  parameters: number;
  model: LlamaConfig;
  settings: TrainSettings;
  memory: MemoryEstimate;
  dataset: { tokens: number; trainTokens: number; valTokens: number };
  elapsedMs: number;
}

const RESUME_CHANGEABLE = new Set<keyof TrainSettings>(["steps", "evalInterval", "evalBatches", "checkpointInterval"]);
const DATA_SEED_OFFSET = 0x5eed;
const EVAL_SEED_OFFSET = 0xe7a1;

function byteTokenizer(): Tokenizer {
  return new Tokenizer({ merges: [] });
}

function modelFrom(shape: ModelShape | LlamaConfig, vocab: number): LlamaConfig {
  if ("vocab" in shape && shape.vocab !== undefined && shape.vocab !== vocab) {
    throw new StrataError("INVALID_CONFIG", `the model config has vocab ${shape.vocab} but the tokenizer has ${vocab} tokens`, "leave vocab out of the model config (it is taken from the tokenizer) or set it to the tokenizer's size");
  }
  const config: LlamaConfig = { ...shape, vocab };
  validateConfig(config);
  return config;
}

/** Mean loss over `batches` batches of a span, drawn by a generator seeded afresh (same batches every time). */
async function estimateLoss(lossOf: (b: Batch) => number | Promise<number>, ds: TokenDataset, range: TokenRange, s: TrainSettings, seed: number): Promise<number> {
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

/** Trains (or resumes training) a llama on text files. See the file comment for the loop. */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const t0 = performance.now();
  const runDir = resolve(options.runDir);
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;
  const device = options.device ?? "cpu";

  // ---- the run: new, or resumed from its latest checkpoint
  let existing: RunConfig | null = null;
  try {
    existing = await readRunConfig(runDir);
  } catch (e) {
    const absent = isStrataError(e) && (e.code === "NOT_FOUND" || (e.code === "CHECKPOINT_INVALID" && /no run\.json/.test(e.message)));
    if (!absent) throw e;
  }
  if (options.resume && !existing) {
    throw new StrataError("NOT_FOUND", `there is no run to resume in ${runDir}`, "start it without --resume first");
  }
  if (!options.resume && existing) {
    throw new StrataError("USAGE", `${runDir} already holds a training run`, "continue it with --resume, or choose another --out folder");
  }

  let tokenizer: Tokenizer;
  let config: LlamaConfig;
  let settings: TrainSettings;
  if (existing) {
    tokenizer = await loadTokenizer(join(runDir, existing.tokenizer));
    if (options.tokenizer && tokenizerHash(options.tokenizer) !== tokenizerHash(tokenizer)) {
      throw new StrataError("STATE_DICT_MISMATCH", `the tokenizer given differs from the one the run in ${runDir} was started with`, "resume without --tokenizer/--vocab (the run keeps its own tokenizer)");
    }
    config = existing.model;
    if (options.model) assertSameModel(runDir, config, modelFrom(options.model, config.vocab));
    const stored = resolveSettings(existing.train as Partial<TrainSettings>, config.maxSeq);
    for (const [k, v] of Object.entries(options.train ?? {}) as Array<[keyof TrainSettings, number | undefined]>) {
      if (v === undefined || RESUME_CHANGEABLE.has(k) || stored[k] === v) continue;
      throw new StrataError("INVALID_CONFIG", `the run was started with ${k} ${stored[k]}; a resumed run keeps its settings (got ${v})`, `leave ${k} out when resuming; only ${[...RESUME_CHANGEABLE].join(", ")} may change`);
    }
    const changes = Object.fromEntries([...RESUME_CHANGEABLE].filter((k) => options.train?.[k] !== undefined).map((k) => [k, options.train![k]]));
    settings = resolveSettings({ ...stored, ...changes }, config.maxSeq);
  } else {
    if (!options.model) throw new StrataError("USAGE", "a new run needs a model configuration", "pass a preset (tiny, small) or a config file");
    tokenizer = options.tokenizer ?? byteTokenizer();
    config = modelFrom(options.model, tokenizer.vocabSize);
    settings = resolveSettings(options.train ?? {}, config.maxSeq);
  }

  // ---- refuse before allocating anything large
  const memory = checkTrainingMemory(config, { batch: settings.batchSize, block: settings.blockSize }, options.memoryLimitBytes);

  // ---- the GPU, opened before anything is written, so a machine without one leaves no run behind
  let gpuCtx: GpuContext | null = null;
  if (device === "gpu") {
    const { checkGpuSupport, gpuOpener } = await import("../nn/gpu/index.js");
    checkGpuSupport(config);
    gpuCtx = await gpuOpener(options.gpu)();
  }

  // ---- the token dataset
  const dataDir = join(runDir, "data");
  let files = options.data ? [...options.data] : [];
  let built: Awaited<ReturnType<typeof buildTokenDataset>>;
  try {
    if (files.length === 0) {
      const stored = (existing?.train as { data?: unknown } | undefined)?.data;
      if (Array.isArray(stored) && stored.every((x) => typeof x === "string")) files = stored;
      else throw new StrataError("USAGE", "no training data given", "name one or more UTF-8 text files with --data");
    }
    await mkdir(dataDir, { recursive: true });
    built = await buildTokenDataset(files, tokenizer, dataDir, { ...(signal ? { signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  } catch (e) {
    gpuCtx?.close();
    throw e;
  }
  const { dataset: ds, reused } = built;
  try {
    const split = ds.split(settings.valFraction);
    emit({ type: "dataset", tokens: ds.length, trainTokens: split.train.length, valTokens: split.val.length, reused });
    const need = settings.blockSize + 1;
    if (split.train.length < need || split.val.length < need) {
      throw new StrataError(
        "USAGE",
        `the training text is too short: ${ds.length} tokens give ${split.train.length} for training and ${split.val.length} for validation, and a block of ${settings.blockSize} needs ${need} in each`,
        "give more text, or a smaller block size (--block)",
      );
    }
    if (existing && options.resume && !reused) {
      // Rebuilt from other files than the run used: batches would differ. Only allowed when the
      // token stream is the same length (e.g. the files were touched but not changed).
      const before = (existing.train as { dataTokens?: unknown }).dataTokens;
      if (typeof before === "number" && before !== ds.length) {
        throw new StrataError("USAGE", `the training data changed since the run started (${before} tokens then, ${ds.length} now)`, "resume with the files the run was started with, or start a new run");
      }
    }

    // ---- run.json (new runs; resumed runs record changed settings)
    const trainJson = { ...settings, data: files.map((f) => resolve(f)), dataTokens: ds.length };
    await writeRunConfig(runDir, { model: config, train: trainJson, createdAt: existing?.createdAt ?? new Date().toISOString() }, existing ? undefined : tokenizer);
    await cleanCheckpointLeftovers(runDir);

    // ---- model, optimizer, sampler; restored from the checkpoint on resume
    const model = new Llama(config, { seed: settings.seed });
    const params = model.namedParameters().map(([name, tensor]) => ({ name, tensor, decay: defaultDecay(name, tensor) }));
    const opt = new AdamW(params, { lr: settings.lr, beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay });
    const dataRng = new Rng(settings.seed + DATA_SEED_OFFSET);
    let step = 0;
    let history: { train: LossPoint[]; val: ValPoint[] } = { train: [], val: [] };
    let data = { samples: 0, tokens: 0 };
    let elapsedBefore = 0;
    let resumedFrom: number | null = null;
    let lastSaved: number | null = null;
    if (existing && (await latestStep(runDir)) !== null) {
      const ck = await readCheckpoint(runDir, { optimizer: true });
      model.loadStateDict(ck.stateDict);
      if (!ck.optimizer) throw new StrataError("CHECKPOINT_INVALID", `checkpoint ${ck.dir} has no optimizer state`, "resume from another step or start again");
      opt.loadState(ck.optimizer.tensors, ck.optimizer.metadata);
      if (opt.stepCount !== ck.step) throw new StrataError("CHECKPOINT_INVALID", `checkpoint ${ck.dir}: the optimizer took ${opt.stepCount} steps but the checkpoint is of step ${ck.step}`, "resume from another step or start again");
      dataRng.setState(ck.state.rng);
      step = ck.step;
      history = { train: [...ck.state.history.train], val: [...ck.state.history.val] };
      data = { ...ck.state.data };
      elapsedBefore = ck.state.elapsedMs;
      resumedFrom = ck.step;
      lastSaved = ck.step;
    }
    // ---- on the GPU: weights and moments uploaded from the CPU copies above
    const gpu: GpuTrainer<unknown> | null = gpuCtx ? new (await import("./gpu/index.js")).GpuTrainer(gpuCtx, model, opt, settings.gradClip) : null;
    try {
      const startStep = step;
      const tokensPerStep = settings.batchSize * settings.blockSize * settings.gradAccum;
      emit({ type: "start", step, steps: settings.steps, parameters: memory.parameters, memory, resumedFrom, tokensPerStep, device });

      const chartPath = options.chart === false ? null : join(runDir, "loss.html");
      let trainMs = 0;
      const recent: number[] = []; // ms of the last steps, for the tokens/s of step events
      const facts = (): Array<[string, string]> => [
        ["Run", runDir],
        ["Model", `llama · ${config.layers} layers · ${config.heads} heads (${config.kvHeads} kv) · width ${config.dim} · ffn ${config.ffnDim} · vocab ${config.vocab} · ${memory.parameters.toLocaleString("en-US")} parameters`],
        ["Training", `batch ${settings.batchSize} × block ${settings.blockSize} × accum ${settings.gradAccum} · lr ${settings.lr} → ${settings.minLr} (warm-up ${settings.warmupSteps}, cosine to ${settings.decaySteps}) · AdamW β ${settings.beta1}/${settings.beta2}, wd ${settings.weightDecay} · clip ${settings.gradClip}`],
        ["Data", `${files.join(", ")} · ${ds.length.toLocaleString("en-US")} tokens (${split.val.length.toLocaleString("en-US")} held out)`],
      ];
      const sessionRate = (): number => (trainMs > 0 ? ((step - startStep) * tokensPerStep) / (trainMs / 1000) : 0);
      const writeChart = async (): Promise<void> => {
        if (!chartPath) return;
        await writeFileAtomic(chartPath, renderLossChart({ title: `Pretraining: ${runDir.split("/").pop() ?? runDir}`, history, steps: settings.steps, facts: facts(), tokensPerSecond: sessionRate() }));
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
        if (gpu) await gpu.downloadInto(model);
        const { dir } = await writeCheckpoint(runDir, { stateDict: model.stateDict({ copy: false }), optimizer: { tensors: opt.stateTensors(), metadata: opt.stateMetadata() }, state });
        lastSaved = step;
        if (options.keepCheckpoints) await pruneCheckpoints(runDir, options.keepCheckpoints);
        await writeChart();
        emit({ type: "checkpoint", step, dir });
        return dir;
      };
      const cpuLoss = (b: Batch): number => noGrad(() => model.loss(b.ids, b.targets, b.shape).loss.item());
      const lossOf = gpu ? (b: Batch) => gpu.loss(b) : cpuLoss;
      const evaluate = async (): Promise<ValPoint> => {
        const trainLoss = await estimateLoss(lossOf, ds, split.train, settings, settings.seed + EVAL_SEED_OFFSET);
        const valLoss = await estimateLoss(lossOf, ds, split.val, settings, settings.seed + EVAL_SEED_OFFSET + 1);
        const point: ValPoint = { step, loss: valLoss, perplexity: Math.exp(valLoss), trainLoss };
        history.val.push(point);
        emit({ type: "eval", step, trainLoss, valLoss, valPerplexity: point.perplexity });
        return point;
      };

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
        let lossSum = 0;
        let norm: number;
        if (gpu) {
          // The same batches in the same order as the CPU path draws them; one host wait per step.
          const batches: Batch[] = [];
          for (let micro = 0; micro < settings.gradAccum; micro++) {
            batches.push(sampleBatch(ds, split.train, settings.batchSize, settings.blockSize, dataRng));
            data = { samples: data.samples + settings.batchSize, tokens: data.tokens + settings.batchSize * settings.blockSize };
          }
          const r = await gpu.accumulate(batches);
          for (const l of r.losses) {
            if (!Number.isFinite(l)) throw diverged(step + 1, "loss", l, history.train, lastSaved);
            lossSum += l;
          }
          norm = r.norm;
          if (!Number.isFinite(norm)) throw diverged(step + 1, "gradient norm", norm, history.train, lastSaved);
          gpu.update(lr);
        } else {
          opt.zeroGrad();
          for (let micro = 0; micro < settings.gradAccum; micro++) {
            const b = sampleBatch(ds, split.train, settings.batchSize, settings.blockSize, dataRng);
            data = { samples: data.samples + settings.batchSize, tokens: data.tokens + settings.batchSize * settings.blockSize };
            const { loss } = model.loss(b.ids, b.targets, b.shape);
            const l = loss.item();
            if (!Number.isFinite(l)) throw diverged(step + 1, "loss", l, history.train, lastSaved);
            loss.backward(Float32Array.of(1 / settings.gradAccum));
            lossSum += l;
          }
          norm = clipGradNorm(opt.params.map((p) => p.tensor), settings.gradClip).norm;
          if (!Number.isFinite(norm)) throw diverged(step + 1, "gradient norm", norm, history.train, lastSaved);
          opt.step(lr);
          opt.zeroGrad();
        }
        step++;
        const ms = performance.now() - ts;
        trainMs += ms;
        recent.push(ms);
        if (recent.length > 20) recent.shift();
        const loss = lossSum / settings.gradAccum;
        history.train.push({ step, loss, lr });
        const rate = (recent.length * tokensPerStep) / (recent.reduce((a, b) => a + b, 0) / 1000);
        emit({ type: "step", step, steps: settings.steps, loss, lr, gradNorm: norm, tokensPerSecond: rate, elapsedMs: performance.now() - t0 });
        options.onProgress?.({ phase: "train", done: step, total: settings.steps });
        if (step % settings.evalInterval === 0 || step === settings.steps) await evaluate();
        if (step % settings.checkpointInterval === 0 || step === settings.steps) checkpointDir = await save();
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
        dataset: { tokens: ds.length, trainTokens: split.train.length, valTokens: split.val.length },
        elapsedMs: performance.now() - t0,
      };
    } finally {
      gpu?.release();
    }
  } finally {
    gpuCtx?.close();
    ds.close();
  }
}
