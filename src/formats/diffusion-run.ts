// Diffusion training runs on disk, beside the language-model runs of checkpoint.ts and laid out the
// same way (so `latest`, pruning and leftover cleaning are shared):
//
//   run.json                               {format: "strata-diffusion-run", version: 1, kind: "diffusion",
//                                           model: DitConfig, prompts: string[] (row i of the condition
//                                           table), classOf: number[], classes: string[], train: {...}}
//   checkpoints/step-<N>/model.safetensors      the DiT's parameters, F32
//   checkpoints/step-<N>/optimizer.safetensors  AdamW's moments
//   checkpoints/step-<N>/state.json        {format: "strata-diffusion-state", version: 1, step, rng, data, lr, history}
//   checkpoints/latest                     the newest complete step directory
//   samples/step-<N>.png                   one image per class at each checkpoint (as the run improves)
//
// A step directory is written under a temporary name and renamed into place, then `latest` is
// replaced atomically: a crash leaves the previous checkpoint or the new one. Reading checks every
// tensor against the model in run.json; a language-model run is recognised and named as such.

import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../core/atomic-file.js";
import { StrataError, isStrataError } from "../core/errors.js";
import type { StateDict } from "../nn/index.js";
import { type DitConfig, ditConfigSchema, validateDitConfig } from "../nn/diffusion/config.js";
import type { RngState } from "../tensor/index.js";
import { CHECKPOINTS_DIR, LATEST_FILE, type LossPoint, type OptimizerState, RUN_FILE, RUN_FORMAT, latestStep, listCheckpoints } from "./checkpoint.js";
import { openSafetensors, writeSafetensors } from "./safetensors/index.js";

export const DIFFUSION_RUN_FORMAT = "strata-diffusion-run";
export const DIFFUSION_STATE_FORMAT = "strata-diffusion-state";
export const DIFFUSION_FORMAT_VERSION = 1;

const runSchema = z.object({
  format: z.literal(DIFFUSION_RUN_FORMAT),
  version: z.number().int(),
  kind: z.literal("diffusion"),
  model: ditConfigSchema,
  prompts: z.array(z.string()),
  classOf: z.array(z.number().int().nonnegative()),
  classes: z.array(z.string()),
  train: z.record(z.string(), z.unknown()),
  createdAt: z.string().optional(),
});
export type DiffusionRun = z.infer<typeof runSchema>;

export interface DiffusionValPoint {
  step: number;
  /** Mean noise-prediction MSE on fixed held-out batches (test split). */
  loss: number;
  trainLoss: number;
}

const stateSchema = z.object({
  format: z.literal(DIFFUSION_STATE_FORMAT),
  version: z.number().int(),
  step: z.number().int().nonnegative(),
  rng: z.object({ s: z.tuple([z.number(), z.number(), z.number(), z.number()]), spareNormal: z.number().nullable() }),
  data: z.object({ samples: z.number() }),
  lr: z.number(),
  history: z.object({
    train: z.array(z.object({ step: z.number(), loss: z.number(), lr: z.number() })),
    val: z.array(z.object({ step: z.number(), loss: z.number(), trainLoss: z.number() })),
  }),
  elapsedMs: z.number(),
});
export interface DiffusionState {
  step: number;
  rng: RngState;
  data: { samples: number };
  lr: number;
  history: { train: LossPoint[]; val: DiffusionValPoint[] };
  elapsedMs: number;
}

function invalid(path: string, what: string, hint = "the run is damaged: resume from another step or train again"): StrataError {
  return new StrataError("CHECKPOINT_INVALID", `${path} ${what}`, hint);
}

async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new StrataError("NOT_FOUND", `${path} does not exist`, "train an image model first: strata train diffusion --out <dir>");
    throw new StrataError("UNREADABLE", `cannot read ${path}: ${(e as Error).message}`, "check its permissions");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid(path, `is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads and checks run.json; a language-model run or another file kind is named as such. */
export async function readDiffusionRun(runDir: string): Promise<DiffusionRun> {
  const path = join(runDir, RUN_FILE);
  const data = await readJsonFile(path);
  const format = (data as { format?: unknown } | null)?.format;
  if (format === RUN_FORMAT) {
    throw new StrataError("MODEL_UNSUPPORTED", `${runDir} holds a language-model (llama) run, not an image model`, "generate text with `strata generate --model builtin:<run>`, or train an image model with `strata train diffusion`");
  }
  if (format !== DIFFUSION_RUN_FORMAT) throw invalid(path, `is not a Strata diffusion run (format ${JSON.stringify(format)})`, "point --model at a folder written by `strata train diffusion`");
  const version = (data as { version?: unknown }).version;
  if (typeof version === "number" && version > DIFFUSION_FORMAT_VERSION) throw new StrataError("CHECKPOINT_TOO_NEW", `${path} has format version ${version}; this Strata reads version ${DIFFUSION_FORMAT_VERSION}`, "upgrade Strata to read it");
  const parsed = runSchema.safeParse(data);
  if (!parsed.success) throw invalid(path, `is malformed: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`);
  validateDitConfig(parsed.data.model);
  if (parsed.data.prompts.length !== parsed.data.model.prompts || parsed.data.classOf.length !== parsed.data.prompts.length) {
    throw invalid(path, `lists ${parsed.data.prompts.length} prompts for a condition table of ${parsed.data.model.prompts}`);
  }
  return parsed.data;
}

export async function writeDiffusionRun(runDir: string, run: Omit<DiffusionRun, "format" | "version" | "kind">): Promise<DiffusionRun> {
  const full: DiffusionRun = { format: DIFFUSION_RUN_FORMAT, version: DIFFUSION_FORMAT_VERSION, kind: "diffusion", ...run };
  validateDitConfig(full.model);
  await mkdir(join(runDir, CHECKPOINTS_DIR), { recursive: true });
  await writeFileAtomic(join(runDir, RUN_FILE), JSON.stringify(full, null, 2) + "\n");
  return full;
}

const META = { format: "strata.format", version: "strata.version", step: "strata.step" } as const;

/** Writes checkpoint `state.step` (weights, optimizer, state) and points `latest` at it. */
export async function writeDiffusionCheckpoint(runDir: string, input: { stateDict: StateDict; optimizer: OptimizerState; state: DiffusionState }): Promise<string> {
  const step = input.state.step;
  const base = join(runDir, CHECKPOINTS_DIR);
  const name = `step-${step}`;
  const final = join(base, name);
  const tmp = join(base, `.${name}.tmp-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(tmp, { recursive: true });
  try {
    const meta = { [META.version]: String(DIFFUSION_FORMAT_VERSION), [META.step]: String(step) };
    await writeSafetensors(join(tmp, "model.safetensors"), input.stateDict, { metadata: { [META.format]: "strata-diffusion-model", ...meta } });
    await writeSafetensors(join(tmp, "optimizer.safetensors"), input.optimizer.tensors, { metadata: { ...input.optimizer.metadata, [META.format]: "strata-optimizer", ...meta } });
    await writeFileAtomic(join(tmp, "state.json"), JSON.stringify({ format: DIFFUSION_STATE_FORMAT, version: DIFFUSION_FORMAT_VERSION, ...input.state }) + "\n");
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (isStrataError(e)) throw e;
    throw new StrataError("UNREADABLE", `cannot write checkpoint ${final}: ${(e as Error).message}`, "check that the run folder is writable and has space", { cause: e });
  }
  await writeFileAtomic(join(base, LATEST_FILE), `${name}\n`);
  return final;
}

export interface DiffusionCheckpoint {
  run: DiffusionRun;
  step: number;
  dir: string;
  stateDict: StateDict;
  state: DiffusionState;
  optimizer?: OptimizerState;
}

/** Reads the latest (or the given) checkpoint; tensors are checked against `expected` (name → shape). */
export async function readDiffusionCheckpoint(runDir: string, expected: Array<[string, number[]]>, options: { step?: number; optimizer?: boolean } = {}): Promise<DiffusionCheckpoint> {
  const run = await readDiffusionRun(runDir);
  const step = options.step ?? (await latestStep(runDir));
  if (step === null) throw new StrataError("NOT_FOUND", `run ${runDir} has no checkpoint yet`, "train it first: strata train diffusion --out <dir> (a checkpoint is saved every --checkpoint-every steps and at the end)");
  const dir = join(runDir, CHECKPOINTS_DIR, `step-${step}`);
  try {
    await stat(dir);
  } catch {
    const have = await listCheckpoints(runDir);
    throw new StrataError("NOT_FOUND", `run ${runDir} has no checkpoint of step ${step}`, have.length ? `steps with a checkpoint: ${have.join(", ")}` : "the run has no checkpoints");
  }
  const statePath = join(dir, "state.json");
  const st = stateSchema.safeParse(await readJsonFile(statePath));
  if (!st.success) throw invalid(statePath, `is malformed: ${st.error.issues[0]!.path.join(".")}: ${st.error.issues[0]!.message}`);
  if (st.data.step !== step) throw invalid(statePath, `says step ${st.data.step}, but it is in the directory of step ${step}`);
  const readFile = async (file: string, check: boolean): Promise<{ tensors: StateDict; metadata: Record<string, string> }> => {
    const path = join(dir, file);
    let f;
    try {
      f = await openSafetensors(path);
    } catch (e) {
      if (isStrataError(e) && (e.code === "NOT_FOUND" || e.code === "SAFETENSORS_INVALID")) throw invalid(path, `cannot be read: ${e.message}`);
      throw e;
    }
    try {
      if (f.metadata[META.step] !== String(step)) throw invalid(path, `says step ${f.metadata[META.step]}, but it is in the directory of step ${step}`);
      const tensors: StateDict = {};
      if (check) {
        const names = new Set(expected.map(([n]) => n));
        const extra = f.entries.find((e) => !names.has(e.name));
        if (extra) throw invalid(path, `has a parameter ${extra.name} the model in run.json does not`);
        for (const [n, shape] of expected) {
          if (!f.has(n)) throw invalid(path, `lacks parameter ${n} of the model in run.json`);
          const e = f.entry(n);
          if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) throw invalid(path, `parameter ${n} has shape [${e.shape.join(", ")}] but the model needs [${shape.join(", ")}]`);
        }
      }
      for (const e of f.entries) {
        const t = await f.read(e.name);
        tensors[e.name] = { shape: t.shape, data: t.data };
      }
      const { [META.format]: _f, [META.version]: _v, [META.step]: _s, ...metadata } = f.metadata;
      return { tensors, metadata };
    } finally {
      await f.close();
    }
  };
  const model = await readFile("model.safetensors", true);
  const out: DiffusionCheckpoint = { run, step, dir, stateDict: model.tensors, state: st.data as DiffusionState };
  if (options.optimizer) {
    const o = await readFile("optimizer.safetensors", false);
    out.optimizer = { tensors: o.tensors, metadata: o.metadata };
  }
  return out;
}

export type { DitConfig };
