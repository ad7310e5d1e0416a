// Sampling (src/model/sampling.ts): greedy, temperature, top-k, top-p, repetition penalty, seeds and
// stop strings, checked on small hand-made distributions.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Sampler, StopSequenceMatcher, argmax, candidates, penalize, resolveSampling } from "../../src/model/sampling.js";
import { isStrataError } from "../helpers/errors.js";

const logitsOf = (probs: number[]): Float32Array => Float32Array.from(probs.map(Math.log));

function softmax(x: ArrayLike<number>, t = 1): number[] {
  const m = Math.max(...Array.from(x));
  const e = Array.from(x, (v) => Math.exp((v - m) / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function frequencies(sampler: Sampler, logits: Float32Array, draws: number): number[] {
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits)]!++;
  return counts.map((c) => c / draws);
}

const isUsage = (pattern: RegExp) => isStrataError("USAGE", pattern);

describe("sampling", () => {
  test("temperature 0 (and no options) is the argmax, lowest id on ties, whatever the seed", () => {
    const logits = Float32Array.of(0.1, 2, -1, 2, 1.9);
    assert.equal(argmax(logits), 1);
    for (const seed of [0, 1, 99]) {
      assert.equal(new Sampler({ temperature: 0, seed }).sample(logits), 1);
      assert.equal(new Sampler({ seed, topK: 3, topP: 0.5 }).sample(logits), 1);
    }
    assert.deepEqual(candidates(logits, { temperature: 0, topK: 0, topP: 1 }), { ids: Int32Array.of(1), probs: Float64Array.of(1) });
  });

  test("a seed gives the same tokens every time; another seed other tokens", () => {
    const logits = logitsOf([0.2, 0.2, 0.2, 0.2, 0.2]);
    const draw = (seed: number) => {
      const s = new Sampler({ temperature: 1, seed });
      return Array.from({ length: 40 }, () => s.sample(logits));
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    assert.deepEqual(draw(0), Array.from({ length: 40 }, (() => { const s = new Sampler({ temperature: 1 }); return () => s.sample(logits); })()), "no seed means seed 0");
  });

  test("temperature 1 draws from softmax(logits); temperature 0.5 from softmax(logits / 0.5)", () => {
    const logits = Float32Array.of(1, 0.5, 0, -1);
    for (const t of [1, 0.5, 2]) {
      const want = softmax(logits, t);
      const dist = new Sampler({ temperature: t }).distribution(logits);
      Array.from(dist.ids).forEach((id, i) => assert.ok(Math.abs(dist.probs[i]! - want[id]!) < 1e-6));
      const got = frequencies(new Sampler({ temperature: t, seed: 3 }), logits, 20_000);
      got.forEach((f, i) => assert.ok(Math.abs(f - want[i]!) < 0.015, `T=${t}: token ${i} drawn ${f}, expected ${want[i]}`));
    }
  });

  test("top-k keeps the k most probable tokens, renormalised; nothing else is ever drawn", () => {
    const logits = logitsOf([0.05, 0.4, 0.1, 0.3, 0.15]);
    const dist = new Sampler({ temperature: 1, topK: 2 }).distribution(logits);
    assert.deepEqual(Array.from(dist.ids), [1, 3]);
    assert.ok(Math.abs(dist.probs[0]! - 0.4 / 0.7) < 1e-6 && Math.abs(dist.probs[1]! - 0.3 / 0.7) < 1e-6);
    const got = frequencies(new Sampler({ temperature: 1, topK: 2, seed: 5 }), logits, 10_000);
    assert.equal(got[0]! + got[2]! + got[4]!, 0);
    assert.ok(Math.abs(got[1]! - 4 / 7) < 0.02, String(got[1]));
    assert.equal(new Sampler({ temperature: 1, topK: 1, seed: 9 }).sample(logits), 1, "top-k 1 is greedy");
  });

  test("top-p keeps the smallest most-probable set whose mass reaches p", () => {
    const logits = logitsOf([0.15, 0.5, 0.05, 0.3]);
    const ids = (topP: number) => Array.from(new Sampler({ temperature: 1, topP }).distribution(logits).ids);
    assert.deepEqual(ids(0.5), [1]);
    assert.deepEqual(ids(0.79), [1, 3]);
    assert.deepEqual(ids(0.81), [1, 3, 0]);
    assert.deepEqual(ids(1), [1, 3, 0, 2]);
    const d = new Sampler({ temperature: 1, topP: 0.9 }).distribution(logits);
    assert.ok(Math.abs(d.probs[0]! - 0.5 / 0.95) < 1e-6, "renormalised over the kept tokens");
    const got = frequencies(new Sampler({ temperature: 1, topP: 0.7, seed: 11 }), logits, 10_000);
    assert.equal(got[0]! + got[2]!, 0, "the cut tokens are never drawn");
    assert.ok(Math.abs(got[1]! - 0.5 / 0.8) < 0.02);
    // Top-k then top-p: k = 3 leaves [0.5, 0.3, 0.15] / 0.95; p = 0.8 of that keeps two.
    assert.deepEqual(Array.from(new Sampler({ temperature: 1, topK: 3, topP: 0.8 }).distribution(logits).ids), [1, 3]);
  });

  test("repetition penalty divides positive and multiplies negative logits of recent tokens, once each", () => {
    const logits = Float32Array.of(2, -1, 1.5, 0.5);
    assert.deepEqual(Array.from(penalize(logits, [0, 1, 0, 0], 2)), [1, -2, 1.5, 0.5]);
    assert.deepEqual(Array.from(penalize(logits, [0, 1], 2, 1)), [2, -2, 1.5, 0.5], "only the last `window` ids count");
    assert.deepEqual(Array.from(penalize(logits, [0], 1)), Array.from(logits), "1 = off");
    assert.deepEqual(Array.from(logits), [2, -1, 1.5, 0.5], "the input is not changed");
    // Greedy picks token 0 until it has been said; the penalty then makes it pick token 2.
    assert.equal(new Sampler({}).sample(logits, [0]), 0);
    assert.equal(new Sampler({ repetitionPenalty: 1.5 }).sample(logits, [3, 0]), 2);
    const probs = new Sampler({ temperature: 1, repetitionPenalty: 1.5 }).distribution(logits, [0]);
    const p0 = probs.probs[Array.from(probs.ids).indexOf(0)]!;
    assert.ok(p0 < softmax(logits)[0]!, "a repeated token loses probability");
  });

  test("out-of-range options are usage errors naming the option", () => {
    assert.throws(() => resolveSampling({ temperature: -1 }), isUsage(/temperature/));
    assert.throws(() => new Sampler({ topK: 1.5 }), isUsage(/topK/));
    assert.throws(() => new Sampler({ topP: 0 }), isUsage(/topP/));
    assert.throws(() => new Sampler({ repetitionPenalty: 0 }), isUsage(/repetitionPenalty/));
    assert.throws(() => new Sampler({ seed: -2 }), isUsage(/seed/));
    assert.throws(() => new Sampler({ maxTokens: 0 }), isUsage(/maxTokens/));
    assert.throws(() => new Sampler({ stop: [""] }), isUsage(/stop/));
    assert.deepEqual(resolveSampling({}), { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, penaltyWindow: 64, seed: 0 });
  });
});

describe("stop sequences", () => {
  const run = (stops: string[], pieces: string[]) => {
    const m = new StopSequenceMatcher(stops);
    let out = "";
    const shown: string[] = [];
    let stopped = false;
    for (const p of pieces) {
      const r = m.push(p);
      out += r.text;
      shown.push(r.text);
      if (r.stopped) {
        stopped = true;
        break;
      }
    }
    if (!stopped) out += m.end();
    return { out, stopped, shown };
  };

  test("a stop string split across tokens is found, and neither it nor what follows is returned", () => {
    assert.deepEqual(run(["\n\n"], ["Hello", "\n", "\nWorld"]), { out: "Hello", stopped: true, shown: ["Hello", "", ""] });
    assert.deepEqual(run(["END"], ["the E", "N", "D of it"]).out, "the ");
    assert.deepEqual(run(["END"], ["xxENDyy"]).out, "xx", "inside one token");
  });

  test("text that might begin a stop string is held back until it cannot", () => {
    const r = run(["END"], ["the E", "ast"]);
    assert.deepEqual(r, { out: "the East", stopped: false, shown: ["the ", "East"] });
    assert.equal(run(["abc"], ["xa", "b"]).out, "xab", "held text comes out at the end");
  });

  test("with several stop strings the earliest in the text wins", () => {
    assert.equal(run(["world", "o w"], ["hello world"]).out, "hell");
    assert.equal(run([], ["no stops"]).out, "no stops");
  });
});
