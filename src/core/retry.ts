// Trying again after a transient failure, in one place: exponential backoff with jitter, a sleep
// that the caller's signal cuts short, and `withRetry`, the loop that model calls and tool calls
// share. Which failures are transient is the caller's to say (HTTP 429/5xx for a server, error
// codes for tools); the caller's cancel is never retried.
import { StrataError } from "./errors.js";

export interface RetryPolicy {
  /** Tries after the first. */
  retries: number;
  /** The first wait; each later one doubles, up to maxMs. */
  baseMs: number;
  maxMs: number;
}

/**
 * Wait before retry number `attempt` (0 = first retry): base·2^attempt, capped, with "equal
 * jitter" (half fixed, half random) so many clients that failed together do not retry together.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

const cancelled = (): StrataError => new StrataError("ABORTED", "cancelled while waiting to try again", "run it again to finish");

/** Sleeps, waking early with `abortError()` (ABORTED) when the caller cancels. */
export function sleep(ms: number, signal: AbortSignal | undefined, abortError: () => Error = cancelled): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions extends RetryPolicy {
  /** Whether a failure may pass on its own; a number is the wait to use instead of the backoff (e.g. Retry-After). */
  retryable: (error: unknown, attempt: number) => boolean | number;
  /** Every failure but a cancel: the attempt (0-based) and the wait before the next one, or null when it is the last. */
  onFailure?: (error: unknown, attempt: number, retryInMs: number | null) => void;
  signal?: AbortSignal | undefined;
  /** Random numbers for the jitter (tests pass a fixed one). */
  random?: (() => number) | undefined;
  /** The error a cancel during a wait rejects with (default: ABORTED). */
  abortError?: () => Error;
}

/** Runs `attempt` until it resolves, the failure is not retryable, the retries are spent or the signal aborts. */
export async function withRetry<T>(run: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run(attempt);
    } catch (e) {
      if (o.signal?.aborted) throw e;
      const verdict = attempt < o.retries ? o.retryable(e, attempt) : false;
      const delayMs = verdict === false ? null : typeof verdict === "number" ? verdict : backoffDelayMs(attempt, o.baseMs, o.maxMs, o.random);
      o.onFailure?.(e, attempt, delayMs);
      if (delayMs === null) throw e;
      await sleep(delayMs, o.signal, o.abortError);
    }
  }
}
