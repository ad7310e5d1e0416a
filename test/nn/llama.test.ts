// The llama model end to end: shapes, config errors, KV-cache decoding equals the full forward,
// gradients of the whole model against finite differences, and a plain SGD loop whose loss falls.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { Llama, type LlamaConfig } from "../../src/nn/index.js";
import { Rng, noGrad, slice, withBackend } from "../../src/tensor/index.js";
import { assertClose, availableBackends } from "../tensor/helpers.js";

const tiny: LlamaConfig = { vocab: 13, dim: 16, layers: 2, heads: 4, kvHeads: 2, ffnDim: 24, maxSeq: 32, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

function randomIds(n: number, vocab: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

/** One step of plain SGD: p ← p − lr · ∇p. */
function sgdStep(model: Llama, lr: number): void {
  for (const p of model.parameters()) {
    const g = p.grad?.data;
    if (!g) continue;
    for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! - lr * g[i]!;
  }
  model.zeroGrad();
}

describe("Llama", () => {
  it("maps ids [B, T] to logits [B, T, V]; lastOnly gives the last position", () => {
    const m = new Llama(tiny, { seed: 3 });
    const ids = randomIds(2 * 5, tiny.vocab, new Rng(1));
    const { logits, auxLoss } = noGrad(() => m.forward(ids, [2, 5]));
    assert.deepEqual(logits.shape, [2, 5, 13]);
    assert.equal(auxLoss, null);
    const last = noGrad(() => m.forward(ids, [2, 5], { lastOnly: true }).logits);
    assert.deepEqual(last.shape, [2, 1, 13]);
    assertClose(last.contiguousData(), slice(logits, 1, 4, 5).contiguousData(), 1e-6, 1e-6);
  });

  it("refuses bad configurations with INVALID_CONFIG and overlong inputs with CONTEXT_OVERFLOW", () => {
    const invalid = (c: Partial<LlamaConfig>): void =>
      assert.throws(() => new Llama({ ...tiny, ...c }, { seed: 1 }), (e: unknown) => e instanceof StrataError && e.code === "INVALID_CONFIG");
    invalid({ dim: 18 }); // not divisible by 4 heads
    invalid({ dim: 12, heads: 4 }); // odd head dim 3
    invalid({ kvHeads: 3 });
    invalid({ layers: 0 });
    invalid({ vocab: 2.5 });
    invalid({ normEps: 0 });
    invalid({ moe: { experts: 2, topK: 3 } });
    const m = new Llama(tiny, { seed: 1 });
    assert.throws(() => m.forward(new Int32Array(33), [1, 33]), (e: unknown) => e instanceof StrataError && e.code === "CONTEXT_OVERFLOW");
  });

  for (const backend of availableBackends()) {
    it(`KV-cache decoding gives the logits of the full forward (${backend})`, () =>
      withBackend(backend, () => {
        for (const config of [tiny, { ...tiny, moe: { experts: 3, topK: 2 } }]) {
          const m = new Llama(config, { seed: 5 });
          const B = 2;
          const T = 9;
          const ids = randomIds(B * T, tiny.vocab, new Rng(2));
          const full = noGrad(() => m.forward(ids, [B, T]).logits);
          const caches = m.newCaches(B);
          const pieces: [number, number][] = [[0, 4], [4, 5], [5, 6], [6, 9]];
          noGrad(() => {
            for (const [s, e] of pieces) {
              const chunk = new Int32Array(B * (e - s));
              for (let b = 0; b < B; b++) chunk.set(ids.subarray(b * T + s, b * T + e), b * (e - s));
              const got = m.forward(chunk, [B, e - s], { caches }).logits;
              assertClose(got.contiguousData(), slice(full, 1, s, e).contiguousData(), 2e-5, 1e-4, `positions ${s}..${e}`);
            }
          });
          assert.equal(caches[0]!.length, T);
        }
      }));
  }

  it("gradients of the whole model's loss match finite differences (sampled parameters)", () => {
    const config: LlamaConfig = { ...tiny, layers: 1, tieEmbeddings: true };
    const m = new Llama(config, { seed: 11 });
    // weights twice the initial scale, so that every gradient is well above float32 noise
    for (const p of m.parameters()) if (!p.name?.endsWith("norm.weight")) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 2;
    const rng = new Rng(4);
    const ids = randomIds(2 * 6, config.vocab, rng);
    const targets = randomIds(2 * 6, config.vocab, rng);
    targets[3] = -100;
    m.loss(ids, targets, [2, 6]).loss.backward();
    const lossAt = (): number => noGrad(() => m.loss(ids, targets, [2, 6]).loss.item());
    for (const [name, p] of m.namedParameters()) {
      const g = p.grad!.data;
      for (let s = 0; s < 6; s++) {
        const j = rng.int(p.size);
        const orig = p.data[j]!;
        const h = 3e-3;
        p.data[j] = orig + h;
        const up = lossAt();
        p.data[j] = orig - h;
        const down = lossAt();
        p.data[j] = orig;
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(g[j]! - numeric) <= 5e-4 + 1e-2 * Math.abs(numeric), `${name}[${j}]: analytic ${g[j]}, numeric ${numeric}`);
      }
    }
  });

  for (const config of [tiny, { ...tiny, moe: { experts: 4, topK: 2, auxLossWeight: 0.01 } }]) {
    it(`plain SGD lowers the loss of a tiny model on a fixed batch${config.moe ? " (mixture of experts)" : ""}`, () => {
      const m = new Llama(config, { seed: 9 });
      const rng = new Rng(6);
      const B = 4;
      const T = 12;
      // a learnable sequence: each next token is (token + 1) mod vocab
      const ids = new Int32Array(B * T);
      const targets = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        let t = rng.int(config.vocab);
        for (let i = 0; i < T; i++) {
          ids[b * T + i] = t;
          t = (t + 1) % config.vocab;
          targets[b * T + i] = t;
        }
      }
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        const { loss } = m.loss(ids, targets, [B, T]);
        losses.push(loss.item());
        loss.backward();
        sgdStep(m, 0.5);
      }
      const first = losses[0]!;
      const last = losses[losses.length - 1]!;
      assert.ok(Math.abs(first - Math.log(config.vocab)) < 0.2, `initial loss ${first} ≈ ln V`);
      assert.ok(last < first * 0.5, `loss went from ${first} to ${last}`);
    });
  }
});
