// How the CLI ends: one JSON document or plain text on stdout, `error:`/`hint:` lines on stderr, and
// exit codes from DESIGN.md (0 ok, 1 error, 2 usage, 3 partial success). Stack traces only with --debug.
import { isStrataError, StrataError } from "../core/errors.js";

export const EXIT = { ok: 0, error: 1, usage: 2, partial: 3 } as const;

const USAGE_CODES = new Set(["USAGE", "EMPTY_QUESTION", "QUESTION_TOO_LONG"]);

export function usageError(message: string, hint: string): StrataError {
  return new StrataError("USAGE", message, hint);
}

/** Prints an error the way every command does and returns the exit code to use. */
export function reportError(e: unknown, opts: { json?: boolean; debug?: boolean }): number {
  const err = isStrataError(e) ? e : new StrataError("INTERNAL", e instanceof Error ? e.message : String(e), "run again with --debug and report the trace");
  if (opts.json) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint } }) + "\n");
  process.stderr.write(`error: ${err.message}\n`);
  if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
  if (opts.debug || !isStrataError(e)) {
    const stack = e instanceof Error ? e.stack : undefined;
    if (stack && opts.debug) process.stderr.write(stack + "\n");
  }
  return USAGE_CODES.has(err.code) ? EXIT.usage : EXIT.error;
}
