// Opening a training run (the part of src/train/pretrain.ts before the loop): a new run or the
// latest checkpoint of an existing one, its settings (a resumed run keeps its own), the memory check,
// the GPU (opened before anything is written), the token dataset, run.json, and the model, AdamW and
// batch generator restored bit-exactly from the checkpoint.

import { join, resolve } from "node:path";
import { mkdir } from "node:fs/promises";
import { StrataError, isStrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import {
  type LossPoint, type RunConfig, type ValPoint, assertSameModel, cleanCheckpointLeftovers, latestStep, readCheckpoint, readRunConfig, writeRunConfig,
} from "../formats/checkpoint.js";
import type { AdapterState } from "../formats/checkpoint.js";
import type { GpuContext, GpuOptions } from "../nn/gpu/context.js";
import type { BatchSource } from "./dataset.js";
import { Llama, type LlamaConfig, validateConfig } from "../nn/index.js";
import { type DeviceName, Rng } from "../tensor/index.js";
import { Tokenizer, loadTokenizer } from "../tokenizer/index.js";
import { type TokenDataset, type TokenRange, buildTokenDataset, tokenizerHash } from "./dataset.js";
import { type MemoryEstimate, checkTrainingMemory } from "./memory.js";
import { AdamW, defaultDecay } from "./optimizer.js";
import type { ModelShape } from "./presets.js";
import { type TrainSettings, resolveSettings } from "./settings.js";

export type TrainEvent =
  | { type: "dataset"; tokens: number; trainTokens: number; valTokens: number; reused: boolean }
  | { type: "start"; step: number; steps: number; parameters: number; memory: MemoryEstimate; resumedFrom: number | null; tokensPerStep: number; device: string }
  | { type: "step"; step: number; steps: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; elapsedMs: number }
  | { type: "eval"; step: number; trainLoss: number; valLoss: number; valPerplexity: number; metrics?: Record<string, number> }
  | { type: "early-stop"; step: number; bestValLoss: number }
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
  /** Set when validation loss stopped improving before the last step. */
  stoppedEarly?: boolean;
}

const RESUME_CHANGEABLE = new Set<keyof TrainSettings>(["steps", "evalInterval", "evalBatches", "checkpointInterval"]);
const DATA_SEED_OFFSET = 0x5eed;

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

/** An opened run: everything the loop needs, restored from the latest checkpoint when resumed. */
export interface OpenedRun {
  runDir: string;
  /** The run's run.json before this session (null for a new run). */
  existing: RunConfig | null;
  config: LlamaConfig;
  settings: TrainSettings;
  memory: MemoryEstimate;
  /** The training text files (absolute or as given). */
  files: string[];
  ds: TokenDataset;
  split: { train: TokenRange; val: TokenRange };
  model: Llama;
  opt: AdamW;
  /** The generator of the training batches (its state is part of every checkpoint). */
  dataRng: Rng;
  /** Where the run stands: step 0 and empty histories for a new run. */
  step: number;
  history: { train: LossPoint[]; val: ValPoint[] };
  data: { samples: number; tokens: number };
  elapsedBefore: number;
  resumedFrom: number | null;
  lastSaved: number | null;
  /** The GPU, opened when the run asked for it. */
  gpuCtx: GpuContext | null;
  /** Fine-tuning: the batches (pretraining samples windows of `ds`). */
  source?: BatchSource;
  /** Fine-tuning with LoRA: the adapter to save in each checkpoint. */
  adapterState?: () => AdapterState;
  /** Closes the dataset and the GPU. */
  close(): void;
}

/** Opens (or resumes) the run of `options`; see the file comment. The caller closes it. */
export async function openRun(options: PretrainOptions, emit: TrainListener): Promise<OpenedRun> {
  const runDir = resolve(options.runDir);
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
    return {
      runDir, existing, config, settings, memory, files, ds, split, model, opt, dataRng, step, history, data, elapsedBefore, resumedFrom, lastSaved, gpuCtx,
      close: () => {
        gpuCtx?.close();
        ds.close();
      },
    };
  } catch (e) {
    gpuCtx?.close();
    ds.close();
    throw e;
  }
}
