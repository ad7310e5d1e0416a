// Every tensor type the engine reads has an encoder: round trips of random tensors stay within each
// type's quantization error, on rows of several blocks, with zeros, constants and outliers; the
// writer and the reader agree on each type's byte size. (llama.cpp reading these bytes is checked in
// test/model/gguf-families.test.ts.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { ENCODABLE_TYPES, decodeTensorData, encodeTensorData, encodeGguf, ggmlTypeByName, readGgufBuffer, tensorByteSize } from "../../../src/formats/gguf/index.js";
import { seededNormal } from "../../helpers/tiny-llama.js";

/** RMS error over RMS value that each type must stay under on normal data. */
const MAX_RELATIVE_RMS: Record<(typeof ENCODABLE_TYPES)[number], number> = {
  F32: 0,
  F16: 1e-3,
  BF16: 8e-3,
  Q8_0: 0.01,
  Q6_K: 0.03,
  Q5_0: 0.06,
  Q5_1: 0.06,
  Q5_K: 0.06,
  Q4_0: 0.12,
  Q4_1: 0.12,
  Q4_K: 0.12,
  Q3_K: 0.3,
  Q2_K: 0.6,
};

function values(n: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  const x = Float32Array.from({ length: n }, () => normal());
  x.fill(0, 256, 512); // an all-zero super-block
  x.fill(0.75, 512, 768); // a constant one
  x[900] = 40; // an outlier
  x[1000] = -25;
  return x;
}

function relativeRms(x: Float32Array, y: Float32Array, from = 0, to = x.length): number {
  let e = 0;
  let s = 0;
  for (let i = from; i < to; i++) {
    e += (x[i]! - y[i]!) ** 2;
    s += x[i]! ** 2;
  }
  return Math.sqrt(e / Math.max(s, 1e-30));
}

for (const type of ENCODABLE_TYPES) {
  test(`${type}: encode → decode stays within the type's error`, () => {
    const x = values(8 * 256, 7);
    const bytes = encodeTensorData(type, x);
    const info = ggmlTypeByName(type);
    assert.equal(bytes.length, tensorByteSize(type, x.length));
    const y = decodeTensorData(info, bytes, x.length);
    assert.equal(y.length, x.length);
    const err = relativeRms(x, y, 1024, x.length); // normal data, away from the outliers' blocks
    assert.ok(err <= MAX_RELATIVE_RMS[type], `${type}: relative RMS error ${err.toFixed(4)} > ${MAX_RELATIVE_RMS[type]}`);
    for (let i = 256; i < 512; i++) assert.ok(y[i] === 0, `${type}: zeros stay zeros (value ${i})`);
    for (let i = 512; i < 768; i++) assert.ok(Math.abs(y[i]! - 0.75) <= 0.75 * MAX_RELATIVE_RMS[type] * 2, `${type}: a constant stays near 0.75, got ${y[i]}`);
    assert.ok(Math.abs(y[900]! - 40) <= 40 * Math.max(MAX_RELATIVE_RMS[type], 1e-3), `${type}: the outlier 40 came back as ${y[900]}`);
    // Re-encoding what was decoded keeps it (the encoder reads its own grid back).
    const z = decodeTensorData(info, encodeTensorData(type, y), x.length);
    assert.ok(relativeRms(y, z) <= MAX_RELATIVE_RMS[type], `${type}: a second round trip drifted by ${relativeRms(y, z)}`);
  });
}

test("every encodable type survives a GGUF file round trip", () => {
  const x = values(2 * 256, 3);
  const tensors = ENCODABLE_TYPES.map((type) => ({ name: `t.${type}`, dims: [256, 2], type, data: x }));
  const r = readGgufBuffer(encodeGguf({ metadata: [], tensors }));
  for (const type of ENCODABLE_TYPES) {
    const info = r.tensors.find((t) => t.name === `t.${type}`)!;
    assert.equal(info.type.name, type);
    assert.equal(info.byteSize, tensorByteSize(type, 512));
  }
});
