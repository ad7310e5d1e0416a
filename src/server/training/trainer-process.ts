// Runs `strata train pretrain` in a child process: training is CPU-bound and synchronous between
// steps, so in the server's own process it would stall every request. The child writes its events
// to <run>/events.jsonl (--events), which the server follows, and its result or error as one JSON
// document on stdout (--json). SIGINT is the CLI's Ctrl-C: it saves a checkpoint and stops.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunError } from "./job-file.js";
import { EventTail } from "./event-tail.js";
import { EVENTS_FILE, parseEventLine, type ProgressEvent } from "./progress.js";

const STDERR_TAIL = 8 * 1024;

export interface TrainerExit {
  /** The trainer finished its steps (exit 0). */
  ok: boolean;
  /** The trainer's own error ({code, message, hint} from --json), when it reported one. */
  error: RunError | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of stderr, for the server log when the process died without a word. */
  stderrTail: string;
}

export interface TrainerProcess {
  pid: number | undefined;
  /** Asks the trainer to stop (it saves a checkpoint first). */
  interrupt(): void;
  /** Ends it at once. */
  kill(): void;
  exited: Promise<TrainerExit>;
}

/**
 * How to start the CLI: the built dist/src/cli/main.js beside this module, or, when the server runs
 * from source under tsx (the tests), src/cli/main.ts through the same loader.
 */
function cliCommand(): string[] {
  const built = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
  if (existsSync(built)) return [built];
  const source = fileURLToPath(new URL("../../cli/main.ts", import.meta.url));
  if (existsSync(source)) return ["--import", import.meta.resolve("tsx"), source];
  throw new Error(`the strata CLI is not beside the server (${built} is missing); run npm run build`);
}

function parseResult(stdout: string): RunError | null {
  try {
    const doc = JSON.parse(stdout) as { error?: Partial<RunError> };
    const e = doc.error;
    if (e && typeof e.code === "string") return { code: e.code, message: String(e.message ?? ""), hint: String(e.hint ?? "") };
  } catch {
    // no document: the process died before it could print one
  }
  return null;
}

/** Starts `strata train pretrain <args> --out <runDir> --events <runDir>/events.jsonl --json`. */
export function startTrainer(runDir: string, args: string[], onEvent: (e: ProgressEvent) => void, onTailError: (e: unknown) => void): TrainerProcess {
  // The trainer needs no secret of the server's.
  const { STRATA_ADMIN_KEY: _adminKey, ...env } = process.env;
  const child = spawn(process.execPath, [...cliCommand(), "train", "pretrain", ...args, "--out", runDir, "--events", join(runDir, EVENTS_FILE), "--json"], {
    cwd: runDir,
    env: { ...env, CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = new EventTail(
    join(runDir, EVENTS_FILE),
    (line) => {
      const e = parseEventLine(line);
      if (e) onEvent(e);
    },
    onTailError,
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-STDERR_TAIL)));
  const exited = new Promise<TrainerExit>((resolve) => {
    let ended = false; // "error" and "close" can both come
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (ended) return;
      ended = true;
      try {
        tail.stop();
      } catch (e) {
        onTailError(e);
      }
      const error = spawnError ? { code: "INTERNAL", message: `the trainer could not be started: ${spawnError.message}`, hint: "see the server log" } : parseResult(stdout);
      resolve({ ok: code === 0 && !spawnError, error, code, signal, stderrTail: stderr });
    };
    child.once("error", (e) => finish(null, null, e));
    child.once("close", (code, signal) => finish(code, signal));
  });
  const send = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  return { pid: child.pid, interrupt: () => send("SIGINT"), kill: () => send("SIGKILL"), exited };
}
