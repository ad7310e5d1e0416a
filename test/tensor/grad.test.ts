// Every op's gradient against central finite differences, on small random shapes with broadcasting
// and awkward sizes (1, primes). Backend-sensitive ops (matmul, attention) run on every backend.
import { describe, it } from "node:test";
import {
  Rng, Tensor, abs, add, attention, broadcastTo, cat, contiguous, cos, crossEntropy, div, embedding, exp, indexAdd, indexSelect, linear,
  log, logSoftmax, matmul, max, maximum, mean, min, minimum, mul, neg, permute, pow, relu, reshape, rmsNorm, rope, rsqrt, sigmoid, silu, sin,
  slice, softmax, sqrt, square, squeeze, sub, sum, swiglu, takeAlong, tanh, tensor, transpose, unsqueeze, withBackend,
} from "../../src/tensor/index.js";
import { availableBackends, gradCheck, positiveTensor, randomTensor } from "./helpers.js";

const rng = new Rng(20261124);
const r = (...shape: number[]): Tensor => randomTensor(shape, rng);
const pos = (...shape: number[]): Tensor => positiveTensor(shape, rng);

describe("gradients of pointwise ops", () => {
  const pairs: [number[], number[]][] = [
    [[2, 3], [2, 3]],
    [[2, 3, 4], [3, 1]],
    [[1, 5], [4, 1]],
    [[3], [2, 1, 3]],
    [[7], []],
    [[1], [1]],
  ];
  for (const [sa, sb] of pairs) {
    it(`add, sub, mul, div broadcast ${JSON.stringify(sa)} with ${JSON.stringify(sb)}`, () => {
      gradCheck(add, [r(...sa), r(...sb)]);
      gradCheck(sub, [r(...sa), r(...sb)]);
      gradCheck(mul, [r(...sa), r(...sb)]);
      gradCheck(div, [r(...sa), pos(...sb)]);
    });
  }

  it("maximum and minimum send the gradient to the winner", () => {
    gradCheck(maximum, [r(3, 4), r(4)]);
    gradCheck(minimum, [r(2, 1, 3), r(5, 1)]);
  });

  it("ops with a number operand", () => {
    gradCheck((x) => add(mul(x, 3), 1.5), [r(2, 3)]);
    gradCheck((x) => div(2, x), [pos(5)]);
    gradCheck((x) => sub(1, x), [r(4)]);
  });

  it("unary ops", () => {
    for (const f of [neg, exp, tanh, sigmoid, silu, square, sin, cos]) gradCheck(f, [r(3, 5)]);
    for (const f of [log, sqrt, rsqrt]) gradCheck(f, [pos(2, 7)]);
    gradCheck(relu, [tensor([-1.5, -0.3, 0.2, 0.9, 2.1], [5])]);
    gradCheck(abs, [tensor([-1.5, -0.3, 0.2, 0.9, 2.1], [5])]);
  });

  it("pow with constant exponents", () => {
    for (const p of [2, 3, -1, -0.5, 1.7]) gradCheck((x) => pow(x, p), [pos(2, 3)]);
  });

  it("a tensor used twice accumulates both gradients", () => {
    gradCheck((x) => mul(x, exp(x)), [r(6)]);
    gradCheck((x, y) => add(mul(x, y), mul(x, x)), [r(2, 3), r(3)]);
  });
});

describe("gradients of views and copies", () => {
  it("reshape, permute, transpose, unsqueeze, squeeze", () => {
    const c34 = r(3, 4);
    const c423 = r(4, 2, 3);
    const c6 = r(6);
    gradCheck((x) => mul(reshape(x, [3, -1]), c34), [r(2, 6)]);
    gradCheck((x) => mul(permute(x, [2, 0, 1]), c423), [r(2, 3, 4)]);
    gradCheck((x) => exp(transpose(x, 0, 2)), [r(2, 3, 5)]);
    gradCheck((x) => squeeze(unsqueeze(x, 1), 1), [r(3, 2)]);
    // a reshape of a non-contiguous view copies
    gradCheck((x) => mul(reshape(transpose(x), [6]), c6), [r(2, 3)]);
  });

  it("slice, broadcastTo, contiguous, cat", () => {
    const c423 = r(4, 2, 3);
    const c263 = r(2, 6, 3);
    gradCheck((x) => square(slice(x, 1, 1, 4)), [r(2, 5, 3)]);
    gradCheck((x) => square(slice(x, -1, -2)), [r(3, 4)]);
    gradCheck((x) => mul(broadcastTo(x, [4, 2, 3]), c423), [r(2, 1)]);
    gradCheck((x) => contiguous(permute(x, [1, 0])), [r(3, 4)]);
    gradCheck((x, y, z) => mul(cat([x, y, z], 1), c263), [r(2, 1, 3), r(2, 4, 3), r(2, 1, 3)]);
    gradCheck((x, y) => square(cat([x, y], 0)), [r(1, 3), r(2, 3)]);
  });
});

describe("gradients of reductions", () => {
  it("sum and mean over axes, with and without keepdim", () => {
    gradCheck((x) => sum(x), [r(3, 4)]);
    gradCheck((x) => square(sum(x, 1)), [r(3, 4, 2)]);
    gradCheck((x) => square(sum(x, [0, 2], true)), [r(3, 4, 2)]);
    gradCheck((x) => square(mean(x, -1)), [r(2, 5)]);
    gradCheck((x) => square(mean(x, [0, 1], true)), [r(2, 3, 2)]);
  });

  it("max and min send the gradient to the extreme element", () => {
    // distinct values spaced well beyond the finite-difference step, in a shuffled order
    const values = rng.shuffle(Array.from({ length: 24 }, (_, i) => (i - 12) * 0.1));
    gradCheck((x) => max(x, 1), [tensor(values, [2, 3, 4])]);
    gradCheck((x) => max(x, [0, 2], true), [tensor(values, [2, 3, 4])]);
    gradCheck((x) => min(x, -1), [tensor(values, [6, 4])]);
    gradCheck((x) => max(x), [tensor(values, [24])]);
  });
});

describe("gradients of matmul", () => {
  for (const backend of availableBackends()) {
    it(`plain, batched, broadcast and transposed products (${backend})`, () => withBackend(backend, () => {
      gradCheck(matmul, [r(3, 4), r(4, 5)]);
      gradCheck(matmul, [r(1, 4), r(4, 1)]);
      gradCheck(matmul, [r(2, 3, 4), r(2, 4, 2)]);
      gradCheck(matmul, [r(2, 1, 3, 4), r(3, 4, 2)]); // broadcast batch dims
      gradCheck(matmul, [r(2, 3, 4), r(4, 5)]); // folded into one tall product
      gradCheck(matmul, [r(3, 4), r(2, 4, 5)]); // the left operand broadcast
      gradCheck((a, b) => matmul(transpose(a), b), [r(4, 3), r(4, 2)]);
      gradCheck((a, b) => matmul(a, transpose(b)), [r(2, 3, 4), r(5, 4)]);
      gradCheck((a, b) => matmul(transpose(a), transpose(b)), [r(2, 4, 3), r(2, 5, 4)]);
      gradCheck((x, w) => linear(x, w), [r(2, 3, 4), r(6, 4)]);
      gradCheck((x, w) => linear(x, w), [r(4), r(5, 4)]); // a single vector
      gradCheck((x, w) => linear(transpose(x), w), [r(4, 3), r(5, 4)]); // a non-contiguous input is copied
      gradCheck((x, w) => linear(x, transpose(w)), [r(2, 3), r(3, 5)]); // a transposed weight view
      // a non-contiguous, non-transposed view is copied first
      gradCheck((a, b) => matmul(slice(a, 1, 1, 4), b), [r(3, 5, 2), r(2, 3)]);
      gradCheck((a, b) => matmul(permute(a, [1, 0, 2]), b), [r(3, 2, 4), r(4, 3)]);
    }));
  }
});

describe("gradients of indexing", () => {
  it("embedding scatters into the rows, repeated ids accumulate", () => {
    gradCheck((w) => embedding(w, [3, 0, 3, 1, 4, 3], [2, 3]), [r(5, 4)]);
  });
  it("takeAlong, indexSelect and indexAdd", () => {
    gradCheck((x) => takeAlong(x, [2, 0, 1, 1, 3, 0], 2), [r(3, 4)]);
    gradCheck((x) => indexSelect(x, [2, 0, 2]), [r(4, 3)]);
    gradCheck((t, s) => indexAdd(t, [1, 3, 1], s), [r(4, 2), r(3, 2)]);
  });
});

describe("gradients of fused ops", () => {
  it("softmax and logSoftmax along any axis", () => {
    gradCheck((x) => softmax(x), [r(3, 5)]);
    gradCheck((x) => softmax(x, 0), [r(3, 2, 4)]);
    gradCheck((x) => logSoftmax(x), [r(2, 7)]);
    gradCheck((x) => logSoftmax(x, 1), [r(2, 3, 2)]);
  });

  it("rmsNorm in x and in the weight", () => {
    gradCheck((x, w) => rmsNorm(x, w, 1e-5), [r(3, 6), r(6)]);
    gradCheck((x, w) => rmsNorm(x, w, 1e-2), [r(2, 1, 5), r(5)]);
  });

  it("rope (from position 0 and from an offset)", () => {
    gradCheck((x) => rope(x), [r(2, 3, 2, 4)]);
    gradCheck((x) => rope(x, { startPos: 5, base: 100 }), [r(1, 2, 3, 6)]);
  });

  it("swiglu", () => {
    gradCheck(swiglu, [r(3, 4), r(3, 4)]);
  });

  it("crossEntropy, with ignored targets and with every target ignored", () => {
    gradCheck((x) => crossEntropy(x, [2, 0, 4]), [r(3, 5)]);
    gradCheck((x) => crossEntropy(x, [1, -1, 0, -1], { ignoreIndex: -1 }), [r(2, 2, 3)]);
    gradCheck((x) => crossEntropy(x, [-100, -100]), [r(2, 3)]);
  });

  for (const backend of availableBackends()) {
    it(`causal grouped-query attention (${backend})`, () => withBackend(backend, () => {
      // q [B, T, Hq, D], k/v [B, S, Hkv, D]; 4 query heads share 2 kv heads
      gradCheck((q, k, v) => attention(q, k, v), [r(2, 3, 4, 3), r(2, 3, 2, 3), r(2, 3, 2, 3)]);
      // more keys than queries: the queries are the last T positions
      gradCheck((q, k, v) => attention(q, k, v), [r(1, 2, 2, 4), r(1, 5, 1, 4), r(1, 5, 1, 4)]);
      gradCheck((q, k, v) => attention(q, k, v, { causal: false, scale: 0.7 }), [r(1, 3, 2, 2), r(1, 4, 2, 2), r(1, 4, 2, 2)]);
      // strided views: heads split out of one fused projection
      gradCheck((qkv) => {
        const q = slice(qkv, 2, 0, 2);
        const k = slice(qkv, 2, 2, 3);
        const v = slice(qkv, 2, 3, 4);
        return attention(q, k, v);
      }, [r(1, 4, 4, 3)]);
    }));
  }
});
