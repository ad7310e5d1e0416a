// Runs the built `strata serve` in a child process, as an operator would, and reads its stderr:
// the URL it listens on (with --port 0, the port it picked), the admin key it printed, its logs.
import { spawn, type ChildProcess } from "node:child_process";
import { cliPath } from "../helpers/paths.js";

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when stderr contains `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath(), "serve", "--port", "0", ...args], { env: { ...process.env, CI: "true", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  const waiters: (() => void)[] = [];
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`strata serve did not print ${pattern} within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
      const check = (): void => {
        const m = pattern.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`strata serve exited (${child.exitCode}) before printing ${pattern}; stderr:\n${err}`));
        } else waiters.push(check);
      };
      check();
    });
  const m = await waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    child,
    url: m[1]!,
    stderr: () => err,
    waitFor,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
