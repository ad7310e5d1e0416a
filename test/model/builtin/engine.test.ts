// The builtin engine's decoding: logits through the KV cache, one token at a time and with a reused
// prompt prefix, equal one full forward pass; the windowed loss equals the cross-entropy of the
// full-pass logits.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { LlamaInference } from "../../../src/model/providers/builtin/index.js";
import { TINY_TEXT, maxAbsDiff, tinyTrainedLlama, type TinyTrained } from "./helpers.js";

let trained: TinyTrained;
let ids: number[];

before(async () => {
  trained = await tinyTrainedLlama();
  ids = trained.tokenizer.encode(TINY_TEXT, { addBos: true }).slice(0, 100);
});

function row(all: Float32Array, t: number, V: number): Float32Array {
  return all.subarray(t * V, (t + 1) * V);
}

test("KV-cache decoding (prompt, then one token at a time) equals the full forward pass at every position", () => {
  const V = trained.config.vocab;
  const engine = new LlamaInference(trained.model);
  const full = engine.logitsAll(ids);
  let worst = maxAbsDiff(engine.prefill(ids.slice(0, 7)), row(full, 6, V));
  for (let t = 7; t < ids.length; t++) worst = Math.max(worst, maxAbsDiff(engine.step(ids[t]!), row(full, t, V)));
  assert.equal(engine.cachedLength, ids.length);
  assert.ok(worst < 1e-4, `max difference ${worst}`);
});

test("a prompt that shares a prefix with the cached sequence reuses it and gives the same logits", () => {
  const V = trained.config.vocab;
  const engine = new LlamaInference(trained.model);
  const full = engine.logitsAll(ids);
  engine.prefill(ids.slice(0, 60));
  engine.step(ids[60]!);
  // A new prompt with the same first 40 tokens and a different tail: positions 40+ are recomputed.
  const other = [...ids.slice(0, 40), ...ids.slice(70, 90)];
  const fresh = new LlamaInference(trained.model).logitsAll(other);
  assert.ok(maxAbsDiff(engine.prefill(other), row(fresh, other.length - 1, V)) < 1e-4);
  assert.equal(engine.cachedLength, other.length);
  // The same prompt again: only the last position runs, the answer is unchanged.
  assert.ok(maxAbsDiff(engine.prefill(ids.slice(0, 50)), row(full, 49, V)) < 1e-4);
  assert.ok(maxAbsDiff(engine.prefill(ids.slice(0, 50)), row(full, 49, V)) < 1e-4);
});

test("the context limit: a prompt longer than the context, or a step past it, is CONTEXT_OVERFLOW", () => {
  const engine = new LlamaInference(trained.model, { contextLength: 16 });
  assert.equal(engine.contextLength, 16);
  assert.throws(() => engine.prefill(ids.slice(0, 17)), /CONTEXT_OVERFLOW|context holds 16/);
  engine.prefill(ids.slice(0, 16));
  assert.throws(() => engine.step(ids[16]!), (e: Error & { code?: string }) => e.code === "CONTEXT_OVERFLOW");
  assert.throws(() => engine.prefill([trained.config.vocab]), (e: Error & { code?: string }) => e.code === "USAGE");
  assert.equal(new LlamaInference(trained.model, { contextLength: 10_000 }).contextLength, trained.config.maxSeq, "capped at the model's maxSeq");
});

/** Summed next-token cross-entropy of `input` against `targets` from one full forward pass. */
function nllOf(engine: LlamaInference, input: number[], targets: number[]): number {
  const V = engine.vocab;
  const full = engine.logitsAll(input);
  let nll = 0;
  targets.forEach((target, t) => {
    const r = row(full, t, V);
    const m = Math.max(...r);
    nll += m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0)) - r[target]!;
  });
  return nll;
}

test("the windowed loss equals the cross-entropy of full-pass logits; every token after the first is scored once", async () => {
  const engine = new LlamaInference(trained.model);
  const n = 90;
  const one = await engine.loss(ids.slice(0, n), { window: 128 });
  assert.equal(one.tokens, n - 1);
  const expected = nllOf(engine, ids.slice(0, n - 1), ids.slice(1, n));
  assert.ok(Math.abs(one.nll - expected) / expected < 1e-5, `${one.nll} vs ${expected}`);
  const events: number[] = [];
  const windowed = await engine.loss(ids.slice(0, n), { window: 32, onProgress: (e) => events.push(e.done) });
  assert.equal(windowed.tokens, n - 1);
  assert.deepEqual(events, [32, 64, 89]);
  // Windows [0, 32), [32, 64), [64, 89): each starts from the last token of the one before.
  const byWindow = [0, 32, 64].reduce((s, a) => s + nllOf(engine, ids.slice(a, Math.min(a + 32, n - 1)), ids.slice(a + 1, Math.min(a + 33, n))), 0);
  assert.ok(Math.abs(windowed.nll - byWindow) / byWindow < 1e-5, `${windowed.nll} vs ${byWindow}`);
});
