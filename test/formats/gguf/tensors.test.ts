// Tensor round trips (F32, F16, BF16, Q8_0, Q4_0), quantization error bounds, Q4_K/Q6_K dequantization
// against blocks built by hand from the spec's layout, half-float conversions, alignment, dimension
// order, and lazy reading of a file far larger than its header.
import assert from "node:assert/strict";
import { closeSync, ftruncateSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  bf16ToF32,
  dequantizeQ4_K,
  dequantizeQ6_K,
  encodeGguf,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  ggufValue,
  openGguf,
  quantizeQ4_0,
  quantizeQ8_0,
  dequantizeQ4_0,
  dequantizeQ8_0,
  readGgufBuffer,
  writeGguf,
  type GgufTensorInput,
} from "../../../src/formats/gguf/index.js";
import { tempDir } from "../../helpers/paths.js";
import { seededNormal } from "../../helpers/tiny-llama.js";
import { RawGguf } from "./raw-gguf.js";

function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length: n }, () => scale * normal());
}

test("tensors of every writable type round-trip through a file, in ggml dimension order", async () => {
  const rows = 3;
  const cols = 64;
  const values = randomValues(rows * cols, 11);
  // Row-major [rows][cols] is ggml dims [cols, rows].
  const tensors: GgufTensorInput[] = (["F32", "F16", "BF16", "Q8_0", "Q4_0"] as const).map((type) => ({ name: `w.${type}`, dims: [cols, rows], type, data: values }));
  tensors.push({ name: "bias", dims: [5], type: "F32", data: new Float32Array([1, -2, 3.5, 0, 7]) });
  const path = join(tempDir(), "tensors.gguf");
  await writeGguf(path, { metadata: [["general.architecture", ggufValue.str("test")]], tensors });
  const r = await openGguf(path);
  try {
    assert.deepEqual(r.tensors.map((t) => t.name), tensors.map((t) => t.name));
    const f32 = await r.readTensor("w.F32");
    assert.deepEqual(r.tensor("w.F32")!.dims, [cols, rows]);
    assert.equal(r.tensor("w.F32")!.elementCount, rows * cols);
    assert.deepEqual(f32, values, "F32 is exact");
    // Element (row 2, col 5) sits at 2·cols + 5 — dims[0] varies fastest.
    assert.equal(f32[2 * cols + 5], values[2 * cols + 5]);
    assert.deepEqual(await r.readTensor("bias"), new Float32Array([1, -2, 3.5, 0, 7]));

    const f16 = await r.readTensor("w.F16");
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(f16[i]! - values[i]!) <= Math.abs(values[i]!) * 2 ** -11 + 1e-7, `F16 value ${i}`);
    const bf16 = await r.readTensor("w.BF16");
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(bf16[i]! - values[i]!) <= Math.abs(values[i]!) * 2 ** -8, `BF16 value ${i}`);

    assert.equal(r.tensor("w.Q8_0")!.byteSize, ((rows * cols) / 32) * 34);
    assert.equal(r.tensor("w.Q4_0")!.byteSize, ((rows * cols) / 32) * 18);
    assert.deepEqual(await r.readTensor("w.Q8_0"), dequantizeQ8_0(quantizeQ8_0(values), values.length));
    assert.deepEqual(await r.readTensor("w.Q4_0"), dequantizeQ4_0(quantizeQ4_0(values), values.length));
    assert.deepEqual(await r.readTensorBytes("w.Q8_0"), quantizeQ8_0(values));
  } finally {
    await r.close();
  }
});

test("Q8_0 and Q4_0 stay within their block's quantization step", () => {
  const x = randomValues(32 * 64, 5, 3);
  x[7] = 0; // zeros and a block of all zeros must survive
  x.fill(0, 32, 64);
  const q8 = dequantizeQ8_0(quantizeQ8_0(x), x.length);
  const q4 = dequantizeQ4_0(quantizeQ4_0(x), x.length);
  let sq8 = 0;
  let sq4 = 0;
  for (let b = 0; b < x.length; b += 32) {
    const amax = Math.max(...x.subarray(b, b + 32).map(Math.abs));
    // Q8_0: step amax/127, rounding ±half a step, plus the f16 rounding of the scale (≤ 127·2^-11 steps).
    const bound8 = (amax / 127) * (0.5 + 127 * 2 ** -11) + 1e-7;
    // Q4_0: step amax/8; the largest positive values clamp at 7 steps, off by at most one step.
    const bound4 = (amax / 8) * (1 + 8 * 2 ** -11) + 1e-7;
    for (let i = b; i < b + 32; i++) {
      assert.ok(Math.abs(q8[i]! - x[i]!) <= bound8, `Q8_0 value ${i}: ${q8[i]} vs ${x[i]}`);
      assert.ok(Math.abs(q4[i]! - x[i]!) <= bound4, `Q4_0 value ${i}: ${q4[i]} vs ${x[i]}`);
      sq8 += (q8[i]! - x[i]!) ** 2;
      sq4 += (q4[i]! - x[i]!) ** 2;
    }
  }
  assert.deepEqual(q8.subarray(32, 64), new Float32Array(32));
  assert.equal(q8[7], 0);
  // On normal data the typical error is far below the bound: RMSE ≈ 0.3% and 7% of the signal.
  const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  assert.ok(Math.sqrt(sq8 / x.length) < 0.01 * rms, "Q8_0 RMSE");
  assert.ok(Math.sqrt(sq4 / x.length) < 0.12 * rms, "Q4_0 RMSE");
  // The value of largest magnitude in a Q4_0 block is represented exactly up to the f16 scale.
  const block = Float32Array.from({ length: 32 }, (_, i) => (i === 3 ? -4 : i / 10));
  assert.ok(Math.abs(dequantizeQ4_0(quantizeQ4_0(block), 32)[3]! + 4) < 4 * 2 ** -10);
});

test("rows that are not whole blocks are refused", () => {
  assert.throws(() => quantizeQ8_0(new Float32Array(33)), /blocks of 32/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: "w", dims: [48, 2], type: "Q4_0", data: new Float32Array(96) }] }), /not a multiple of its block size 32/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: "w", dims: [4], type: "F32", data: new Float32Array(5) }] }), /4 values\) but 5 values were given/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: "w", dims: [256], type: "IQ4_XS", data: new Float32Array(256) }] }), /cannot quantize/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: "w", dims: [256], type: "Q4_K", data: new Uint8Array(100) }] }), /needs 144 bytes/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: "x".repeat(64), dims: [1], type: "F32", data: new Float32Array(1) }] }), /1 to 63 bytes/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: "a", dims: [1, 1, 1, 1, 1], type: "F32", data: new Float32Array(1) }] }), /1 to 4/);
});

// ---- K-quants: blocks packed by hand from the layout in ggml-common.h, checked element by element.

/** Packs eight 6-bit scales and mins into Q4_K's 12 bytes. */
function packScalesMins(scales: number[], mins: number[]): Uint8Array {
  const out = new Uint8Array(12);
  for (let j = 0; j < 4; j++) {
    out[j] = scales[j]! | ((scales[j + 4]! >> 4) << 6); // low 6 bits: scale j; top 2: high bits of scale j+4
    out[j + 4] = mins[j]! | ((mins[j + 4]! >> 4) << 6);
    out[j + 8] = (scales[j + 4]! & 0x0f) | ((mins[j + 4]! & 0x0f) << 4);
  }
  return out;
}

function f16Bytes(v: number): [number, number] {
  const h = f32ToF16(v);
  return [h & 0xff, h >> 8];
}

test("Q4_K blocks dequantize to d·scale·q − dmin·min per 32-value sub-block", () => {
  const normal = seededNormal(21);
  const rnd = (n: number): number => Math.floor(((normal() + 4) / 8) * n) & (n - 1);
  const blocks: Uint8Array[] = [];
  const expected: number[] = [];
  for (let b = 0; b < 3; b++) {
    const d = [0.25, -0.0123, 1.5][b]!;
    const dmin = [0.125, 0.5, 0][b]!;
    const scales = Array.from({ length: 8 }, (_, j) => (b === 0 ? 63 - j : rnd(64)));
    const mins = Array.from({ length: 8 }, (_, j) => (b === 0 ? j * 9 : rnd(64)));
    const q = Array.from({ length: 256 }, (_, e) => (b === 0 ? e % 16 : rnd(16)));
    const qs = new Uint8Array(128);
    q.forEach((v, e) => {
      const j = e >> 5; // sub-block 0…7
      const at = (j >> 1) * 32 + (e & 31); // two sub-blocks share 32 bytes
      qs[at] = qs[at]! | (j % 2 === 0 ? v : v << 4);
    });
    blocks.push(Uint8Array.from([...f16Bytes(d), ...f16Bytes(dmin), ...packScalesMins(scales, mins), ...qs]));
    const dh = f16ToF32(f32ToF16(d));
    const mh = f16ToF32(f32ToF16(dmin));
    q.forEach((v, e) => expected.push(Math.fround(Math.fround(dh * scales[e >> 5]!) * v - Math.fround(mh * mins[e >> 5]!))));
  }
  const bytes = Uint8Array.from(blocks.flatMap((b) => [...b]));
  assert.equal(bytes.length, 3 * 144);
  const got = dequantizeQ4_K(bytes, 3 * 256);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-6 * (1 + Math.abs(expected[i]!)), `value ${i}: ${got[i]} vs ${expected[i]}`);
  // Spot values of block 0 worked out by hand: sub-block 5 has scale 58, min 45; element 5·32+3 has q 3.
  assert.equal(got[5 * 32 + 3], 0.25 * 58 * 3 - 0.125 * 45);
});

test("Q6_K blocks dequantize to d·scale·(q − 32) per 16-value group", () => {
  const normal = seededNormal(22);
  const q = Array.from({ length: 512 }, (_, e) => (e < 256 ? e % 64 : Math.floor(((normal() + 4) / 8) * 64) & 63));
  const scales = Array.from({ length: 32 }, (_, i) => (i < 16 ? i - 8 : Math.round(normal() * 40)));
  const ds = [0.5, -0.03];
  const expected: number[] = [];
  const blocks: number[] = [];
  for (let b = 0; b < 2; b++) {
    const ql = new Uint8Array(128);
    const qh = new Uint8Array(64);
    for (let e = 0; e < 256; e++) {
      const v = q[b * 256 + e]!;
      const half = e >> 7; // two halves of 128 values
      const r = e & 127;
      const k = r >> 5; // which quarter of the half
      const l = r & 31;
      const lo = half * 64 + l + (k & 1 ? 32 : 0);
      ql[lo] = ql[lo]! | (k < 2 ? v & 0x0f : (v & 0x0f) << 4);
      qh[half * 32 + l] = qh[half * 32 + l]! | ((v >> 4) << (2 * k));
      const scale = scales[b * 16 + half * 8 + (l >> 4) + 2 * k]!;
      expected.push(f16ToF32(f32ToF16(ds[b]!)) * scale * (v - 32));
    }
    const sc = Int8Array.from(scales.slice(b * 16, b * 16 + 16));
    blocks.push(...ql, ...qh, ...new Uint8Array(sc.buffer), ...f16Bytes(ds[b]!));
  }
  assert.equal(blocks.length, 2 * 210);
  const got = dequantizeQ6_K(Uint8Array.from(blocks), 512);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-6 * (1 + Math.abs(expected[i]!)), `value ${i}: ${got[i]} vs ${expected[i]}`);
  // Element 200 of block 0: half 1, quarter 2, group scale index 8+0+4 = 12 → scale 4; q = 200 % 64 = 8.
  assert.equal(got[200], 0.5 * 4 * (8 - 32));
});

test("K-quant tensors are read from a file like any other", async () => {
  const raw = new Uint8Array(144).fill(0x11);
  raw.set(f16Bytes(1), 0);
  raw.set(f16Bytes(0), 2);
  const path = join(tempDir(), "k.gguf");
  await writeGguf(path, { metadata: [], tensors: [{ name: "k", dims: [256], type: "Q4_K", data: raw }] });
  const r = await openGguf(path);
  const values = await r.readTensor("k");
  await r.close();
  assert.equal(values.length, 256);
  assert.ok(values.every((v) => Number.isFinite(v)));
  // Scale bytes 0x11: sub-block 0 has scale 17, quants 1 → 17.
  assert.equal(values[0], 17);
});

test("half and bfloat16 conversions are exact where representable and round to nearest even", () => {
  for (let h = 0; h < 0x10000; h++) {
    const f = f16ToF32(h);
    if (Number.isNaN(f)) assert.ok(Number.isNaN(f16ToF32(f32ToF16(f))));
    else assert.equal(f32ToF16(f), h, `half 0x${h.toString(16)}`);
  }
  assert.equal(f32ToF16(65520), 0x7c00, "overflow → inf");
  assert.equal(f32ToF16(1 + 2 ** -11), f32ToF16(1), "tie → even");
  assert.equal(f32ToF16(1 + 3 * 2 ** -11), f32ToF16(1 + 2 ** -9), "tie → even (up)");
  assert.equal(f32ToF16(2 ** -25), 0, "half the smallest subnormal rounds to even (0)");
  assert.equal(f16ToF32(f32ToF16(2 ** -24)), 2 ** -24);
  for (const v of [1, -2.5, 3.140625, 2 ** 100, -(2 ** -100)]) assert.equal(bf16ToF32(f32ToBf16(v)), v, `bf16 ${v}`);
  assert.equal(bf16ToF32(f32ToBf16(1)), 1);
  assert.equal(bf16ToF32(f32ToBf16(1 + 2 ** -8)), 1, "bf16 tie → even");
  assert.equal(bf16ToF32(f32ToBf16(1 + 3 * 2 ** -8)), 1 + 2 ** -6, "bf16 tie → even (up)");
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(Number.NaN))));
});

test("tensor data is aligned to general.alignment (default 32) and read back from the right place", () => {
  for (const alignment of [undefined, 64, 1, 4096]) {
    const metadata: Array<[string, ReturnType<typeof ggufValue.u32>]> = alignment === undefined ? [] : [["general.alignment", ggufValue.u32(alignment)]];
    const tensors: GgufTensorInput[] = [
      { name: "a", dims: [3], type: "F32", data: new Float32Array([1, 2, 3]) },
      { name: "b", dims: [5], type: "F16", data: new Float32Array([4, 5, 6, 7, 8]) },
      { name: "c", dims: [32], type: "Q8_0", data: Float32Array.from({ length: 32 }, (_, i) => i) },
    ];
    const bytes = encodeGguf({ metadata, tensors });
    const r = readGgufBuffer(bytes);
    const a = alignment ?? 32;
    assert.equal(r.alignment, a);
    assert.equal(r.dataOffset % a, 0);
    assert.equal(bytes.length % a, 0, "the data section ends padded");
    for (const t of r.tensors) assert.equal(t.offset % a, 0, `${t.name} offset ${t.offset}`);
    assert.equal(r.tensors[1]!.offset, Math.ceil(12 / a) * a);
  }
});

test("opening a huge model reads only its header; a tensor is read on demand", async () => {
  // A sparse 3 GiB file: one 3 GiB tensor declared, then a small one; nothing is written in between.
  const big = 3 * 2 ** 30;
  const raw = new RawGguf().header(2, 1).kvStr("general.architecture", "test");
  raw.tensor("huge", [big / 4], 0, 0).tensor("small", [4], 0, big).padTo(32);
  const header = raw.build();
  const path = join(tempDir(), "sparse.gguf");
  const fd = openSync(path, "w");
  writeSync(fd, header);
  ftruncateSync(fd, header.length + big + 16);
  writeSync(fd, new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer), 0, 16, header.length + big);
  closeSync(fd);
  const rssBefore = process.memoryUsage().rss;
  const r = await openGguf(path);
  try {
    assert.equal(r.tensors[0]!.byteSize, big);
    assert.deepEqual(await r.readTensor("small"), new Float32Array([1, 2, 3, 4]));
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 2 ** 20, "the 3 GiB tensor was not read");
  } finally {
    await r.close();
  }
  await assert.rejects(r.readTensor("small"), /closed/);
  rmSync(path);
});

test("writeGguf streams lazily produced tensors, reports progress, and leaves nothing behind when aborted", async () => {
  const dir = tempDir();
  const path = join(dir, "streamed.gguf");
  const events: Array<{ done: number; total?: number; item?: string }> = [];
  let produced = 0;
  const tensors: GgufTensorInput[] = [0, 1, 2].map((i) => ({
    name: `t${i}`,
    dims: [32],
    type: "Q8_0",
    data: async () => {
      produced++;
      return Float32Array.from({ length: 32 }, (_, j) => i + j / 32);
    },
  }));
  const size = await writeGguf(path, { metadata: [], tensors }, { onProgress: (e) => events.push(e) });
  assert.equal(produced, 3);
  assert.deepEqual(events.map((e) => [e.done, e.total, e.item]), [[1, 3, "t0"], [2, 3, "t1"], [3, 3, "t2"]]);
  const r = await openGguf(path);
  assert.equal(r.fileSize, size);
  assert.ok(Math.abs((await r.readTensor("t2"))[31]! - (2 + 31 / 32)) < 0.02);
  await r.close();

  const ac = new AbortController();
  const aborted = join(dir, "aborted.gguf");
  await assert.rejects(
    writeGguf(aborted, { metadata: [], tensors }, { signal: ac.signal, onProgress: (e) => e.done === 1 && ac.abort() }),
    (e: unknown) => e instanceof Error && (e as { code?: string }).code === "ABORTED",
  );
  assert.deepEqual(readdirSync(dir).sort(), ["streamed.gguf"], "no partial file, no temporary file");
});
