// Evaluation reports published into a server's data folder: <data>/reports/<id>/report.json (what a
// chart needs: kind, dataset, headline metrics, per-query or per-window figures) and, when the
// command made one, report.html. `strata eval … --publish <data>` writes them; the server lists and
// serves them. A report appears whole or not at all: both files are written into a hidden staging
// folder, then the folder is renamed into place. Ids are made here and checked against a strict
// pattern on every read, so an id can never name a path outside reports/.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import type { RetrievalEvalResult } from "./retrieval.js";

export const REPORT_FORMAT = "strata-eval-report";
export const REPORT_FORMAT_VERSION = 1;
/** yyyymmdd-hhmmss-<8 hex>: sorts by time, unique by its random tail. */
export const REPORT_ID_PATTERN = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$/;
export const REPORT_JSON = "report.json";
export const REPORT_HTML = "report.html";
/** A report.json larger than this is listed as damaged rather than parsed (a report is kilobytes). */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

const metricsSchema = z.record(z.string(), z.number());
const common = {
  format: z.literal(REPORT_FORMAT),
  formatVersion: z.literal(REPORT_FORMAT_VERSION),
  id: z.string().regex(REPORT_ID_PATTERN),
  title: z.string().min(1).max(500),
  dataset: z.string().max(500),
  split: z.string().max(200).nullable(),
  createdAt: z.string(),
  strataVersion: z.string(),
  command: z.string().max(10_000).nullable(),
  metrics: metricsSchema,
  hasHtml: z.boolean(),
};

const retrievalSchema = z.object({ ...common, kind: z.literal("retrieval"), perQuery: z.array(z.object({ id: z.string(), ndcg_at_10: z.number() }).strict()) }).strict();
const lmSchema = z.object({ ...common, kind: z.literal("lm"), windows: z.array(z.object({ index: z.number().int(), tokens: z.number().int(), loss: z.number() }).strict()) }).strict();
const qaSchema = z.object({ ...common, kind: z.literal("qa"), perItem: z.array(z.object({ id: z.string(), f1: z.number(), abstained: z.boolean() }).strict()) }).strict();
const deltaSchema = z.object({ metric: z.string(), meanA: z.number(), meanB: z.number(), delta: z.number(), low: z.number(), high: z.number(), n: z.number().int() }).strict();
// Function calling (BFCL) and agent tasks: right or wrong per item, grouped by category.
const taskItems = z.array(z.object({ id: z.string(), correct: z.boolean(), category: z.string().max(200) }).strict());
const toolsSchema = z.object({ ...common, kind: z.literal("tools"), perItem: taskItems }).strict();
const agentsSchema = z.object({ ...common, kind: z.literal("agents"), perItem: taskItems }).strict();
const compareSchema = z.object({ ...common, kind: z.literal("compare"), runs: z.object({ a: z.string(), b: z.string() }).strict(), deltas: z.array(deltaSchema) }).strict();
export const publishedReportSchema = z.discriminatedUnion("kind", [retrievalSchema, lmSchema, qaSchema, toolsSchema, agentsSchema, compareSchema]);

export type PublishedReport = z.infer<typeof publishedReportSchema>;
export type ReportKind = PublishedReport["kind"];
/** Every kind of published report, for the schemas that describe them elsewhere (the server's API). */
export const REPORT_KINDS = ["retrieval", "lm", "qa", "tools", "agents", "compare"] as const satisfies readonly ReportKind[];
type Stamped = "format" | "formatVersion" | "id" | "createdAt" | "strataVersion" | "hasHtml";
/** What a command hands to publishReport: the report less what the writer stamps on it. */
export type ReportInput = { [K in ReportKind]: Omit<Extract<PublishedReport, { kind: K }>, Stamped> }[ReportKind];

/** One row of the list: the headline of a readable report, or why one cannot be read. */
export type ReportSummary =
  | { id: string; damaged: false; kind: ReportKind; title: string; dataset: string; split: string | null; createdAt: string; metrics: Record<string, number>; hasHtml: boolean }
  | { id: string; damaged: true; error: string };

export function reportsDir(dataDir: string): string {
  return resolve(dataDir, "reports");
}

export function newReportId(now: Date = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const stamp = `${p(now.getUTCFullYear(), 4)}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

/** The id if it has the writer's shape; a USAGE error otherwise (so "..", "a/b" never reach the disk). */
export function checkReportId(id: string): string {
  if (!REPORT_ID_PATTERN.test(id)) throw new StrataError("USAGE", `"${id.slice(0, 80)}" is not a report id`, "ids look like 20260131-142501-1a2b3c4d; list them with GET /api/eval-reports");
  return id;
}

function folderOf(dataDir: string, id: string): string {
  return join(reportsDir(dataDir), checkReportId(id));
}

/** The version in Strata's package.json, found from this file in src/ or dist/src/. */
export function strataVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        const v = (JSON.parse(readFileSync(pkg, "utf8")) as { version?: unknown }).version;
        return typeof v === "string" ? v : "unknown";
      } catch {
        return "unknown";
      }
    }
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}

/** Writes a file and flushes it to disk, so the rename that publishes it never exposes a torn file. */
export function writeDurably(file: string, text: string): void {
  const fd = openSync(file, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Publishes a report (and its HTML page, if given) under a new id; returns the stored report. */
export function publishReport(dataDir: string, input: ReportInput, opts: { html?: string; now?: Date } = {}): PublishedReport {
  const root = reportsDir(dataDir);
  if (existsSync(resolve(dataDir)) && !statSync(resolve(dataDir)).isDirectory()) throw new StrataError("USAGE", `--publish ${dataDir} is a file, not a folder`, "pass the server's data folder (strata serve --data <dir>)");
  mkdirSync(root, { recursive: true });
  const id = newReportId(opts.now);
  const report = publishedReportSchema.parse({
    ...input,
    format: REPORT_FORMAT,
    formatVersion: REPORT_FORMAT_VERSION,
    id,
    createdAt: (opts.now ?? new Date()).toISOString(),
    strataVersion: strataVersion(),
    hasHtml: opts.html !== undefined,
  });
  // The staging name starts with "." so it never matches REPORT_ID_PATTERN and is never listed.
  const staging = join(root, `.publishing-${id}`);
  mkdirSync(staging);
  try {
    writeDurably(join(staging, REPORT_JSON), JSON.stringify(report, null, 1) + "\n");
    if (opts.html !== undefined) writeDurably(join(staging, REPORT_HTML), opts.html);
    renameSync(staging, join(root, id));
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw new StrataError("UNREADABLE", `could not publish the report into ${root}: ${(e as Error).message}`, "check that the data folder is writable and has free space");
  }
  return report;
}

function parseReport(file: string, id: string): PublishedReport {
  let text: string;
  try {
    if (statSync(file).size > MAX_REPORT_BYTES) throw new StrataError("STORE_CORRUPT", `report ${id}: ${REPORT_JSON} is larger than ${MAX_REPORT_BYTES / 1024 / 1024} MiB`, "delete the report and publish it again");
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof StrataError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new StrataError("STORE_CORRUPT", `report ${id} has no ${REPORT_JSON}`, "delete the report and publish it again");
    throw new StrataError("STORE_CORRUPT", `report ${id}: ${REPORT_JSON} cannot be read (${(e as Error).message})`, "check the file's permissions, or delete the report");
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StrataError("STORE_CORRUPT", `report ${id}: ${REPORT_JSON} is not valid JSON (${(e as Error).message})`, "delete the report and publish it again");
  }
  const v = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof v === "number" && v > REPORT_FORMAT_VERSION) {
    throw new StrataError("STORE_TOO_NEW", `report ${id} was written by a newer Strata (format ${v}; this one reads up to ${REPORT_FORMAT_VERSION})`, "upgrade Strata to read it");
  }
  const r = publishedReportSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new StrataError("STORE_CORRUPT", `report ${id}: ${REPORT_JSON} is damaged (${at}${issue?.message ?? "invalid"})`, "delete the report and publish it again");
  }
  if (r.data.id !== id) throw new StrataError("STORE_CORRUPT", `report ${id}: ${REPORT_JSON} names another id (${r.data.id})`, "delete the report and publish it again");
  return r.data;
}

/** Every published report, newest first; a damaged one is listed with its error instead of breaking the list. */
export function listReports(dataDir: string): ReportSummary[] {
  const root = reportsDir(dataDir);
  if (!existsSync(root)) return [];
  const ids = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && REPORT_ID_PATTERN.test(d.name))
    .map((d) => d.name);
  const rows = ids.map((id): ReportSummary => {
    try {
      const r = parseReport(join(root, id, REPORT_JSON), id);
      return { id, damaged: false, kind: r.kind, title: r.title, dataset: r.dataset, split: r.split, createdAt: r.createdAt, metrics: r.metrics, hasHtml: r.hasHtml };
    } catch (e) {
      return { id, damaged: true, error: e instanceof Error ? e.message : String(e) };
    }
  });
  // Ids begin with their UTC time, so sorting them sorts by age, damaged ones included.
  return rows.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

function missing(id: string): StrataError {
  return new StrataError("NOT_FOUND", `there is no report ${id}`, "list the reports with GET /api/eval-reports");
}

/** One report; NOT_FOUND when there is none, STORE_CORRUPT when its file is damaged. */
export function readReport(dataDir: string, id: string): PublishedReport {
  const dir = folderOf(dataDir, id);
  if (!existsSync(dir)) throw missing(id);
  return parseReport(join(dir, REPORT_JSON), id);
}

/** The report's HTML page; NOT_FOUND when the report has none. */
export function readReportHtml(dataDir: string, id: string): string {
  const dir = folderOf(dataDir, id);
  if (!existsSync(dir)) throw missing(id);
  const file = join(dir, REPORT_HTML);
  if (!existsSync(file)) throw new StrataError("NOT_FOUND", `report ${id} has no HTML page`, "only `strata eval retrieval --publish` makes one; see the report's JSON instead");
  return readFileSync(file, "utf8");
}

/** Removes a report: renamed out of the list first, so a reader never sees half of it. */
export function deleteReport(dataDir: string, id: string): void {
  const dir = folderOf(dataDir, id);
  if (!existsSync(dir)) throw missing(id);
  const doomed = join(reportsDir(dataDir), `.deleting-${id}-${randomBytes(4).toString("hex")}`);
  renameSync(dir, doomed);
  rmSync(doomed, { recursive: true, force: true });
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** The report of a retrieval evaluation: headline metrics and nDCG@10 per query. */
export function retrievalReportInput(result: RetrievalEvalResult, meta: { title?: string; command?: string } = {}): ReportInput {
  return {
    kind: "retrieval",
    title: meta.title ?? `Retrieval: ${result.dataset} (${result.split})`,
    dataset: result.dataset,
    split: result.split,
    command: meta.command ?? null,
    metrics: { ndcg_at_10: result.ndcg_at_10, recall_at_100: result.recall_at_100, mrr_at_10: result.mrr_at_10, queries: result.queries, ms_per_query: result.ms_per_query },
    perQuery: result.perQuery.map((q) => ({ id: q.id, ndcg_at_10: round4(q.ndcg_at_10) })),
  };
}

/** The report of a language-model evaluation: loss, perplexity, and the loss of each window when known. */
export function lmReportInput(
  result: { model: string; data: string; tokens: number; loss: number; perplexity: number; window: number; seconds: number },
  meta: { title?: string; command?: string; dataset?: string; windows?: { index: number; tokens: number; loss: number }[] } = {},
): ReportInput {
  const dataset = meta.dataset ?? result.data.split(/[\\/]/).filter(Boolean).slice(-2).join("/");
  return {
    kind: "lm",
    title: meta.title ?? `Language model: ${result.model} on ${dataset}`,
    dataset,
    split: null,
    command: meta.command ?? null,
    metrics: { loss: round4(result.loss), perplexity: round4(result.perplexity), tokens: result.tokens, window: result.window, seconds: result.seconds },
    windows: (meta.windows ?? []).map((w) => ({ index: w.index, tokens: w.tokens, loss: round4(w.loss) })),
  };
}

/** The report of a QA run: headline figures (nulls left out) and F1 per question. */
export function qaReportInput(
  run: { id: string; dataset: string; items: ReadonlyArray<{ id: string; metrics: Record<string, number | null> }>; summary: Record<string, number | null> },
  meta: { title?: string; command?: string } = {},
): ReportInput {
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(run.summary)) if (typeof v === "number" && Number.isFinite(v)) metrics[k] = v;
  return {
    kind: "qa",
    title: meta.title ?? `Question answering: ${run.dataset} (run ${run.id})`,
    dataset: run.dataset,
    split: null,
    command: meta.command ?? null,
    metrics,
    perItem: run.items.map((i) => ({ id: i.id, f1: round4(i.metrics.f1 ?? 0), abstained: i.metrics.abstained === 1 })),
  };
}

/** The report of a run comparison: per-metric deltas with their intervals (non-finite ones left out). */
export function compareReportInput(
  c: { a: { id: string; dataset: string }; b: { id: string }; common: number; metrics: ReadonlyArray<{ metric: string; meanA: number; meanB: number; delta: number; low: number; high: number; n: number }> },
  meta: { title?: string; command?: string } = {},
): ReportInput {
  const deltas = c.metrics.filter((m) => [m.meanA, m.meanB, m.delta, m.low, m.high].every(Number.isFinite)).map((m) => ({ metric: m.metric, meanA: round4(m.meanA), meanB: round4(m.meanB), delta: round4(m.delta), low: round4(m.low), high: round4(m.high), n: m.n }));
  const metrics: Record<string, number> = { common_items: c.common };
  for (const d of deltas) metrics[`delta_${d.metric}`] = d.delta;
  return { kind: "compare", title: meta.title ?? `Compare ${c.a.id} → ${c.b.id}`, dataset: c.a.dataset, split: null, command: meta.command ?? null, metrics, runs: { a: c.a.id, b: c.b.id }, deltas };
}

/**
 * The report of a function-calling or agent-task run: headline figures (nulls left out) and
 * whether each item was right, with its category (BFCL's file category, or the task's world).
 */
export function taskReportInput(
  kind: "tools" | "agents",
  run: { id: string; dataset: string; items: ReadonlyArray<{ id: string; metrics: Record<string, number | null>; detail: Record<string, unknown> }>; summary: Record<string, number | null> },
  meta: { title?: string; command?: string } = {},
): ReportInput {
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(run.summary)) if (typeof v === "number" && Number.isFinite(v)) metrics[k] = v;
  const right = kind === "tools" ? "correct" : "success";
  return {
    kind,
    title: meta.title ?? `${kind === "tools" ? "Function calling" : "Agent tasks"}: ${run.dataset} (run ${run.id})`,
    dataset: run.dataset,
    split: null,
    command: meta.command ?? null,
    metrics,
    perItem: run.items.map((i) => ({ id: i.id, correct: i.metrics[right] === 1, category: String(i.detail.category ?? "scripted worlds").slice(0, 200) })),
  };
}
