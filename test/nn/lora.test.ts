// LoRA on the llama: the fused op (lora-linear.ts) and the composed path (used with dropout) give the
// same loss and gradients; switched off the model is the base exactly; merging gives the same logits;
// rank and targets are checked.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LORA_TARGETS, Llama, type LlamaConfig, type LoraAdapter, attachLora, parseLoraTargets } from "../../src/nn/index.js";
import { Rng, noGrad } from "../../src/tensor/index.js";
import { isStrataError } from "../helpers/errors.js";

const C: LlamaConfig = { vocab: 30, dim: 16, layers: 2, heads: 2, kvHeads: 1, ffnDim: 24, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

function setup() {
  const model = new Llama(C, { seed: 4 });
  const lora = attachLora(model, { rank: 4, alpha: 8, dropout: 0, targets: LORA_TARGETS, seed: 4 });
  const rng = new Rng(9);
  for (const [, t] of lora.namedParameters()) rng.fillNormal(t.data, 0, 0.3);
  const ids = Int32Array.from({ length: 2 * 10 }, () => rng.int(C.vocab));
  const targets = Int32Array.from({ length: 2 * 10 }, () => rng.int(C.vocab));
  return { model, lora, ids, targets };
}

const grads = (lora: ReturnType<typeof attachLora>): Float32Array[] => lora.namedParameters().map(([, t]) => Float32Array.from(t.grad!.contiguousData()));

describe("LoRA", () => {
  test("the fused op and the composed path agree (loss and every A/B gradient)", () => {
    const { model, lora, ids, targets } = setup();
    const l1 = model.loss(ids, targets, [2, 10]).loss;
    l1.backward();
    const g1 = grads(lora);
    for (const [, t] of lora.namedParameters()) t.zeroGrad();
    for (const a of lora.adapters.values()) (a as LoraAdapter & { fused: () => null }).fused = () => null;
    const l2 = model.loss(ids, targets, [2, 10]).loss;
    l2.backward();
    const g2 = grads(lora);
    assert.ok(Math.abs(l1.item() - l2.item()) < 1e-5);
    g1.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - g2[i]![j]!) < 1e-5, `${i}[${j}] ${v} vs ${g2[i]![j]}`)));
  });

  test("switched off it is the base model exactly; merged weights give the adapter's logits", () => {
    const { model, lora, ids } = setup();
    const logits = (m: Llama): Float32Array => noGrad(() => Float32Array.from(m.forward(ids, [2, 10]).logits.contiguousData()));
    const withAdapter = logits(model);
    lora.setEnabled(false);
    const off = logits(model);
    lora.setEnabled(true);
    const base = new Llama(C, { seed: 4 });
    assert.deepEqual(off, logits(base));
    assert.ok(withAdapter.some((v, i) => Math.abs(v - off[i]!) > 1e-3), "the adapter changes the logits");
    const merged = new Llama(C, { seed: 0 });
    merged.loadStateDict(lora.mergedStateDict(model.stateDict()));
    const m = logits(merged);
    m.forEach((v, i) => assert.ok(Math.abs(v - withAdapter[i]!) < 1e-4, `${i}: ${v} vs ${withAdapter[i]}`));
  });

  test("rank, alpha, dropout and targets are checked", () => {
    const model = new Llama(C, { seed: 1 });
    assert.throws(() => attachLora(model, { rank: 17, alpha: 8, dropout: 0, targets: ["wq"], seed: 1 }), isStrataError("INVALID_CONFIG", /rank 17 exceeds the dimension of layers\.0\.attention\.wq/));
    assert.throws(() => attachLora(model, { rank: 9, alpha: 8, dropout: 0, targets: ["wk"], seed: 1 }), isStrataError("INVALID_CONFIG", /at most 8/));
    assert.throws(() => attachLora(model, { rank: 4, alpha: 0, dropout: 0, targets: ["wq"], seed: 1 }), isStrataError("INVALID_CONFIG", /alpha/));
    assert.throws(() => attachLora(model, { rank: 4, alpha: 8, dropout: 1, targets: ["wq"], seed: 1 }), isStrataError("INVALID_CONFIG", /dropout/));
    assert.deepEqual(parseLoraTargets("q_proj,attn_v,ffn"), ["wq", "wv", "w1", "w2", "w3"]);
    assert.throws(() => parseLoraTargets("lm_head"), isStrataError("INVALID_CONFIG", /unknown LoRA target "lm_head"/));
  });
});
