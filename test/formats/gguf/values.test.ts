// Metadata round trips: every GGUF value type, arrays of each, nested arrays, edge values; and the
// writer refusing values their type cannot hold.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { StrataError } from "../../../src/core/errors.js";
import {
  encodeGguf,
  ggufValue,
  metaNumber,
  metaString,
  metaStringArray,
  openGguf,
  readGgufBuffer,
  writeGguf,
  type GgufValue,
} from "../../../src/formats/gguf/index.js";
import { tempDir } from "../../helpers/paths.js";

const EVERY_VALUE: Array<[string, GgufValue]> = [
  ["u8.max", ggufValue.u8(255)],
  ["u8.zero", ggufValue.u8(0)],
  ["i8.min", ggufValue.i8(-128)],
  ["i8.max", ggufValue.i8(127)],
  ["u16.max", ggufValue.u16(65535)],
  ["i16.min", ggufValue.i16(-32768)],
  ["u32.max", ggufValue.u32(4294967295)],
  ["i32.min", ggufValue.i32(-2147483648)],
  ["f32", ggufValue.f32(Math.fround(3.14159))],
  ["f32.negzero", ggufValue.f32(-0)],
  ["f32.inf", ggufValue.f32(Number.NEGATIVE_INFINITY)],
  ["f64", ggufValue.f64(Math.PI)],
  ["f64.tiny", ggufValue.f64(5e-324)],
  ["bool.true", ggufValue.bool(true)],
  ["bool.false", ggufValue.bool(false)],
  ["str.empty", ggufValue.str("")],
  ["str.unicode", ggufValue.str("héllo ✓ 日本語 🎉\n\t\"quoted\"")],
  ["u64.max", ggufValue.u64(2n ** 64n - 1n)],
  ["i64.min", ggufValue.i64(-(2n ** 63n))],
  ["i64.small", ggufValue.i64(42)],
  ["arr.u8", ggufValue.numbers("uint8", [0, 1, 255])],
  ["arr.i8", ggufValue.numbers("int8", [-128, 0, 127])],
  ["arr.u16", ggufValue.numbers("uint16", [0, 65535])],
  ["arr.i16", ggufValue.numbers("int16", [-32768, 32767])],
  ["arr.u32", ggufValue.numbers("uint32", [0, 4294967295])],
  ["arr.i32", ggufValue.numbers("int32", [-2147483648, 2147483647])],
  ["arr.f32", ggufValue.numbers("float32", [Math.fround(0.1), -2.5, 1e-30].map(Math.fround))],
  ["arr.f64", ggufValue.numbers("float64", [0.1, -1e300])],
  ["arr.bool", ggufValue.bools([true, false, true])],
  ["arr.str", ggufValue.strings(["a", "", "ünï", "Ġthe"])],
  ["arr.u64", ggufValue.bigints("uint64", [0n, 2n ** 64n - 1n])],
  ["arr.i64", ggufValue.bigints("int64", [-(2n ** 63n), 2n ** 63n - 1n])],
  ["arr.empty", ggufValue.strings([])],
  ["arr.nested", ggufValue.arrays([ggufValue.numbers("int32", [1, 2]), ggufValue.numbers("int32", []), ggufValue.numbers("int32", [3])])],
  ["arr.nested.strings", ggufValue.arrays([ggufValue.strings(["x"]), ggufValue.arrays([ggufValue.bools([false])])])],
];

test("every metadata value type survives a write and a read, in order", async () => {
  const path = join(tempDir(), "values.gguf");
  await writeGguf(path, { metadata: EVERY_VALUE, tensors: [] });
  const r = await openGguf(path);
  try {
    assert.equal(r.version, 3);
    assert.deepEqual([...r.metadata.keys()], EVERY_VALUE.map(([k]) => k));
    for (const [key, value] of EVERY_VALUE) assert.deepEqual(r.metadata.get(key), value, key);
    assert.ok(Object.is((r.metadata.get("f32.negzero") as { value: number }).value, -0));
    assert.equal(r.tensors.length, 0);
  } finally {
    await r.close();
  }
});

test("in-memory encoding and file writing produce the same bytes", async () => {
  const path = join(tempDir(), "same.gguf");
  await writeGguf(path, { metadata: EVERY_VALUE, tensors: [{ name: "t", dims: [4], type: "F32", data: new Float32Array([1, 2, 3, 4]) }] });
  const { readFile } = await import("node:fs/promises");
  const fromFile = new Uint8Array(await readFile(path));
  assert.deepEqual(fromFile, encodeGguf({ metadata: EVERY_VALUE, tensors: [{ name: "t", dims: [4], type: "F32", data: new Float32Array([1, 2, 3, 4]) }] }));
});

test("typed getters read numbers of any width and refuse the wrong type", () => {
  const r = readGgufBuffer(encodeGguf({ metadata: EVERY_VALUE, tensors: [] }));
  assert.equal(metaNumber(r.metadata, "u8.max"), 255);
  assert.equal(metaNumber(r.metadata, "i64.small"), 42);
  assert.equal(metaNumber(r.metadata, "missing"), undefined);
  assert.deepEqual(metaStringArray(r.metadata, "arr.str"), ["a", "", "ünï", "Ġthe"]);
  assert.throws(() => metaNumber(r.metadata, "u64.max"), (e: unknown) => e instanceof StrataError && e.code === "GGUF_INVALID" && /too large/.test(e.message));
  assert.throws(() => metaString(r.metadata, "u8.max"), (e: unknown) => e instanceof StrataError && /should be a string but is uint8/.test(e.message));
  assert.throws(() => metaStringArray(r.metadata, "arr.u8"), (e: unknown) => e instanceof StrataError && /array of uint8/.test(e.message));
});

test("the writer refuses values their declared type cannot hold", () => {
  const bad: Array<[string, GgufValue]> = [
    ["u8", ggufValue.u8(256)],
    ["i8", ggufValue.i8(-129)],
    ["u32", ggufValue.u32(-1)],
    ["u16.frac", ggufValue.u16(1.5)],
    ["arr", ggufValue.numbers("int16", [1, 40000])],
    ["u64", ggufValue.u64(2n ** 64n)],
    ["i64", ggufValue.i64(2n ** 63n)],
  ];
  for (const entry of bad) {
    assert.throws(() => encodeGguf({ metadata: [entry], tensors: [] }), (e: unknown) => e instanceof StrataError && e.code === "USAGE" && e.message.includes(entry[0]), entry[0]);
  }
  assert.throws(() => encodeGguf({ metadata: [["", ggufValue.u8(1)]], tensors: [] }), /metadata key/);
  assert.throws(() => encodeGguf({ metadata: [["general.alignment", ggufValue.u32(48)]], tensors: [] }), /power of two/);
  assert.throws(() => encodeGguf({ metadata: [["general.alignment", ggufValue.u64(32)]], tensors: [] }), /uint32/);
});
