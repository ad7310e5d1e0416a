// The Tensor and its autograd engine: views share storage, gradients accumulate, noGrad records
// nothing, freed graphs refuse a second walk, and shape mistakes are StrataErrors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import {
  Tensor, add, cat, crossEntropy, embedding, enableGrad, exp, isGradEnabled, matmul, mul, noGrad, ones, permute, reshape, scalar, slice, sum, tensor,
  transpose, zeros,
} from "../../src/tensor/index.js";

const code = (c: string) => (e: unknown): boolean => e instanceof StrataError && e.code === c;

describe("Tensor storage and views", () => {
  it("reshape, transpose and slice are views of the same storage", () => {
    const x = tensor([0, 1, 2, 3, 4, 5], [2, 3]);
    const r = reshape(x, [3, 2]);
    const t = transpose(x);
    const s = slice(x, 1, 1, 3);
    assert.equal(r.data, x.data);
    assert.equal(t.data, x.data);
    assert.equal(s.data, x.data);
    assert.deepEqual(t.toArray(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(s.toArray(), [1, 2, 4, 5]);
    assert.equal(t.isContiguous(), false);
    assert.equal(s.isContiguous(), false);
    x.data[1] = 10;
    assert.equal(r.toArray()[1], 10);
    assert.deepEqual(s.toArray(), [10, 2, 4, 5]);
  });

  it("a reshape of a non-contiguous view copies, in row-major order of the view", () => {
    const x = tensor([0, 1, 2, 3, 4, 5], [2, 3]);
    const r = reshape(transpose(x), [6]);
    assert.notEqual(r.data, x.data);
    assert.deepEqual(r.toArray(), [0, 3, 1, 4, 2, 5]);
  });

  it("permute reorders dims; cat joins along an axis", () => {
    const x = tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const p = permute(x, [2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    assert.equal(p.contiguousData()[1], 4); // p[0, 0, 1] = x[0, 1, 0]
    const c = cat([tensor([1, 2], [1, 2]), tensor([3, 4, 5, 6], [2, 2])], 0);
    assert.deepEqual(c.shape, [3, 2]);
    assert.deepEqual(c.toArray(), [1, 2, 3, 4, 5, 6]);
    const d = cat([tensor([1, 2], [2, 1]), tensor([3, 4, 5, 6], [2, 2])], 1);
    assert.deepEqual(d.toArray(), [1, 3, 4, 2, 5, 6]);
  });

  it("0-d tensors and item()", () => {
    const s = sum(tensor([1, 2, 3.5]));
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 6.5);
    assert.equal(scalar(2).item(), 2);
    assert.throws(() => tensor([1, 2]).item(), code("SHAPE_MISMATCH"));
  });

  it("matmul of known values, with a transposed operand read in place", () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    assert.deepEqual(matmul(a, b).toArray(), [58, 64, 139, 154]);
    const bt = tensor([7, 9, 11, 8, 10, 12], [2, 3]);
    assert.deepEqual(matmul(a, transpose(bt)).toArray(), [58, 64, 139, 154]);
  });
});

describe("autograd", () => {
  it("gradients of leaves accumulate across backward calls until zeroGrad", () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    sum(mul(x, x)).backward();
    assert.deepEqual(x.grad?.toArray(), [2, 4, 6]);
    sum(mul(x, 3)).backward();
    assert.deepEqual(x.grad?.toArray(), [5, 7, 9]);
    x.zeroGrad();
    assert.equal(x.grad, null);
  });

  it("a diamond graph sums both paths", () => {
    const x = tensor([0.5], [1], { requiresGrad: true });
    const y = exp(x);
    const z = add(mul(y, y), y); // z = e^{2x} + e^x, dz/dx = 2e^{2x} + e^x
    z.backward(Float32Array.of(1));
    assert.ok(Math.abs(x.grad!.item() - (2 * Math.exp(1) + Math.exp(0.5))) < 1e-5);
  });

  it("inputs that do not require gradients get none, and results record only when needed", () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const c = tensor([3, 4], [2]);
    const y = mul(w, c);
    assert.equal(y.requiresGrad, true);
    assert.equal(mul(c, c).requiresGrad, false);
    sum(y).backward();
    assert.deepEqual(w.grad?.toArray(), [3, 4]);
    assert.equal(c.grad, null);
  });

  it("noGrad records nothing; enableGrad turns it back on inside", () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = enableGrad(() => mul(w, w));
      assert.equal(inner.requiresGrad, true);
      return mul(w, w);
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    assert.throws(() => y.backward(), code("USAGE"));
  });

  it("detach cuts the graph but shares storage", () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const d = mul(w, 2).detach();
    assert.equal(d.requiresGrad, false);
    const z = sum(mul(w, d));
    z.backward();
    assert.deepEqual(w.grad?.toArray(), [2, 4]); // d is a constant
  });

  it("a graph is freed after backward unless retainGraph is set", () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const y = sum(exp(w));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assert.ok(Math.abs(w.grad!.toArray()[0]! - 2 * Math.E) < 1e-5);
    assert.throws(() => y.backward(), code("USAGE"));
  });

  it("backward needs a scalar or an explicit gradient", () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const y = mul(w, 2);
    assert.throws(() => y.backward(), code("SHAPE_MISMATCH"));
    y.backward(Float32Array.of(1, 10));
    assert.deepEqual(w.grad?.toArray(), [2, 20]);
  });

  it("a view of a parameter passes gradients back to it", () => {
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    sum(mul(slice(transpose(w), 0, 1, 3), tensor([1, 10, 100, 1000], [2, 2]))).backward();
    // transpose(w) = [[1,4],[2,5],[3,6]]; rows 1..2 → w[0,1], w[1,1], w[0,2], w[1,2]
    assert.deepEqual(w.grad?.toArray(), [0, 1, 100, 0, 10, 1000]);
  });

  it("deep chains do not overflow the stack", () => {
    const w = tensor([1], [1], { requiresGrad: true });
    let y: Tensor = w;
    for (let i = 0; i < 20000; i++) y = add(y, 0.0001);
    y.backward(Float32Array.of(1));
    assert.equal(w.grad?.item(), 1);
  });
});

describe("errors", () => {
  it("shape mistakes are SHAPE_MISMATCH, bad ids INDEX_OUT_OF_RANGE", () => {
    assert.throws(() => add(ones([2, 3]), ones([4])), code("SHAPE_MISMATCH"));
    assert.throws(() => matmul(ones([2, 3]), ones([4, 2])), code("SHAPE_MISMATCH"));
    assert.throws(() => reshape(ones([2, 3]), [4, 2]), code("SHAPE_MISMATCH"));
    assert.throws(() => tensor([1, 2, 3], [2, 2]), code("SHAPE_MISMATCH"));
    assert.throws(() => zeros([2, -1]), code("SHAPE_MISMATCH"));
    assert.throws(() => embedding(ones([4, 2]), [0, 4]), code("INDEX_OUT_OF_RANGE"));
    assert.throws(() => crossEntropy(ones([2, 3]), [0, 3]), code("INDEX_OUT_OF_RANGE"));
    assert.throws(() => sum(ones([2]), 1), code("SHAPE_MISMATCH"));
  });
});
