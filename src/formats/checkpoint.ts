// Training runs on disk. `train/` writes them and `model/` reads them, both through this file, so
// neither imports the other. A run directory holds:
//
//   run.json                              {format: "strata-run", version: 1, model: LlamaConfig,
//                                          tokenizer: "tokenizer.json", train: {...}}
//   tokenizer.json                        the tokenizer (src/tokenizer/file.ts)
//   checkpoints/step-<N>/model.safetensors     the parameters, F32, named as the nn state dict
//   checkpoints/step-<N>/optimizer.safetensors the optimizer's tensors (AdamW: <param>.exp_avg, .exp_avg_sq)
//   checkpoints/step-<N>/adapter.safetensors  LoRA runs only: the adapter tensors (<linear>.lora_a/b), alpha in the metadata
//   checkpoints/step-<N>/state.json       {format: "strata-train-state", version: 1, step, rng, data, lr, history}
//   checkpoints/latest                    the name of the newest complete step directory
//
// Writes are transactional: a step directory is written under a temporary name, every file synced,
// then renamed into place; `latest` is replaced by writing a temporary file and renaming it. A crash
// at any moment leaves `latest` naming a complete checkpoint (the previous one or the new one).
// Reads check everything against run.json before returning: a foreign, newer, truncated or damaged
// file is a CHECKPOINT_INVALID / CHECKPOINT_TOO_NEW error naming the file and what is wrong.

import { mkdir, open, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../core/atomic-file.js";
import { StrataError, isStrataError } from "../core/errors.js";
import { type LlamaConfig, type StateDict, type TensorData, llamaConfigSchema, validateConfig } from "../nn/index.js";
import type { RngState } from "../tensor/index.js";
import { type Tokenizer, loadTokenizer, saveTokenizer } from "../tokenizer/index.js";
import { type SafetensorsFile, openSafetensors, writeSafetensors } from "./safetensors/index.js";

export const RUN_FORMAT = "strata-run";
export const RUN_FORMAT_VERSION = 1;
export const TRAIN_STATE_FORMAT = "strata-train-state";
export const TRAIN_STATE_VERSION = 1;
/** `__metadata__` of model.safetensors and optimizer.safetensors. */
export const MODEL_FILE_FORMAT = "strata-model";
export const OPTIMIZER_FILE_FORMAT = "strata-optimizer";
export const ADAPTER_FILE_FORMAT = "strata-adapter";
export const CHECKPOINT_FILE_VERSION = 1;

export const RUN_FILE = "run.json";
export const TOKENIZER_FILE = "tokenizer.json";
export const CHECKPOINTS_DIR = "checkpoints";
export const LATEST_FILE = "latest";

/** run.json. `train` belongs to the trainer (src/train validates it); this layer keeps it as JSON. */
export interface RunConfig {
  format: typeof RUN_FORMAT;
  version: typeof RUN_FORMAT_VERSION;
  model: LlamaConfig;
  /** The tokenizer file, relative to the run directory. */
  tokenizer: string;
  train: Record<string, unknown>;
  createdAt?: string;
}

export interface LossPoint {
  step: number;
  loss: number;
  lr: number;
}

export interface ValPoint {
  step: number;
  /** Validation loss (mean cross-entropy per token, nats). */
  loss: number;
  perplexity: number;
  /** The training-span loss measured at the same time, the same way. */
  trainLoss?: number;
  /** Further held-out figures (DPO: reward margin, preference accuracy). */
  metrics?: Record<string, number>;
}

/** state.json: everything besides tensors that an exact resume needs. */
export interface TrainState {
  format: typeof TRAIN_STATE_FORMAT;
  version: typeof TRAIN_STATE_VERSION;
  /** Optimizer steps completed. */
  step: number;
  /** The data sampler's generator, to draw the same batches an uninterrupted run would. */
  rng: RngState;
  /** Where the data stream is: windows drawn and tokens consumed so far. */
  data: { samples: number; tokens: number };
  /** Learning rate of the last step. */
  lr: number;
  /** Training loss per step, and validation loss at each evaluation. */
  history: { train: LossPoint[]; val: ValPoint[] };
  /** Wall time spent training so far (ms), over all sessions. */
  elapsedMs: number;
}

export interface OptimizerState {
  /** Strings saved as the file's metadata (e.g. type "adamw", step "120"). */
  metadata: Record<string, string>;
  tensors: Record<string, TensorData>;
}

/** A LoRA adapter saved beside the (frozen) base weights: tensors and string metadata (lora.alpha, …). */
export interface AdapterState {
  metadata: Record<string, string>;
  tensors: Record<string, TensorData>;
}

export interface CheckpointInput {
  stateDict: StateDict;
  optimizer?: OptimizerState;
  adapter?: AdapterState;
  state: TrainState;
}

export interface Checkpoint {
  run: RunConfig;
  tokenizer: Tokenizer;
  stateDict: StateDict;
  step: number;
  state: TrainState;
  /** The step directory. */
  dir: string;
  /** Present when read with `{ optimizer: true }`. */
  optimizer?: OptimizerState;
  /** Present when the run trains a LoRA adapter. */
  adapter?: AdapterState;
}

export interface ReadCheckpointOptions {
  /** A step with a checkpoint (default: the one `latest` names). */
  step?: number;
  /** Also read optimizer.safetensors (resume needs it; inference does not). */
  optimizer?: boolean;
}

// ---------------------------------------------------------------- expected parameters

/** Every parameter of a llama with this configuration and its shape, in state-dict order (matches src/nn). */
export function llamaParameterShapes(c: LlamaConfig): Array<[string, number[]]> {
  const D = c.dim / c.heads;
  const out: Array<[string, number[]]> = [["tok_embeddings.weight", [c.vocab, c.dim]]];
  const ffn = (p: string): void => {
    out.push([`${p}w1.weight`, [c.ffnDim, c.dim]], [`${p}w2.weight`, [c.dim, c.ffnDim]], [`${p}w3.weight`, [c.ffnDim, c.dim]]);
  };
  for (let l = 0; l < c.layers; l++) {
    const p = `layers.${l}.`;
    out.push(
      [`${p}attention_norm.weight`, [c.dim]],
      [`${p}attention.wq.weight`, [c.heads * D, c.dim]],
      [`${p}attention.wk.weight`, [c.kvHeads * D, c.dim]],
      [`${p}attention.wv.weight`, [c.kvHeads * D, c.dim]],
      [`${p}attention.wo.weight`, [c.dim, c.heads * D]],
      [`${p}ffn_norm.weight`, [c.dim]],
    );
    if (c.moe) {
      out.push([`${p}feed_forward.gate.weight`, [c.moe.experts, c.dim]]);
      for (let e = 0; e < c.moe.experts; e++) ffn(`${p}feed_forward.experts.${e}.`);
    } else ffn(`${p}feed_forward.`);
  }
  out.push(["norm.weight", [c.dim]]);
  if (!c.tieEmbeddings) out.push(["output.weight", [c.vocab, c.dim]]);
  return out;
}

const MODEL_FIELDS = ["vocab", "dim", "layers", "heads", "kvHeads", "ffnDim", "maxSeq", "ropeBase", "normEps", "tieEmbeddings"] as const;

/** The fields in which two model configurations differ, as "field a → b" strings (empty when equal). */
export function modelConfigDifferences(a: LlamaConfig, b: LlamaConfig): string[] {
  const out: string[] = [];
  for (const f of MODEL_FIELDS) if (a[f] !== b[f]) out.push(`${f} ${String(a[f])} → ${String(b[f])}`);
  const ma = a.moe ? `${a.moe.experts}×top${a.moe.topK}` : "none";
  const mb = b.moe ? `${b.moe.experts}×top${b.moe.topK}` : "none";
  if (ma !== mb) out.push(`moe ${ma} → ${mb}`);
  else if ((a.moe?.auxLossWeight ?? 0.01) !== (b.moe?.auxLossWeight ?? 0.01)) out.push(`moe.auxLossWeight ${a.moe?.auxLossWeight ?? 0.01} → ${b.moe?.auxLossWeight ?? 0.01}`);
  return out;
}

/** Refuses to continue a run with another model shape, naming every difference. */
export function assertSameModel(runDir: string, stored: LlamaConfig, requested: LlamaConfig): void {
  const diff = modelConfigDifferences(stored, requested);
  if (diff.length > 0) {
    throw new StrataError(
      "STATE_DICT_MISMATCH",
      `the checkpoint in ${runDir} is of another model shape (stored → requested: ${diff.join(", ")})`,
      "resume with the configuration the run was started with (it is in run.json), or start a new run in another --out folder",
    );
  }
}

// ---------------------------------------------------------------- validation of run.json / state.json

const invalid = (what: string, why: string, hint = "the run directory is damaged: restore it or start a new run"): StrataError =>
  new StrataError("CHECKPOINT_INVALID", `${what}: ${why}`, hint);

const RunSchema = z.object({
  format: z.literal(RUN_FORMAT),
  version: z.literal(RUN_FORMAT_VERSION),
  model: llamaConfigSchema,
  tokenizer: z.string().min(1),
  train: z.record(z.string(), z.unknown()),
  createdAt: z.string().optional(),
});
const finite = z.number().refine(Number.isFinite, "must be a finite number");
const u32 = z.number().int().min(0).max(0xffffffff);
const StateSchema = z.object({
  format: z.literal(TRAIN_STATE_FORMAT),
  version: z.literal(TRAIN_STATE_VERSION),
  step: z.number().int().nonnegative(),
  rng: z.object({ s: z.tuple([u32, u32, u32, u32]), spareNormal: finite.nullable() }),
  data: z.object({ samples: z.number().int().nonnegative(), tokens: z.number().int().nonnegative() }),
  lr: finite,
  history: z.object({
    train: z.array(z.object({ step: z.number().int(), loss: z.number(), lr: z.number() })),
    val: z.array(z.object({ step: z.number().int(), loss: z.number(), perplexity: z.number(), trainLoss: z.number().optional(), metrics: z.record(z.string(), z.number()).optional() })),
  }),
  elapsedMs: z.number().nonnegative(),
});

function firstIssue(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`;
}

/** Checks a versioned JSON document's format and version before its schema, so a foreign or newer file gets the right error. */
function checkFormat(data: unknown, file: string, format: string, version: number): void {
  if (typeof data !== "object" || data === null || Array.isArray(data) || (data as { format?: unknown }).format !== format) {
    throw invalid(file, `not a Strata ${format} file (it has no "format": "${format}")`, "point to a run directory that `strata train pretrain` wrote");
  }
  const v = (data as { version?: unknown }).version;
  if (typeof v === "number" && Number.isInteger(v) && v > version) {
    throw new StrataError("CHECKPOINT_TOO_NEW", `${file} has format version ${v}; this Strata reads version ${version}`, "upgrade Strata to read it");
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `${path} does not exist`, `${what}`);
    throw new StrataError("UNREADABLE", `${path} cannot be read: ${(e as Error).message}`, "check its permissions", { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid(path, `not valid JSON (${(e as Error).message})`);
  }
}

/** Parses run.json's content; `source` names it in errors. */
export function parseRunConfig(data: unknown, source: string): RunConfig {
  checkFormat(data, source, RUN_FORMAT, RUN_FORMAT_VERSION);
  const parsed = RunSchema.safeParse(data);
  if (!parsed.success) throw invalid(source, firstIssue(parsed.error));
  const run = parsed.data as RunConfig;
  try {
    validateConfig(run.model);
  } catch (e) {
    throw invalid(source, isStrataError(e) ? e.message : String(e));
  }
  return run;
}

/** Parses state.json's content. */
export function parseTrainState(data: unknown, source: string): TrainState {
  checkFormat(data, source, TRAIN_STATE_FORMAT, TRAIN_STATE_VERSION);
  const parsed = StateSchema.safeParse(data);
  if (!parsed.success) throw invalid(source, firstIssue(parsed.error));
  return parsed.data as TrainState;
}

// ---------------------------------------------------------------- reading

async function requireRunDir(runDir: string): Promise<void> {
  let st;
  try {
    st = await stat(runDir);
  } catch {
    throw new StrataError("NOT_FOUND", `run directory ${runDir} does not exist`, "check the path, or train a model with `strata train pretrain --out <dir>`");
  }
  if (!st.isDirectory()) throw invalid(runDir, "is a file, not a run directory", "point to the folder that `strata train pretrain --out` wrote");
}

/** Reads and checks run.json. */
export async function readRunConfig(runDir: string): Promise<RunConfig> {
  await requireRunDir(runDir);
  const path = join(runDir, RUN_FILE);
  let data: unknown;
  try {
    data = await readJson(path, "");
  } catch (e) {
    if (isStrataError(e) && e.code === "NOT_FOUND") {
      throw invalid(runDir, `not a Strata run directory (it has no ${RUN_FILE})`, "point to the folder that `strata train pretrain --out` wrote");
    }
    throw e;
  }
  return parseRunConfig(data, path);
}

/** Steps that have a checkpoint directory, ascending (complete or not; `latest` names the newest complete one). */
export async function listCheckpoints(runDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(join(runDir, CHECKPOINTS_DIR));
  } catch {
    return [];
  }
  return names
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The step `latest` names, or null when the run has no checkpoint yet. */
export async function latestStep(runDir: string): Promise<number | null> {
  const path = join(runDir, CHECKPOINTS_DIR, LATEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new StrataError("UNREADABLE", `${path} cannot be read: ${(e as Error).message}`, "check its permissions", { cause: e });
  }
  const m = /^step-(\d+)\s*$/.exec(text);
  if (!m) throw invalid(path, `does not name a step directory (it holds ${JSON.stringify(text.slice(0, 40))})`);
  return Number(m[1]);
}

function stepDir(runDir: string, step: number): string {
  return join(runDir, CHECKPOINTS_DIR, `step-${step}`);
}

function fileMeta(f: SafetensorsFile, format: string, step: number): void {
  const fmt = f.metadata["strata.format"];
  if (fmt !== format) throw invalid(f.source, `not a Strata ${format} file (its metadata has no "strata.format": "${format}")`, "point to a run directory that `strata train pretrain` wrote");
  const version = Number(f.metadata["strata.version"]);
  if (!Number.isInteger(version)) throw invalid(f.source, `has no valid "strata.version" in its metadata`);
  if (version > CHECKPOINT_FILE_VERSION) throw new StrataError("CHECKPOINT_TOO_NEW", `${f.source} has format version ${version}; this Strata reads version ${CHECKPOINT_FILE_VERSION}`, "upgrade Strata to read it");
  if (version !== CHECKPOINT_FILE_VERSION) throw invalid(f.source, `unknown format version ${version}`);
  if (f.metadata["strata.step"] !== String(step)) throw invalid(f.source, `says step ${f.metadata["strata.step"]}, but it is in the directory of step ${step}`);
}

async function openCheckpointFile(path: string, format: string, step: number): Promise<SafetensorsFile> {
  let f: SafetensorsFile;
  try {
    f = await openSafetensors(path);
  } catch (e) {
    if (isStrataError(e) && e.code === "NOT_FOUND") throw invalid(path, "is missing: the checkpoint is incomplete");
    if (isStrataError(e) && e.code === "SAFETENSORS_INVALID") throw new StrataError("CHECKPOINT_INVALID", `checkpoint file ${e.message}`, "the checkpoint is damaged: resume from an earlier step (--step) or start again", { cause: e });
    throw e;
  }
  try {
    fileMeta(f, format, step);
  } catch (e) {
    await f.close();
    throw e;
  }
  return f;
}

async function readTensors(f: SafetensorsFile, expected: Array<[string, number[]]> | null): Promise<Record<string, TensorData>> {
  const out: Record<string, TensorData> = {};
  if (expected) {
    const want = new Set(expected.map(([n]) => n));
    const extra = f.entries.filter((e) => !want.has(e.name)).map((e) => e.name);
    if (extra.length > 0) throw invalid(f.source, `has parameter(s) the model in run.json does not: ${extra.slice(0, 5).join(", ")}`);
    for (const [name, shape] of expected) {
      if (!f.has(name)) throw invalid(f.source, `lacks parameter ${name} of the model in run.json`);
      const e = f.entry(name);
      if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
        throw invalid(f.source, `parameter ${name} has shape [${e.shape.join(", ")}] but the model in run.json needs [${shape.join(", ")}]`);
      }
    }
    for (const [name] of expected) {
      const t = await f.read(name);
      out[name] = { shape: t.shape, data: t.data };
    }
    return out;
  }
  for (const e of f.entries) {
    const t = await f.read(e.name);
    out[e.name] = { shape: t.shape, data: t.data };
  }
  return out;
}

/**
 * Reads a checkpoint of a run: run.json, the tokenizer, the weights (checked against run.json's
 * model), state.json and, when asked, the optimizer's tensors. Without `step`, the newest complete
 * checkpoint (`latest`).
 */
export async function readCheckpoint(runDir: string, options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const run = await readRunConfig(runDir);
  let step = options.step;
  if (step === undefined) {
    const latest = await latestStep(runDir);
    if (latest === null) throw new StrataError("NOT_FOUND", `run ${runDir} has no checkpoint yet`, "train it first (`strata train pretrain --out <dir>`); a checkpoint is saved every --checkpoint-every steps and at the end");
    step = latest;
  }
  const dir = stepDir(runDir, step);
  try {
    await stat(dir);
  } catch {
    const have = await listCheckpoints(runDir);
    throw new StrataError("NOT_FOUND", `run ${runDir} has no checkpoint of step ${step}`, have.length ? `steps with a checkpoint: ${have.join(", ")}` : "the run has no checkpoints");
  }
  const tokenizer = await loadTokenizer(join(runDir, run.tokenizer));
  if (tokenizer.vocabSize !== run.model.vocab) {
    throw invalid(join(runDir, run.tokenizer), `has ${tokenizer.vocabSize} tokens but the model in run.json has vocab ${run.model.vocab}`);
  }
  const statePath = join(dir, "state.json");
  let stateData: unknown;
  try {
    stateData = await readJson(statePath, "");
  } catch (e) {
    if (isStrataError(e) && e.code === "NOT_FOUND") throw invalid(statePath, "is missing: the checkpoint is incomplete");
    throw e;
  }
  const state = parseTrainState(stateData, statePath);
  if (state.step !== step) throw invalid(statePath, `says step ${state.step}, but it is in the directory of step ${step}`);

  const mf = await openCheckpointFile(join(dir, "model.safetensors"), MODEL_FILE_FORMAT, step);
  let stateDict: StateDict;
  try {
    stateDict = await readTensors(mf, llamaParameterShapes(run.model));
  } finally {
    await mf.close();
  }
  const result: Checkpoint = { run, tokenizer, stateDict, step, state, dir };
  const adapterPath = join(dir, "adapter.safetensors");
  if (await stat(adapterPath).then(() => true, () => false)) {
    const af = await openCheckpointFile(adapterPath, ADAPTER_FILE_FORMAT, step);
    try {
      const { "strata.format": _f, "strata.version": _v, "strata.step": _s, ...metadata } = af.metadata;
      result.adapter = { metadata, tensors: await readTensors(af, null) };
    } finally {
      await af.close();
    }
  }
  if (options.optimizer) {
    const of = await openCheckpointFile(join(dir, "optimizer.safetensors"), OPTIMIZER_FILE_FORMAT, step);
    try {
      const { "strata.format": _f, "strata.version": _v, "strata.step": _s, ...metadata } = of.metadata;
      result.optimizer = { metadata, tensors: await readTensors(of, null) };
    } finally {
      await of.close();
    }
  }
  return result;
}

// ---------------------------------------------------------------- writing

async function syncPath(path: string): Promise<void> {
  try {
    const fh = await open(path, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some filesystems cannot sync a directory; the rename is still atomic.
  }
}

/**
 * Creates (or updates) a run directory: run.json and, when given, tokenizer.json. The model config is
 * checked; a run.json already there with another model shape is refused.
 */
export async function writeRunConfig(runDir: string, run: Omit<RunConfig, "format" | "version" | "tokenizer"> & { tokenizer?: string }, tokenizer?: Tokenizer): Promise<RunConfig> {
  const full: RunConfig = { format: RUN_FORMAT, version: RUN_FORMAT_VERSION, tokenizer: run.tokenizer ?? TOKENIZER_FILE, model: run.model, train: run.train, ...(run.createdAt ? { createdAt: run.createdAt } : {}) };
  validateConfig(full.model);
  if (tokenizer && tokenizer.vocabSize !== full.model.vocab) {
    throw new StrataError("INVALID_CONFIG", `the tokenizer has ${tokenizer.vocabSize} tokens but the model config has vocab ${full.model.vocab}`, "set the model's vocab to the tokenizer's vocabSize");
  }
  await mkdir(join(runDir, CHECKPOINTS_DIR), { recursive: true });
  let existing: RunConfig | null = null;
  try {
    existing = await readRunConfig(runDir);
  } catch (e) {
    if (!(isStrataError(e) && e.code === "CHECKPOINT_INVALID" && /no run\.json/.test(e.message))) throw e;
  }
  if (existing) assertSameModel(runDir, existing.model, full.model);
  if (tokenizer) await saveTokenizer(tokenizer, join(runDir, full.tokenizer));
  await writeFileAtomic(join(runDir, RUN_FILE), JSON.stringify(full, null, 2) + "\n");
  return full;
}

/**
 * Writes checkpoint `state.step` of a run whose run.json exists, then points `latest` at it. The
 * weights are checked against run.json's model first. Returns the step directory.
 */
export async function writeCheckpoint(runDir: string, input: CheckpointInput): Promise<{ dir: string; step: number; bytes: number }> {
  const run = await readRunConfig(runDir);
  const step = input.state.step;
  if (!Number.isInteger(step) || step < 0) throw new StrataError("USAGE", `checkpoint step ${step} must be a whole number ≥ 0`, "pass the optimizer steps done");
  for (const [name, shape] of llamaParameterShapes(run.model)) {
    const t = input.stateDict[name];
    if (!t) throw new StrataError("STATE_DICT_MISMATCH", `the weights to save lack parameter ${name} of the model in run.json`, "save the model the run was created for");
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== n) {
      throw new StrataError("STATE_DICT_MISMATCH", `parameter ${name} has shape [${t.shape.join(", ")}] but the model in run.json needs [${shape.join(", ")}]`, "save the model the run was created for");
    }
  }
  const base = join(runDir, CHECKPOINTS_DIR);
  await mkdir(base, { recursive: true });
  const name = `step-${step}`;
  const final = join(base, name);
  const tmp = join(base, `.${name}.tmp-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(tmp);
  let bytes = 0;
  try {
    const meta = { "strata.version": String(CHECKPOINT_FILE_VERSION), "strata.step": String(step) };
    const names = llamaParameterShapes(run.model).map(([n]) => n);
    bytes += await writeSafetensors(join(tmp, "model.safetensors"), Object.fromEntries(names.map((n) => [n, input.stateDict[n]!])), { metadata: { "strata.format": MODEL_FILE_FORMAT, ...meta } });
    if (input.optimizer) {
      bytes += await writeSafetensors(join(tmp, "optimizer.safetensors"), input.optimizer.tensors, { metadata: { ...input.optimizer.metadata, "strata.format": OPTIMIZER_FILE_FORMAT, ...meta } });
    }
    if (input.adapter) {
      bytes += await writeSafetensors(join(tmp, "adapter.safetensors"), input.adapter.tensors, { metadata: { ...input.adapter.metadata, "strata.format": ADAPTER_FILE_FORMAT, ...meta } });
    }
    const stateText = JSON.stringify({ ...input.state, format: TRAIN_STATE_FORMAT, version: TRAIN_STATE_VERSION }) + "\n";
    await writeFileAtomic(join(tmp, "state.json"), stateText);
    bytes += Buffer.byteLength(stateText);
    await syncPath(tmp);
    // Replace an older directory of the same step (a re-run): move it aside, move the new one in.
    const old = join(base, `.${name}.old-${process.pid}-${Date.now().toString(36)}`);
    let moved = false;
    try {
      await rename(final, old);
      moved = true;
    } catch {
      // nothing there
    }
    await rename(tmp, final);
    if (moved) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (isStrataError(e)) throw e;
    throw new StrataError("UNREADABLE", `cannot write checkpoint ${final}: ${(e as Error).message}`, "check that the run folder is writable and has space", { cause: e });
  }
  await syncPath(base);
  await writeFileAtomic(join(base, LATEST_FILE), `${name}\n`);
  await syncPath(base);
  return { dir: final, step, bytes };
}

/** Deletes all but the newest `keep` checkpoints (never the one `latest` names). Returns the steps removed. */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<number[]> {
  if (!(keep >= 1)) return [];
  const steps = await listCheckpoints(runDir);
  const latest = await latestStep(runDir);
  const remove = steps.slice(0, Math.max(0, steps.length - keep)).filter((s) => s !== latest);
  for (const s of remove) await rm(stepDir(runDir, s), { recursive: true, force: true });
  return remove;
}

/** Removes temporary step directories a crash left behind (names starting with "."). */
export async function cleanCheckpointLeftovers(runDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(join(runDir, CHECKPOINTS_DIR));
  } catch {
    return;
  }
  for (const n of names) if (/^\.step-\d+\.(tmp|old)-/.test(n) || /^latest\.tmp-/.test(n)) await rm(join(runDir, CHECKPOINTS_DIR, n), { recursive: true, force: true });
}
