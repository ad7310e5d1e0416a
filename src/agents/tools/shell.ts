// shell: runs one program from an allow-list with an argument array — no shell, so nothing in the
// arguments is interpolated, globbed or chained. Off unless commands are allowed. Each entry is a
// bare program name (looked up on PATH) or an absolute path; output is capped and time-limited.
import { execFile } from "node:child_process";
import { isAbsolute } from "node:path";
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import type { ToolRisk } from "../types.js";
import { defineTool, type Tool } from "./tool.js";

export interface ShellOptions {
  /** Programs that may be run, e.g. ["ls", "git", "wc"]. */
  allowCommands: readonly string[];
  cwd?: string;
  timeoutMs?: number;
  /** Most bytes of stdout (and of stderr) returned (default 64 KiB). */
  maxOutputBytes?: number;
  /** Default "external": allowed programs may still change things. */
  risk?: ToolRisk;
  /** Environment for the programs (default: PATH, HOME, LANG only). */
  env?: NodeJS.ProcessEnv;
}

export function shellTool(o: ShellOptions): Tool {
  if (o.allowCommands.length === 0) throw new StrataError("USAGE", "the shell tool needs at least one allowed command", "pass allowCommands (the CLI's --allow-commands ls,wc)");
  for (const c of o.allowCommands) if (!/^[A-Za-z0-9._+-]+$/.test(c) && !isAbsolute(c)) throw new StrataError("USAGE", `allowed command "${c}" must be a bare program name or an absolute path`, "e.g. ls or /usr/bin/git");
  const max = o.maxOutputBytes ?? 64 * 1024;
  const env = o.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", LANG: process.env.LANG ?? "C.UTF-8" };
  return defineTool({
    name: "shell",
    description: `Runs one allowed program with arguments (no shell: no pipes, globbing or variables). Allowed: ${o.allowCommands.join(", ")}.`,
    input: z.object({
      command: z.string().min(1).max(256).describe(`one of: ${o.allowCommands.join(", ")}`),
      args: z.array(z.string().max(4096)).max(64).default([]).describe("arguments, one per element"),
    }),
    risk: o.risk ?? "external",
    timeoutMs: o.timeoutMs ?? 20_000,
    maxResultChars: 2 * max + 500,
    run: ({ command, args }, ctx) => {
      if (!o.allowCommands.includes(command)) throw new StrataError("FORBIDDEN", `"${command}" is not an allowed command`, `allowed: ${o.allowCommands.join(", ")}`);
      return new Promise((resolve, reject) => {
        execFile(command, args, { cwd: o.cwd, env, shell: false, signal: ctx.signal, maxBuffer: max, encoding: "utf8", windowsHide: true }, (error, stdout, stderr) => {
          const e = error as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean }) | null;
          if (e && e.code === "ENOENT") return reject(new StrataError("NOT_FOUND", `${command} is not installed`, "allow a program that exists on this machine"));
          if (e && e.name === "AbortError") return reject(new StrataError("ABORTED", `${command} was stopped`, "run it again"));
          const truncated = e?.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER";
          resolve({ command, args, exitCode: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout: String(stdout ?? "").slice(0, max), stderr: String(stderr ?? "").slice(0, max), truncated });
        });
      });
    },
  });
}
