import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs, sleep } from "../../../src/core/retry.js";
import { isRetryableStatus, parseRetryAfter } from "../../../src/model/providers/openai/retry.js";
import { StrataError } from "../../../src/core/errors.js";

describe("retry policy", () => {
  it("retries 429 and 5xx only", () => {
    for (const s of [429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
    for (const s of [400, 401, 403, 404, 422]) assert.equal(isRetryableStatus(s), false, String(s));
  });

  it("doubles the backoff per attempt, jitters within [ceiling/2, ceiling], and caps it", () => {
    assert.equal(backoffDelayMs(0, 500, 30_000, () => 0), 250);
    assert.equal(backoffDelayMs(0, 500, 30_000, () => 1), 500);
    assert.equal(backoffDelayMs(1, 500, 30_000, () => 1), 1000);
    assert.equal(backoffDelayMs(3, 500, 30_000, () => 0.5), 3000); // ceiling 4000: 2000 + 0.5·2000
    assert.equal(backoffDelayMs(20, 500, 30_000, () => 1), 30_000);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    assert.equal(parseRetryAfter("2"), 2000);
    assert.equal(parseRetryAfter("0"), 0);
    assert.equal(parseRetryAfter("1.5"), 1500);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now), 3000);
    assert.equal(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0, "a date in the past means now");
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter("soon"), undefined);
  });

  it("sleep ends early with ABORTED when the caller cancels", async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof StrataError && e.code === "ABORTED");
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(sleep(60_000, pre.signal), (e: unknown) => e instanceof StrataError && e.code === "ABORTED");
  });
});
