// The one wrapper every command runs in: Ctrl-C cancels through an AbortSignal, errors become
// `error:`/`hint:` lines and the right exit code, and --json output is exactly one document.
import type { Command } from "commander";
import { reportError } from "./errors.js";

export interface CommandContext {
  signal: AbortSignal;
  printJson(value: unknown): void;
}

type Action<A extends unknown[]> = (...args: [...A, CommandContext]) => Promise<number>;

export function withCommand<A extends unknown[]>(action: Action<A>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const flags = command.opts<{ json?: boolean }>();
    const debug = Boolean(command.optsWithGlobals<{ debug?: boolean }>().debug);
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once("SIGINT", onSigint);
    const ctx: CommandContext = {
      signal: controller.signal,
      printJson: (value) => process.stdout.write(JSON.stringify(value, null, 2) + "\n"),
    };
    try {
      process.exitCode = await action(...(args.slice(0, -1) as A), ctx);
    } catch (e) {
      process.exitCode = reportError(e, { json: flags.json, debug });
    } finally {
      process.off("SIGINT", onSigint);
    }
  };
}
