// The image-model ops (src/tensor/image.ts): gradients against finite differences, LayerNorm against
// its composite form, and patchify/unpatchify as exact inverses that put each patch in one token.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng, type Tensor, layerNorm, mean, modulate, mul, patchify, rsqrt, square, sub, add, tensor, unpatchify } from "../../src/tensor/index.js";
import { gradCheck, randomTensor } from "./helpers.js";

const rng = new Rng(20261207);
const r = (...shape: number[]): Tensor => randomTensor(shape, rng);

describe("layerNorm", () => {
  it("gradient matches finite differences (rows of 1, 5 and 16)", () => {
    gradCheck((x) => layerNorm(x), [r(3, 5)]);
    gradCheck((x) => layerNorm(x, 1e-5), [r(2, 3, 16)]);
    gradCheck((x) => layerNorm(x), [r(4, 1)]);
  });

  it("equals (x − mean) · rsqrt(var + eps) built from primitives", () => {
    const x = r(6, 9);
    const got = layerNorm(x, 1e-5).toArray();
    const c = sub(x, mean(x, -1, true));
    const want = mul(c, rsqrt(add(mean(square(c), -1, true), 1e-5))).toArray();
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `element ${i}: ${v} vs ${want[i]}`));
    // Each row has mean 0 and variance ≈ 1.
    for (let row = 0; row < 6; row++) {
      const vals = got.slice(row * 9, row * 9 + 9);
      const m = vals.reduce((a, b) => a + b, 0) / 9;
      assert.ok(Math.abs(m) < 1e-5);
      assert.ok(Math.abs(vals.reduce((a, b) => a + (b - m) ** 2, 0) / 9 - 1) < 1e-3);
    }
  });
});

describe("modulate", () => {
  it("gradient of x, shift and scale matches finite differences", () => {
    gradCheck(modulate, [r(2, 3, 4), r(2, 4), r(2, 4)]);
  });

  it("is x · (1 + scale) + shift per sample", () => {
    const x = tensor([1, 2, 3, 4], [2, 1, 2]);
    const y = modulate(x, tensor([10, 20, 30, 40], [2, 2]), tensor([0, 1, -1, 2], [2, 2]));
    assert.deepEqual(y.toArray(), [11, 24, 30, 52]);
  });

  it("rejects shapes that do not match", () => {
    assert.throws(() => modulate(r(2, 3, 4), r(2, 3), r(2, 4)), /modulate/);
  });
});

describe("patchify and unpatchify", () => {
  it("each token holds one p×p patch, pixels row-major, channels last", () => {
    // One 1-channel 4×4 image 0..15 in 2×2 patches: token 0 is the top-left patch (0, 1, 4, 5).
    const x = tensor(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    const p = patchify(x, 2);
    assert.deepEqual(p.shape, [1, 4, 4]);
    assert.deepEqual(p.toArray().slice(0, 8), [0, 1, 4, 5, 2, 3, 6, 7]);
    // Two channels: values interleave per pixel.
    const x2 = tensor(Array.from({ length: 8 }, (_, i) => i), [1, 2, 2, 2]);
    assert.deepEqual(patchify(x2, 2).toArray(), [0, 4, 1, 5, 2, 6, 3, 7]);
  });

  it("unpatchify inverts patchify exactly (28×28 in 4×4 patches → 49 tokens)", () => {
    const x = r(2, 1, 28, 28);
    const p = patchify(x, 4);
    assert.deepEqual(p.shape, [2, 49, 16]);
    assert.deepEqual(unpatchify(p, 4, 1, 28, 28).toArray(), x.toArray());
    const y = r(3, 2, 6, 9);
    assert.deepEqual(unpatchify(patchify(y, 3), 3, 2, 6, 9).toArray(), y.toArray());
  });

  it("gradients match finite differences", () => {
    gradCheck((x) => patchify(x, 2), [r(2, 3, 4, 6)]);
    gradCheck((x) => unpatchify(x, 2, 3, 4, 6), [r(2, 6, 12)]);
  });

  it("rejects a patch size that does not divide the image", () => {
    assert.throws(() => patchify(r(1, 1, 28, 28), 5), /does not divide/);
    assert.throws(() => unpatchify(r(1, 10, 16), 4, 1, 28, 28), /unpatchify/);
  });
});
