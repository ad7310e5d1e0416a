// Running one tool call: arguments checked against the tool's schema first (a mismatch goes back to
// the model as an error it can fix, the tool never runs), then the tool under its time limit and the
// run's AbortSignal, transient failures of repeatable tools retried with backoff, and the result cut
// to the tool's size cap. Failures are returned, not thrown: the agent loop feeds them to the model.
import { z } from "zod";
import { isStrataError, StrataError, toStrataError } from "../../core/errors.js";
import { type RetryPolicy, withRetry } from "../../core/retry.js";
import type { JsonValue, RunErrorInfo } from "../types.js";
import type { Tool, ToolContext } from "./tool.js";

export type ToolOutcome =
  | { ok: true; value: JsonValue; truncated: boolean }
  | { ok: false; error: RunErrorInfo };

/** Failures worth another try: the same call may well succeed a moment later. */
export const TRANSIENT_CODES = new Set(["TIMEOUT", "MODEL_RATE_LIMITED", "MODEL_SERVER_ERROR", "MODEL_UNREACHABLE", "MCP_UNAVAILABLE"]);

export function isTransient(e: unknown): boolean {
  return isStrataError(e) && TRANSIENT_CODES.has(e.code);
}

export type { RetryPolicy };

/** Tool and model calls of agent runs: two more tries, 250 ms then 500 ms (± jitter). */
export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseMs: 250, maxMs: 4_000 };

/** Zod issues as one readable line: `path: message; path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(arguments)"}: ${i.message}`)
    .join("; ");
}

/** Validated arguments, or TOOL_ARGS_INVALID naming what is wrong. */
export function validateArgs(tool: Tool, args: unknown): unknown {
  const r = tool.input.safeParse(args);
  if (!r.success) throw new StrataError("TOOL_ARGS_INVALID", `invalid arguments for ${tool.name}: ${describeIssues(r.error)}`, `call ${tool.name} with arguments matching its schema: ${JSON.stringify(tool.parameters)}`);
  return r.data;
}

/** A result as JSON, cut to `max` characters of JSON text (a cut result becomes a string). */
export function capResult(value: unknown, max: number): { value: JsonValue; truncated: boolean } {
  const json = value === undefined ? null : (value as JsonValue);
  let text: string;
  try {
    text = typeof json === "string" ? json : JSON.stringify(json);
  } catch (e) {
    throw new StrataError("TOOL_FAILED", `the tool returned a value that is not JSON: ${(e as Error).message}`, "return plain JSON values (strings, numbers, arrays, objects)");
  }
  if (text === undefined) return { value: null, truncated: false };
  if (text.length <= max) return { value: typeof json === "string" ? json : (JSON.parse(text) as JsonValue), truncated: false };
  return { value: `${text.slice(0, max)}\n…[truncated: ${text.length - max} more characters]`, truncated: true };
}

/** Runs `work` until it settles, `ms` pass (TIMEOUT) or `outer` fires (ABORTED); `work`'s signal fires in both cases. */
export function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, outer: AbortSignal, what: string): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      outer.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      controller.abort(outer.reason);
      finish();
      reject(new StrataError("ABORTED", `${what} was cancelled`, "resume the run to finish"));
    };
    const timer = setTimeout(() => {
      controller.abort();
      finish();
      reject(new StrataError("TIMEOUT", `${what} took longer than ${ms} ms`, "raise the tool's timeoutMs, or ask for less"));
    }, ms);
    if (outer.aborted) return onAbort();
    outer.addEventListener("abort", onAbort, { once: true });
    Promise.resolve()
      .then(() => work(controller.signal))
      .then(
        (v) => {
          finish();
          resolve(v);
        },
        (e: unknown) => {
          finish();
          reject(e);
        },
      );
  });
}

/**
 * Runs `tool` with already-validated `args`. Transient failures are retried only for tools that
 * may repeat (read tools and idempotent ones); cancellation is rethrown, every other failure is
 * returned as `{ ok: false }`.
 */
export async function invokeTool(
  tool: Tool,
  args: unknown,
  ctx: ToolContext,
  o: { retry?: RetryPolicy; onRetry?: (attempt: number, delayMs: number, error: StrataError) => void; random?: () => number } = {},
): Promise<ToolOutcome> {
  const policy = o.retry ?? DEFAULT_RETRY;
  const repeatable = tool.idempotent || tool.risk === "read";
  const failure = (e: unknown): StrataError => toStrataError(e, "TOOL_FAILED", `check the arguments of ${tool.name}`);
  try {
    return await withRetry(
      async (attempt) => {
        const value = await withTimeout(async (signal) => tool.run(args, { ...ctx, signal, attempt: ctx.attempt + attempt }), tool.timeoutMs, ctx.signal, `tool ${tool.name}`);
        return { ok: true as const, ...capResult(value, tool.maxResultChars) };
      },
      {
        ...policy,
        signal: ctx.signal,
        random: o.random,
        retryable: (e) => repeatable && isTransient(failure(e)),
        onFailure: (e, attempt, delayMs) => {
          if (delayMs !== null) o.onRetry?.(attempt + 1, delayMs, failure(e));
        },
      },
    );
  } catch (e) {
    if (ctx.signal.aborted) throw toStrataError(e, "ABORTED");
    const err = failure(e);
    return { ok: false, error: { code: err.code, message: err.message, hint: err.hint } };
  }
}
