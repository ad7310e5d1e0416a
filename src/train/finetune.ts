// Fine-tuning: supervised (SFT) and preference (DPO), with every weight trained ("full") or a LoRA
// adapter on a frozen base ("lora"), through the one training loop (loop.ts) with a fine-tuning
// stepper (finetune-steppers.ts) and a BatchSource over the encoded examples (sft-data.ts).
//
// A run directory is an ordinary run (src/formats/checkpoint.ts): run.json holds the base's model
// config and, under train.finetune, the objective, method, base, data and LoRA settings;
// model.safetensors holds the model weights (for LoRA, the frozen base) and adapter.safetensors the
// adapter. A resume restores weights, adapter, AdamW and the position in the example stream, so it
// continues exactly as an uninterrupted run would.
import { performance } from "node:perf_hooks";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { StrataError, isStrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { type LossPoint, type RunConfig, type ValPoint, cleanCheckpointLeftovers, latestStep, readCheckpoint, readRunConfig, writeRunConfig } from "../formats/checkpoint.js";
import { readInstructionDataset } from "../formats/instruction-data.js";
import { DEFAULT_LORA, Llama, type LoraModel, type LoraOptions, attachLora } from "../nn/index.js";
import { Rng } from "../tensor/index.js";
import { loadTokenizer } from "../tokenizer/index.js";
import { type FinetuneBase, loadFinetuneBase } from "./finetune-base.js";
import { DpoStepper, type SeqBatch, SftStepper } from "./finetune-steppers.js";
import { type BatchSource, trainLoop } from "./loop.js";
import { checkTrainingMemory } from "./memory.js";
import { AdamW, defaultDecay } from "./optimizer.js";
import type { PretrainResult, TrainListener } from "./run.js";
import { type EncodedSummary, type Row, encodePreference, encodeSft, epochOrder, stackRows } from "./sft-data.js";
import { type TrainSettings, resolveSettings } from "./settings.js";

export type FinetuneObjective = "sft" | "dpo";
export type FinetuneMethod = "full" | "lora";

export interface FinetuneOptions extends LongOperationOptions {
  runDir: string;
  objective: FinetuneObjective;
  /** New runs: builtin:<run dir>, gguf:<file> or a plain path. */
  base?: string;
  /** New runs: the JSONL/JSON dataset. A resume re-reads the run's own. */
  data?: string;
  method?: FinetuneMethod;
  lora?: Partial<Omit<LoraOptions, "seed">>;
  /** Passes over the training examples (default 3); sets `steps` unless given. */
  epochs?: number;
  train?: Partial<TrainSettings>;
  overlong?: "truncate" | "drop";
  pack?: boolean;
  /** DPO's β (default 0.1). */
  beta?: number;
  /** Stop after this many evaluations without a better validation loss (0 = never). */
  earlyStopPatience?: number;
  resume?: boolean;
  chart?: boolean;
  keepCheckpoints?: number;
  onEvent?: (e: FinetuneEvent) => void;
}

export type FinetuneEvent = Parameters<TrainListener>[0] | { type: "examples"; summary: EncodedSummary; trainable: number; total: number };

export interface FinetuneResult extends PretrainResult {
  objective: FinetuneObjective;
  method: FinetuneMethod;
  examples: EncodedSummary;
  /** Parameters the optimizer trains (the adapters' for LoRA). */
  trainable: number;
  /** The held-out figures of the last evaluation (DPO: rewardMargin, accuracy, …). */
  metrics?: Record<string, number>;
}

/** run.json's train.finetune. */
interface FinetuneRecord {
  objective: FinetuneObjective;
  method: FinetuneMethod;
  base: string;
  data: string;
  epochs: number;
  overlong: "truncate" | "drop";
  pack: boolean;
  beta: number;
  earlyStopPatience: number;
  lora?: Omit<LoraOptions, "seed">;
}

const RESUME_CHANGEABLE = new Set<keyof TrainSettings>(["steps", "evalInterval", "evalBatches", "checkpointInterval"]);

function defaults(method: FinetuneMethod, maxSeq: number): Partial<TrainSettings> {
  return { batchSize: 4, blockSize: Math.min(maxSeq, 256), lr: method === "lora" ? 2e-4 : 2e-5, warmupSteps: 0, weightDecay: 0, gradClip: 1, evalBatches: 8, valFraction: 0.1, seed: 1337 };
}

/** Rows of B (chosen then rejected for DPO) → a BatchSource whose micro-batch k is fixed by k alone. */
function batchSource(rows: { train: Row[][]; val: Row[][] }, B: number, s: TrainSettings, summary: EncodedSummary): BatchSource {
  const order = epochOrder(rows.train.length, s.seed);
  const toBatch = (items: Row[][]): Batch2 => {
    const width = items[0]!.length;
    const ordered: Row[] = [];
    for (let j = 0; j < width; j++) for (const it of items) ordered.push(it[j]!);
    return stackRows(ordered);
  };
  type Batch2 = ReturnType<typeof stackRows>;
  const chunks = (items: Row[][], cap: number): Batch2[] => {
    const out: Batch2[] = [];
    for (let i = 0; i < items.length && out.length < cap; i += B) out.push(toBatch(items.slice(i, i + B)));
    return out;
  };
  const T = s.blockSize;
  return {
    train: (k: number): SeqBatch => ({ ...toBatch(Array.from({ length: B }, (_, i) => rows.train[order(k * B + i)]!)), seq: k }),
    evalBatches: () => ({ train: chunks(rows.train, s.evalBatches), val: chunks(rows.val, s.evalBatches) }),
    describe: `${summary.train} training and ${summary.val} validation examples (${summary.truncated} truncated, ${summary.droppedOverlong + summary.droppedEmpty} dropped${summary.packed ? ", packed" : ""}) · ${summary.trainedTokens.toLocaleString("en-US")} answer tokens`,
    sizes: { tokens: summary.tokens, trainTokens: rows.train.length * T, valTokens: rows.val.length * T },
  };
}

/** Fine-tunes (or resumes fine-tuning) a base model on a dataset. See the file comment. */
export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const t0 = performance.now();
  const emit = options.onEvent ?? (() => {});
  const runDir = resolve(options.runDir);
  let existing: RunConfig | null = null;
  try {
    existing = await readRunConfig(runDir);
  } catch (e) {
    if (!(isStrataError(e) && (e.code === "NOT_FOUND" || (e.code === "CHECKPOINT_INVALID" && /no run\.json/.test(e.message))))) throw e;
  }
  if (options.resume && !existing) throw new StrataError("NOT_FOUND", `there is no run to resume in ${runDir}`, "start it without --resume first");
  if (!options.resume && existing) throw new StrataError("USAGE", `${runDir} already holds a training run`, "continue it with --resume, or choose another --out folder");

  // ---- what the run is: from the options (new) or run.json (resume)
  let rec: FinetuneRecord;
  let base: FinetuneBase | null = null;
  let settings: TrainSettings;
  if (existing) {
    const stored = existing.train.finetune as FinetuneRecord | undefined;
    if (!stored || stored.objective !== options.objective) throw new StrataError("USAGE", `${runDir} is not a ${options.objective} fine-tuning run`, "resume it with the command that started it");
    rec = stored;
    const prev = resolveSettings(existing.train as Partial<TrainSettings>, existing.model.maxSeq);
    for (const [k, v] of Object.entries(options.train ?? {}) as Array<[keyof TrainSettings, number | undefined]>) {
      if (v !== undefined && !RESUME_CHANGEABLE.has(k) && prev[k] !== v) throw new StrataError("INVALID_CONFIG", `the run was started with ${k} ${prev[k]}; a resumed run keeps its settings (got ${v})`, `leave ${k} out when resuming`);
    }
    settings = resolveSettings({ ...prev, ...Object.fromEntries([...RESUME_CHANGEABLE].filter((k) => options.train?.[k] !== undefined).map((k) => [k, options.train![k]])) }, existing.model.maxSeq);
  } else {
    if (!options.base) throw new StrataError("USAGE", "a new fine-tuning run needs a base model", "pass --base builtin:<run dir> or --base gguf:<file.gguf>");
    if (!options.data) throw new StrataError("USAGE", "a new fine-tuning run needs a dataset", "pass --data <file.jsonl>");
    base = await loadFinetuneBase(options.base, options);
    const method = options.method ?? "lora";
    rec = {
      objective: options.objective, method, base: base.source, data: resolve(options.data), epochs: options.epochs ?? 3, overlong: options.overlong ?? "truncate", pack: options.pack ?? false,
      beta: options.beta ?? 0.1, earlyStopPatience: options.earlyStopPatience ?? 0,
      ...(method === "lora" ? { lora: { ...DEFAULT_LORA, ...stripUndef(options.lora ?? {}) } } : {}),
    };
    if (options.objective === "dpo" && rec.pack) throw new StrataError("USAGE", "DPO scores whole answers, so it cannot pack examples", "leave --pack out");
    if (!(rec.beta > 0)) throw new StrataError("INVALID_CONFIG", `DPO beta must be positive, got ${rec.beta}`, "e.g. --beta 0.1");
    settings = resolveSettings({ ...defaults(method, base.config.maxSeq), steps: 1, ...stripUndef(options.train ?? {}) }, base.config.maxSeq);
  }
  const config = existing ? existing.model : base!.config;
  const tokenizer = existing ? await loadTokenizer(join(runDir, existing.tokenizer)) : base!.tokenizer;

  // ---- examples
  const ds = await readInstructionDataset(rec.data);
  const enc = { blockSize: settings.blockSize, overlong: rec.overlong, pack: rec.pack, valFraction: settings.valFraction, seed: settings.seed };
  let rows: { train: Row[][]; val: Row[][] };
  let summary: EncodedSummary;
  if (rec.objective === "dpo") {
    if (ds.kind !== "preference") throw new StrataError("USAGE", `${rec.data} holds supervised examples, not preference pairs`, 'DPO needs {"prompt", "chosen", "rejected"} records');
    const e = encodePreference(ds.records, tokenizer, enc);
    rows = { train: e.train, val: e.val };
    summary = e.summary;
  } else {
    if (ds.kind !== "sft") throw new StrataError("USAGE", `${rec.data} holds preference pairs`, "use `strata train dpo` for preference pairs");
    const e = encodeSft(ds.records, tokenizer, enc);
    rows = { train: e.train.map((r) => [r]), val: e.val.map((r) => [r]) };
    summary = e.summary;
  }
  if (rows.val.length === 0) throw new StrataError("DATASET_EMPTY", `${rec.data}: one example is too few to hold one out for validation`, "give at least two examples");
  const B = settings.batchSize;
  if (!existing && options.train?.steps === undefined) {
    const perEpoch = Math.ceil(rows.train.length / B);
    settings = resolveSettings({ ...settings, steps: Math.max(1, Math.ceil((rec.epochs * perEpoch) / settings.gradAccum)), decaySteps: undefined as unknown as number }, config.maxSeq);
  }
  if (!existing && options.train?.evalInterval === undefined) settings.evalInterval = Math.max(1, Math.ceil(settings.steps / 10));
  if (!existing && options.train?.checkpointInterval === undefined) settings.checkpointInterval = settings.steps;
  const memory = checkTrainingMemory(config, { batch: rec.objective === "dpo" ? 2 * B : B, block: settings.blockSize });

  // ---- model and adapter (refused settings fail here, before anything is written), then run.json
  const model = new Llama(config, { seed: settings.seed });
  let lora: LoraModel | null = null;
  let step = 0;
  let history: { train: LossPoint[]; val: ValPoint[] } = { train: [], val: [] };
  let data = { samples: 0, tokens: 0 };
  let elapsedBefore = 0;
  let resumedFrom: number | null = null;
  const ck = existing && (await latestStep(runDir)) !== null ? await readCheckpoint(runDir, { optimizer: true }) : null;
  model.loadStateDict(ck ? ck.stateDict : base!.stateDict);
  if (rec.method === "lora") {
    lora = attachLora(model, { ...rec.lora!, seed: settings.seed });
    if (ck) {
      if (!ck.adapter) throw new StrataError("CHECKPOINT_INVALID", `checkpoint ${ck.dir} of a LoRA run has no adapter.safetensors`, "resume from another step or start again");
      lora.loadStateDict(ck.adapter.tensors);
    }
  }
  await mkdir(runDir, { recursive: true });
  await writeRunConfig(runDir, { model: config, train: { ...settings, finetune: rec }, createdAt: existing?.createdAt ?? new Date().toISOString() }, existing ? undefined : tokenizer);
  await cleanCheckpointLeftovers(runDir);
  const named = lora ? lora.namedParameters() : model.namedParameters();
  const opt = new AdamW(named.map(([name, tensor]) => ({ name, tensor, decay: lora ? true : defaultDecay(name, tensor) })), { lr: settings.lr, beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay });
  if (ck) {
    if (!ck.optimizer) throw new StrataError("CHECKPOINT_INVALID", `checkpoint ${ck.dir} has no optimizer state`, "resume from another step or start again");
    opt.loadState(ck.optimizer.tensors, ck.optimizer.metadata);
    step = ck.step;
    history = { train: [...ck.state.history.train], val: [...ck.state.history.val] };
    data = { ...ck.state.data };
    elapsedBefore = ck.state.elapsedMs;
    resumedFrom = ck.step;
  }
  const trainable = named.reduce((n, [, t]) => n + t.size, 0);
  emit({ type: "examples", summary, trainable, total: model.numParameters() });

  let reference: Llama | null = null;
  if (rec.objective === "dpo" && !lora) {
    // Full DPO: the reference is the base as it was; a resumed run re-reads it.
    const refBase = base ?? (await loadFinetuneBase(rec.base.replace(/@step-\d+$/, "")));
    reference = new Llama(config, { seed: 0 });
    reference.loadStateDict(refBase.stateDict);
    for (const p of reference.parameters()) p.requireGrad(false);
  }
  const stepper = rec.objective === "dpo" ? new DpoStepper(model, opt, settings.gradClip, lora, rec.beta, reference) : new SftStepper(model, opt, settings.gradClip, lora);
  const alpha = rec.lora?.alpha ?? 0;
  const result = await trainLoop(
    {
      runDir, config, settings, memory, files: [rec.data], model, opt, dataRng: new Rng(settings.seed), step, history, data, elapsedBefore, resumedFrom, lastSaved: ck ? ck.step : null,
      source: batchSource(rows, B, settings, summary),
      ...(lora ? { adapterState: () => ({ tensors: lora.stateDict({ copy: false }), metadata: { "lora.alpha": String(alpha), "lora.rank": String(rec.lora!.rank), "lora.targets": rec.lora!.targets.join(",") } }) } : {}),
    },
    stepper,
    {
      emit, signal: options.signal, onProgress: options.onProgress, chart: options.chart !== false, keepCheckpoints: options.keepCheckpoints, device: "cpu", t0,
      earlyStopPatience: rec.earlyStopPatience || undefined,
      title: `${rec.objective === "dpo" ? "DPO" : "SFT"} (${rec.method === "lora" ? `LoRA r${rec.lora!.rank}` : "full"})`,
    },
  );
  const last = history.val[history.val.length - 1];
  return { ...result, objective: rec.objective, method: rec.method, examples: summary, trainable, ...(last?.metrics ? { metrics: last.metrics } : {}) };
}

function stripUndef<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
