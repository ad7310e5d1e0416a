// Mixture of experts: top-k routing against a per-token computation, the load-balancing loss, and
// gradients (router, experts, input) against finite differences where the routing is stable.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MoEFeedForward, topKIndices } from "../../src/nn/index.js";
import { Rng, Tensor, cat, noGrad, reshape, slice } from "../../src/tensor/index.js";
import { assertClose, gradCheck, randomTensor } from "../tensor/helpers.js";

function makeMoE(seed: number, experts = 4, topK = 2): MoEFeedForward {
  const m = new MoEFeedForward(6, 8, { experts, topK }, { rng: new Rng(seed), std: 0.5 });
  return m;
}

describe("mixture of experts", () => {
  it("topKIndices picks the largest entries, ties to the lower index", () => {
    const x = Float32Array.of(0.1, 0.9, 0.5, 0.9, /* row 2 */ 3, 1, 2, 0);
    assert.deepEqual(Array.from(topKIndices(x, 2, 4, 2)), [1, 3, 0, 2]);
    assert.deepEqual(Array.from(topKIndices(x, 2, 4, 1)), [1, 0]);
  });

  it("each token's output is the softmax-weighted sum of its top-k experts", () => {
    const moe = makeMoE(1);
    const x = randomTensor([2, 5, 6], new Rng(2));
    const { out } = noGrad(() => moe.forward(x));
    const logits = noGrad(() => moe.gate.forward(x)).contiguousData();
    const xd = reshape(x, [10, 6]);
    for (let n = 0; n < 10; n++) {
      const row = Array.from(logits.subarray(n * 4, n * 4 + 4));
      const order = [0, 1, 2, 3].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, 2);
      const z = order.map((e) => Math.exp(row[e]!));
      const want = new Float64Array(6);
      order.forEach((e, j) => {
        const y = noGrad(() => moe.experts[e]!.forward(slice(xd, 0, n, n + 1))).contiguousData();
        for (let d = 0; d < 6; d++) want[d] = want[d]! + (z[j]! / (z[0]! + z[1]!)) * y[d]!;
      });
      assertClose(out.contiguousData().subarray(n * 6, n * 6 + 6), want, 1e-6, 1e-5, `token ${n}`);
    }
  });

  it("the load-balancing loss is E·Σ f_e·P_e: 1 for a uniform router, larger when one expert dominates", () => {
    const moe = makeMoE(3);
    const x = randomTensor([1, 8, 6], new Rng(4));
    moe.gate.weight.data.fill(0);
    assert.ok(Math.abs(noGrad(() => moe.forward(x)).auxLoss.item() - 1) < 1e-6);
    // route every token to expert 2: all-ones inputs, a router that only scores expert 2
    const skewed = makeMoE(3, 4, 1);
    skewed.gate.weight.data.fill(0);
    const ones = new Tensor(new Float32Array(8 * 6).fill(1), [1, 8, 6]);
    skewed.gate.weight.data.fill(5, 2 * 6, 3 * 6); // expert 2's row: logit 30 for an all-ones input
    const aux = noGrad(() => skewed.forward(ones)).auxLoss.item();
    assert.ok(aux > 3.9 && aux <= 4, `aux ${aux} (E = 4, everything routed to one expert)`);
  });

  it("gradients of output and load-balancing loss match finite differences", () => {
    const moe = makeMoE(5, 3, 2);
    for (let i = 0; i < moe.gate.weight.size; i++) moe.gate.weight.data[i] = moe.gate.weight.data[i]! * 4; // wide routing margins
    const x = randomTensor([4, 6], new Rng(6));
    // the check perturbs by ±1e-2: routing must not flip, so require margins well above that
    const logits = noGrad(() => moe.gate.forward(x)).contiguousData();
    for (let n = 0; n < 4; n++) {
      const row = Array.from(logits.subarray(n * 3, n * 3 + 3)).sort((a, b) => b - a);
      assert.ok(row[1]! - row[2]! > 0.1, `token ${n}: routing margin ${row[1]! - row[2]!}`);
    }
    const f = (xx: Tensor): Tensor => {
      const { out, auxLoss } = moe.forward(xx);
      return cat([reshape(out, [-1]), reshape(auxLoss, [1])], 0);
    };
    // the parameters are passed so that gradCheck perturbs them in place; the module reads them itself
    gradCheck((xx) => f(xx), [x, moe.gate.weight, moe.experts[0]!.w1.weight, moe.experts[1]!.w2.weight], { h: 1e-3, atol: 1e-3, rtol: 2e-2 });
  });
});
