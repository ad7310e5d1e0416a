// Shared helpers for the benchmarks: where the repository and its data are, the machine a run was
// measured on, timing and latency percentiles (through the one `percentile` of src/eval/metrics.ts),
// a plain-text table, and the JSON file every benchmark writes to bench/out/ (git-ignored).
//
// Benchmarks run the same way from source and compiled:
//   node --import tsx bench/<name>.ts        (while developing)
//   npm run build && node dist/bench/<name>.js

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { mean, percentile } from "../src/eval/metrics.js";

/** The repository root: the nearest folder above this file whose package.json is Strata's (works from bench/ and dist/bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "strata") return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the Strata repository root above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** A BEIR dataset folder under <repo root>/../shared/data; exits with a clear message when it is absent. */
export function requireDataset(name: string): string {
  // STRATA_SHARED: the shared folder when the checkout is not beside it (a git worktree elsewhere).
  const dir = resolve(process.env.STRATA_SHARED ?? resolve(repoRoot(), "..", "shared"), "data", name);
  if (!existsSync(join(dir, "corpus.jsonl"))) {
    process.stderr.write(
      `error: the ${name} dataset is not at ${dir}\n` +
        `hint: put the BEIR-format ${name} folder (corpus.jsonl, queries.jsonl, qrels/) at ${dir}\n`,
    );
    process.exit(1);
  }
  return dir;
}

export interface MachineInfo {
  /** `nproc`: the cores this process may use. */
  cores: number;
  /** `lscpu | grep 'Model name'` (falls back to os.cpus()). */
  cpu: string;
  memGiB: number;
  node: string;
  platform: string;
  /** When the run started, ISO 8601. */
  date: string;
  /** 1-minute load average when the run started (other work on the machine skews absolute timings; ratios less so). */
  load1: number;
}

export function machineInfo(): MachineInfo {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const m = /^Model name:\s*(.+)$/m.exec(execFileSync("lscpu", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // no lscpu: keep os.cpus()'s name
  }
  return {
    cores: availableParallelism(),
    cpu,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    load1: round(loadavg()[0] ?? Number.NaN, 2),
  };
}

/** The 1-minute load average now, for the end of a run. */
export function loadNow(): number {
  return round(loadavg()[0] ?? Number.NaN, 2);
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date.slice(0, 10)}, load ${m.load1} at start`;
}

/** The command line that ran this benchmark, for the record. */
export function commandLine(): string {
  const script = process.argv[1] ? process.argv[1].replace(repoRoot() + "/", "") : "?";
  const loader = process.execArgv.join(" ");
  return ["node", loader, script, ...process.argv.slice(2)].filter((s) => s !== "").join(" ");
}

/** Milliseconds since an arbitrary origin, sub-millisecond precision. */
export const now = (): number => performance.now();

/** Runs `fn` and returns its result with the wall time in milliseconds. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = now();
  const value = await fn();
  return { value, ms: now() - t0 };
}

export interface LatencyStats {
  n: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Calls per second of wall time spent in the calls (n / sum of times). */
  per_s: number;
}

/** Latency summary of per-call times in milliseconds (linear-interpolated percentiles, as numpy). */
export function latencyStats(ms: readonly number[]): LatencyStats {
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    n: ms.length,
    mean_ms: round(mean(ms), 3),
    p50_ms: round(percentile(ms, 50), 3),
    p95_ms: round(percentile(ms, 95), 3),
    p99_ms: round(percentile(ms, 99), 3),
    max_ms: round(percentile(ms, 100), 3),
    per_s: round(total > 0 ? (ms.length * 1000) / total : Number.NaN, 1),
  };
}

export function round(x: number, decimals: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** A number for a table cell: thousands separators, a fixed number of decimals. */
export function fmt(x: number | null | undefined, decimals = 0): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return x.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A ratio a/b as "1.23×". */
export function ratio(a: number, b: number, decimals = 2): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "–";
  return `${(a / b).toFixed(decimals)}×`;
}

/** Prints a table with a header row; numeric-looking cells are right-aligned. Returns it as Markdown too. */
export function printTable(headers: string[], rows: string[][], out: NodeJS.WritableStream = process.stdout): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = (s: string): boolean => /^[-+]?[\d,.]+(?:×|%| ?[kMG]?B)?$/.test(s) || s === "–";
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric(c) && i > 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  out.write(line(headers) + "\n");
  out.write(widths.map((w) => "-".repeat(w)).join("  ") + "\n");
  for (const r of rows) out.write(line(r) + "\n");
  const md = [`| ${headers.join(" | ")} |`, `|${headers.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
  return md.join("\n");
}

/** Writes bench/out/<name>.json (the folder is git-ignored) and returns its path. */
export function writeJson(name: string, data: unknown): string {
  const dir = join(repoRoot(), "bench", "out");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}

/** Total size in bytes of the files in a folder (not recursive) whose names pass `keep`. */
export function folderBytes(dir: string, keep: (name: string) => boolean = () => true): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (!keep(f)) continue;
    const s = statSync(join(dir, f));
    if (s.isFile()) n += s.size;
  }
  return n;
}

/** Bytes as "12.3 MB" (powers of 1000). */
export function fmtBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let x = n;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${x.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Resident memory of this process, in MB. */
export function rssMB(): number {
  return Math.round(process.memoryUsage().rss / 1e6);
}

/** A line on stderr (progress, notes), so stdout keeps only the tables. */
export function note(msg: string): void {
  process.stderr.write(msg + "\n");
}

/** Lets timers and pending I/O run (between phases, so one phase's leftovers do not land in the next). */
export async function settle(): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}
