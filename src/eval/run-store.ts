// Stored evaluation runs: every run of `strata eval qa|rag|tools|agents|retrieval|lm` keeps what it measured, so it can
// be compared later and resumed after an interruption.
//
//   <runs>/<id>/run.json     {format, formatVersion, id, kind, status, createdAt, updatedAt, config,
//                             dataset {name, path, hash, items}, codeVersion, modelRef, summary}
//                             written to a temporary file and renamed, so it is whole or the old one
//   <runs>/<id>/items.jsonl  one scored item a line {id, metrics {name: number|null}, detail}, each
//                             appended and flushed as soon as it is scored; a line torn by a crash is
//                             dropped on open (that item is simply scored again)
//
// A run is resumed by id: the items already stored are kept, the rest are scored.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, truncateSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import { newReportId, REPORT_ID_PATTERN, writeDurably } from "./published-reports.js";

export const RUN_FORMAT = "strata-eval-run";
export const RUN_FORMAT_VERSION = 1;

const jsonValue: z.ZodType<unknown> = z.unknown();

const runSchema = z.object({
  format: z.literal(RUN_FORMAT),
  formatVersion: z.literal(RUN_FORMAT_VERSION),
  id: z.string().regex(REPORT_ID_PATTERN),
  kind: z.enum(["qa", "rag", "tools", "agents", "retrieval", "lm"]),
  status: z.enum(["running", "complete"]),
  createdAt: z.string(),
  updatedAt: z.string(),
  config: z.record(z.string(), jsonValue),
  dataset: z.object({ name: z.string(), path: z.string(), hash: z.string(), items: z.number().int() }),
  codeVersion: z.string(),
  modelRef: z.string().nullable(),
  summary: z.record(z.string(), z.number().nullable()).nullable(),
});

export type RunRecord = z.infer<typeof runSchema>;
export type RunKind = RunRecord["kind"];

const itemSchema = z.object({ id: z.string(), metrics: z.record(z.string(), z.number().nullable()), detail: z.record(z.string(), jsonValue) });
export type StoredItem = z.infer<typeof itemSchema>;

export interface StoredRun {
  dir: string;
  run: RunRecord;
  items: StoredItem[];
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeDurably(tmp, text);
  renameSync(tmp, file);
}

function runDir(runsDir: string, id: string): string {
  if (!REPORT_ID_PATTERN.test(id)) throw new StrataError("USAGE", `"${id.slice(0, 80)}" is not a run id`, "run ids look like 20260131-142501-1a2b3c4d; list them with `ls <runs folder>`");
  return join(resolve(runsDir), id);
}

/** Starts a new run folder and returns it (status "running", no items). */
export function createRun(runsDir: string, init: Pick<RunRecord, "kind" | "config" | "dataset" | "codeVersion" | "modelRef">, now = new Date()): StoredRun {
  const id = newReportId(now);
  const dir = runDir(runsDir, id);
  mkdirSync(dir, { recursive: true });
  const run: RunRecord = { format: RUN_FORMAT, formatVersion: RUN_FORMAT_VERSION, id, status: "running", createdAt: now.toISOString(), updatedAt: now.toISOString(), summary: null, ...init };
  writeAtomically(join(dir, "run.json"), JSON.stringify(run, null, 1) + "\n");
  writeAtomically(join(dir, "items.jsonl"), "");
  return { dir, run, items: [] };
}

/** Where a run lives: a run folder path, or an id under `runsDir`. */
export function resolveRun(ref: string, runsDir: string): string {
  if (existsSync(join(ref, "run.json"))) return resolve(ref);
  return runDir(runsDir, ref);
}

/** Opens a stored run (its folder, or its id under `runsDir`). */
export function openRun(ref: string, runsDir: string): StoredRun {
  const dir = resolveRun(ref, runsDir);
  const file = join(dir, "run.json");
  if (!existsSync(file)) throw new StrataError("NOT_FOUND", `there is no stored run ${ref} (looked for ${file})`, `list the runs in ${resolve(runsDir)}, or pass a run folder`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new StrataError("STORE_CORRUPT", `run ${ref}: run.json is not valid JSON (${(e as Error).message})`, "the run cannot be used; start a new one");
  }
  const v = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof v === "number" && v > RUN_FORMAT_VERSION) throw new StrataError("STORE_TOO_NEW", `run ${ref} was written by a newer Strata (format ${v})`, "upgrade Strata to read it");
  const r = runSchema.safeParse(raw);
  if (!r.success) throw new StrataError("STORE_CORRUPT", `run ${ref}: run.json is damaged (${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message})`, "the run cannot be used; start a new one");
  return { dir, run: r.data, items: readItems(join(dir, "items.jsonl")) };
}

function readItems(file: string): StoredItem[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  const items: StoredItem[] = [];
  const byId = new Map<string, number>();
  let offset = 0;
  for (const line of text.split("\n")) {
    const end = offset + Buffer.byteLength(line) + 1;
    if (line.trim() !== "") {
      let parsed: StoredItem | undefined;
      try {
        const r = itemSchema.safeParse(JSON.parse(line));
        if (r.success) parsed = r.data;
      } catch {
        parsed = undefined;
      }
      if (!parsed) {
        // Only the last line can be torn by a crash; cut it off so appends start on a clean line.
        if (end >= Buffer.byteLength(text)) {
          truncateSync(file, offset);
          break;
        }
        throw new StrataError("STORE_CORRUPT", `${file}: a stored item is damaged (byte ${offset})`, "the run cannot be resumed; start a new one");
      }
      const at = byId.get(parsed.id);
      if (at === undefined) {
        byId.set(parsed.id, items.length);
        items.push(parsed);
      } else items[at] = parsed;
    }
    offset = end;
  }
  return items;
}

/** Appends one scored item and flushes it to disk. */
export function appendItem(run: StoredRun, item: StoredItem): void {
  const file = join(run.dir, "items.jsonl");
  const fd = openSync(file, "a");
  try {
    appendFileSync(fd, JSON.stringify(item) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  run.items.push(item);
}

/**
 * Stores a run that was scored in one piece (retrieval, language modelling: nothing to resume):
 * its items written at once, then run.json marked complete. Returns the run's id.
 */
export function storeFinishedRun(runsDir: string, init: Pick<RunRecord, "kind" | "config" | "dataset" | "codeVersion" | "modelRef">, items: StoredItem[], summary: Record<string, number | null>): string {
  const run = createRun(runsDir, init);
  writeAtomically(join(run.dir, "items.jsonl"), items.map((i) => JSON.stringify(i) + "\n").join(""));
  run.items = items;
  completeRun(run, summary);
  return run.run.id;
}

/** Marks the run complete with its summary. */
export function completeRun(run: StoredRun, summary: Record<string, number | null>, now = new Date()): void {
  run.run = { ...run.run, status: "complete", summary, updatedAt: now.toISOString() };
  writeAtomically(join(run.dir, "run.json"), JSON.stringify(run.run, null, 1) + "\n");
}

/** The runs in a folder, newest first (damaged ones are skipped). */
export function listRuns(runsDir: string): RunRecord[] {
  const root = resolve(runsDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  const out: RunRecord[] = [];
  for (const name of readdirSync(root).filter((n) => REPORT_ID_PATTERN.test(n)).sort().reverse()) {
    try {
      out.push(openRun(name, root).run);
    } catch {
      // a damaged run is left out of the list; openRun names the problem when asked for it
    }
  }
  return out;
}
