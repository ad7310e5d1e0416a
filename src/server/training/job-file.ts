// The server's sidecar of a training run, <data>/training/<id>/job.json: who started it, from which
// knowledge base, with which settings, and how it ended. The trainer never reads it; the run's own
// files (run.json, checkpoints/, loss.html) are the trainer's and follow src/formats/checkpoint.ts.
// Written atomically (temporary file, fsync, rename) so a crash leaves the old or the new version.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomicSync } from "../../core/atomic-file.js";
import { StrataError } from "../../core/errors.js";
import { PRESET_NAMES, type PresetName } from "../../train/index.js";

export const JOB_FORMAT = "strata-training-job";
export const JOB_VERSION = 1;
export const JOB_FILE = "job.json";

/** Server-made run ids: "run-" and 16 hex digits. Anything else is refused before it nears a path. */
export const RUN_ID_PATTERN = /^run-[0-9a-f]{16}$/;

export function newRunId(): string {
  return `run-${randomBytes(8).toString("hex")}`;
}

export const RUN_STATUSES = ["running", "completed", "failed", "stopped", "interrupted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The trainer's presets (src/train/presets.ts is the one list). */
export const TRAINING_PRESETS = PRESET_NAMES;
export type TrainingPreset = PresetName;

const errorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string() });
export type RunError = z.infer<typeof errorSchema>;

/** What the caller asked for; absent fields take the preset's values. */
export const requestedSettings = z.object({
  steps: z.number().int(),
  batch: z.number().int().optional(),
  block: z.number().int().optional(),
  lr: z.number().optional(),
  seed: z.number().int().optional(),
  evalEvery: z.number().int().optional(),
  evalBatches: z.number().int().optional(),
  checkpointEvery: z.number().int().optional(),
});
export type RequestedSettings = z.infer<typeof requestedSettings>;

const jobSchema = z.object({
  format: z.literal(JOB_FORMAT),
  version: z.number().int(),
  id: z.string().regex(RUN_ID_PATTERN),
  owner: z.string(),
  kb: z.string(),
  preset: z.enum(TRAINING_PRESETS),
  settings: requestedSettings,
  /** Readable documents whose text went into corpus.txt, and its size. */
  documents: z.number().int(),
  corpusBytes: z.number().int(),
  status: z.enum(RUN_STATUSES),
  error: errorSchema.nullable(),
  createdAt: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** The trainer's process while it runs, to tell after a crash whether it is still alive. */
  pid: z.number().int().nullable(),
});
export type Job = z.infer<typeof jobSchema>;

export function jobPath(runDir: string): string {
  return join(runDir, JOB_FILE);
}

/** Reads job.json; a missing, foreign, newer or damaged file is an error naming it. */
export function readJob(runDir: string): Job {
  const path = jobPath(runDir);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `${path} does not exist`, "the folder is not a training run made by the server");
    throw new StrataError("CHECKPOINT_INVALID", `${path} is not valid JSON: ${(e as Error).message}`, "delete the run's folder");
  }
  const version = (data as { version?: unknown } | null)?.version;
  if (typeof version === "number" && version > JOB_VERSION) {
    throw new StrataError("CHECKPOINT_TOO_NEW", `${path} has version ${version}; this server reads version ${JOB_VERSION}`, "use a newer Strata for this data folder");
  }
  const parsed = jobSchema.safeParse(data);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new StrataError("CHECKPOINT_INVALID", `${path}: ${i.path.join(".") || "(top level)"}: ${i.message}`, "delete the run's folder");
  }
  return parsed.data;
}

/** Replaces job.json atomically. Synchronous on purpose: writes of one run never interleave. */
export function writeJob(runDir: string, job: Job): void {
  const path = jobPath(runDir);
  writeFileAtomicSync(path, JSON.stringify(job, null, 2) + "\n", { hint: "check that the data folder is writable and has space" });
}
