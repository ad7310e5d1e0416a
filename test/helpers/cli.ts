// Runs the built `strata` CLI as a user would, in a child process.
import { spawn, spawnSync } from "node:child_process";
import { cliPath } from "./paths.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is one JSON document. */
  json: unknown;
}

function parse(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

export function strata(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath(), ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    maxBuffer: 256 << 20,
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...process.env, CI: "true", ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: parse(r.stdout) };
}

/** Starts the CLI without waiting, for tests that kill it midway. */
export function strataAsync(args: string[]) {
  return spawn(process.execPath, [cliPath(), ...args], { env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
}

/** The typed JSON of a result, failing loudly when stdout was not JSON. */
export function jsonOf<T>(r: CliResult): T {
  if (r.json === undefined) throw new Error(`stdout is not JSON (exit ${r.code}): ${r.stdout.slice(0, 300)} / ${r.stderr.slice(0, 300)}`);
  return r.json as T;
}
