// The trace recorder: nested spans with exact times from an injected clock, attributes, usage
// summed over the tree, errors recorded, and JSON that round-trips through the checker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inSpan, parseTraceData, totalUsage, Trace } from "../../src/core/trace.js";
import { StrataError } from "../../src/core/errors.js";

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test("spans record start, duration, attributes and children", () => {
  const c = clock();
  const trace = new Trace("ask", { clock: c.now, id: "trc_test", now: () => new Date("2026-01-02T03:04:05Z") });
  c.advance(5);
  const retrieve = trace.start("retrieve", { k: 8 });
  c.advance(10);
  const rerank = retrieve.start("rerank");
  c.advance(3);
  rerank.end();
  retrieve.set({ hits: 4 }).end();
  const gen = trace.start("generate");
  c.advance(20);
  gen.addUsage({ inputTokens: 100, outputTokens: 10, costUsd: 0.5 }).addUsage({ inputTokens: 1, outputTokens: 2 });
  gen.end();
  trace.end();
  const data = trace.toJSON();
  assert.equal(data.id, "trc_test");
  assert.equal(data.startedAt, "2026-01-02T03:04:05.000Z");
  assert.equal(data.ms, 38);
  assert.deepEqual(data.spans.map((s) => [s.name, s.startMs, s.ms]), [["retrieve", 5, 13], ["generate", 18, 20]]);
  assert.deepEqual(data.spans[0]!.attributes, { k: 8, hits: 4 });
  assert.deepEqual(data.spans[0]!.children.map((s) => [s.name, s.startMs, s.ms]), [["rerank", 15, 3]]);
  assert.deepEqual(data.usage, { inputTokens: 101, outputTokens: 12, costUsd: 0.5 });
});

test("ending twice keeps the first end; ending the trace ends open spans", () => {
  const c = clock();
  const trace = new Trace("ask", { clock: c.now });
  const s = trace.start("a");
  c.advance(4);
  s.end();
  c.advance(4);
  s.end();
  const open = trace.start("b");
  c.advance(2);
  trace.end();
  c.advance(100);
  open.end();
  const data = trace.toJSON();
  assert.deepEqual(data.spans.map((x) => x.ms), [4, 2]);
  assert.equal(data.ms, 10);
});

test("inSpan ends the span with the error and rethrows it", async () => {
  const trace = new Trace("ask");
  await assert.rejects(inSpan(trace, "generate", () => { throw new StrataError("MODEL_UNREACHABLE", "down"); }), /down/);
  assert.equal(await inSpan(trace, "ok", async (span) => { span.set({ x: 1 }); return 7; }), 7);
  const data = trace.toJSON();
  assert.equal(data.spans[0]!.error, "down");
  assert.equal(data.spans[1]!.error, undefined);
  assert.deepEqual(data.spans[1]!.attributes, { x: 1 });
});

test("toJSON is a snapshot: later changes do not alter an earlier copy", () => {
  const trace = new Trace("ask");
  const s = trace.start("a", { n: 1 });
  const before = trace.toJSON();
  s.set({ n: 2 });
  assert.equal(before.spans[0]!.attributes.n, 1);
  assert.equal(trace.toJSON().spans[0]!.attributes.n, 2);
});

test("serialised traces round-trip; damaged or foreign ones are refused", () => {
  const trace = new Trace("chat");
  trace.set({ session: "s1", nested: { list: [1, "two", null, true] } });
  trace.start("retrieve").end();
  trace.end();
  const json = JSON.parse(JSON.stringify(trace.toJSON())) as unknown;
  assert.deepEqual(parseTraceData(json), trace.toJSON());
  for (const bad of [null, {}, { ...(json as object), version: 2 }, { ...(json as object), spans: [{ name: 1 }] }, { ...(json as object), usage: { inputTokens: -1, outputTokens: 0 } }]) {
    assert.throws(() => parseTraceData(bad), (e: unknown) => e instanceof StrataError && e.code === "STORE_CORRUPT");
  }
});

test("ids are unique and usage of an empty trace is zero", () => {
  assert.notEqual(new Trace("a").id, new Trace("a").id);
  assert.match(new Trace("a").id, /^trc_[0-9a-f]{20}$/);
  assert.deepEqual(totalUsage([]), { inputTokens: 0, outputTokens: 0 });
});
