// withRetry: the one retry loop (model calls of agent runs, tool calls): how many tries, which
// failures, which waits, and that a cancel is never retried.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { withRetry } from "../../src/core/retry.js";
import { isStrataError } from "../helpers/errors.js";

const policy = { retries: 2, baseMs: 4, maxMs: 8, random: () => 0 };

describe("withRetry", () => {
  it("retries retryable failures up to `retries` times with doubling waits, then throws the last error", async () => {
    const seen: Array<[number, number | null]> = [];
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw new StrataError("TIMEOUT", `try ${calls}`);
      }, { ...policy, retryable: () => true, onFailure: (_e, attempt, wait) => seen.push([attempt, wait]) }),
      isStrataError("TIMEOUT", /try 3/),
    );
    assert.equal(calls, 3);
    assert.deepEqual(seen, [[0, 2], [1, 4], [2, null]]); // equal jitter with random 0: half the ceiling
  });

  it("returns the first success, and does not retry what is not retryable", async () => {
    let calls = 0;
    assert.equal(await withRetry(async (attempt) => (attempt < 1 ? Promise.reject(new Error("flaky")) : "ok"), { ...policy, retryable: () => true }), "ok");
    await assert.rejects(withRetry(async () => { calls++; throw new StrataError("USAGE", "bad"); }, { ...policy, retryable: () => false }), isStrataError("USAGE"));
    assert.equal(calls, 1);
  });

  it("waits the number a failure asks for (Retry-After) instead of the backoff", async () => {
    const waits: Array<number | null> = [];
    await withRetry(async (a) => (a === 0 ? Promise.reject(new Error("429")) : 1), { ...policy, retryable: () => 1, onFailure: (_e, _a, w) => waits.push(w) });
    assert.deepEqual(waits, [1]);
  });

  it("a cancel stops the waiting with ABORTED and is never retried", async () => {
    const ac = new AbortController();
    let calls = 0;
    const p = withRetry(async () => { calls++; throw new StrataError("TIMEOUT", "slow"); }, { retries: 5, baseMs: 60_000, maxMs: 60_000, signal: ac.signal, retryable: () => true });
    setTimeout(() => ac.abort(), 10);
    await assert.rejects(p, isStrataError("ABORTED"));
    assert.equal(calls, 1);
  });
});
