// Module bookkeeping: parameter names (Meta's llama names), counting, seeded initialisation, state
// dicts as plain typed arrays, and the errors of a mismatched state dict.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { Linear, Llama, type LlamaConfig, countParameters } from "../../src/nn/index.js";
import { Rng, noGrad } from "../../src/tensor/index.js";

const base: LlamaConfig = { vocab: 11, dim: 8, layers: 2, heads: 2, kvHeads: 1, ffnDim: 12, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

describe("Module", () => {
  it("names parameters like Meta's llama checkpoints, in a stable order", () => {
    const m = new Llama(base, { seed: 1 });
    const names = m.namedParameters().map(([n]) => n);
    assert.deepEqual(names.slice(0, 10), [
      "tok_embeddings.weight",
      "layers.0.attention_norm.weight",
      "layers.0.attention.wq.weight",
      "layers.0.attention.wk.weight",
      "layers.0.attention.wv.weight",
      "layers.0.attention.wo.weight",
      "layers.0.ffn_norm.weight",
      "layers.0.feed_forward.w1.weight",
      "layers.0.feed_forward.w2.weight",
      "layers.0.feed_forward.w3.weight",
    ]);
    assert.deepEqual(names.slice(-2), ["norm.weight", "output.weight"]);
    const shapes = Object.fromEntries(m.namedParameters().map(([n, t]) => [n, t.shape]));
    assert.deepEqual(shapes["layers.1.attention.wk.weight"], [4, 8]); // kvHeads · headDim × dim
    assert.deepEqual(shapes["layers.1.feed_forward.w2.weight"], [8, 12]);
    assert.ok(m.parameters().every((t) => t.requiresGrad));
  });

  it("counts parameters: by hand, by countParameters, tied and with experts", () => {
    // embeddings 11·8 = 88; per layer: wq 8·8 + wk 4·8 + wv 4·8 + wo 8·8 = 192, ffn 3·8·12 = 288, norms 16 → 496;
    // final norm 8; output 88  →  88 + 2·496 + 8 + 88 = 1176
    assert.equal(new Llama(base, { seed: 1 }).numParameters(), 1176);
    assert.equal(countParameters(base), 1176);
    const tied = { ...base, tieEmbeddings: true };
    assert.equal(new Llama(tied, { seed: 1 }).numParameters(), 1176 - 88);
    assert.equal(countParameters(tied), 1176 - 88);
    assert.ok(!new Llama(tied, { seed: 1 }).namedParameters().some(([n]) => n === "output.weight"));
    const moe = { ...base, moe: { experts: 3, topK: 2 } };
    // each layer: 3 experts · 288 + router 8·3 = 888 instead of 288
    assert.equal(new Llama(moe, { seed: 1 }).numParameters(), 1176 + 2 * (888 - 288));
    assert.equal(countParameters(moe), 1176 + 2 * (888 - 288));
  });

  it("initialisation is seeded: same seed same weights, another seed other weights", () => {
    const a = new Llama(base, { seed: 7 }).stateDict();
    const b = new Llama(base, { seed: 7 }).stateDict();
    const c = new Llama(base, { seed: 8 }).stateDict();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a["layers.0.attention.wq.weight"]!.data, c["layers.0.attention.wq.weight"]!.data);
    const w = a["tok_embeddings.weight"]!.data;
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    assert.ok(std > 0.012 && std < 0.03, `embedding std ${std}`);
    assert.deepEqual(Array.from(a["norm.weight"]!.data), new Array(8).fill(1));
  });

  it("a state dict round-trips into a differently seeded model, keeping tensor identities", () => {
    const src = new Llama(base, { seed: 1 });
    const dst = new Llama(base, { seed: 2 });
    const params = dst.parameters();
    const sd = src.stateDict();
    assert.ok(Object.values(sd).every((e) => e.data instanceof Float32Array && Array.isArray(e.shape)));
    dst.loadStateDict(sd);
    assert.deepEqual(dst.stateDict(), sd);
    assert.ok(dst.parameters().every((t, i) => t === params[i]));
    const ids = [1, 2, 3, 4];
    const la = noGrad(() => src.forward(ids, [1, 4]).logits.toArray());
    const lb = noGrad(() => dst.forward(ids, [1, 4]).logits.toArray());
    assert.deepEqual(la, lb);
    // the copy is detached from the model's storage
    sd["norm.weight"]!.data[0] = 42;
    assert.equal(src.norm.weight.data[0], 1);
  });

  it("refuses missing, unknown and misshapen parameters", () => {
    const m = new Llama(base, { seed: 1 });
    const isMismatch = (e: unknown): boolean => e instanceof StrataError && e.code === "STATE_DICT_MISMATCH";
    const sd = m.stateDict();
    const missing = { ...sd };
    delete missing["norm.weight"];
    assert.throws(() => m.loadStateDict(missing), isMismatch);
    assert.throws(() => m.loadStateDict({ ...sd, extra: { shape: [1], data: new Float32Array(1) } }), isMismatch);
    m.loadStateDict({ ...sd, extra: { shape: [1], data: new Float32Array(1) } }, { strict: false });
    const other = new Llama({ ...base, ffnDim: 16 }, { seed: 1 }).stateDict();
    assert.throws(() => m.loadStateDict(other), (e: unknown) => isMismatch(e) && /feed_forward/.test((e as Error).message));
  });

  it("a Linear holds [out, in] and computes x Wᵀ", () => {
    const l = new Linear(3, 2, { rng: new Rng(1) });
    l.weight.data.set([1, 2, 3, 4, 5, 6]);
    const y = noGrad(() => l.forward(new Llama(base, { seed: 1 }).norm.weight.reshape([1, 8]).slice(1, 0, 3)));
    assert.deepEqual(y.toArray(), [6, 15]);
  });
});
