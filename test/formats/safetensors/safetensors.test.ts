// safetensors: round trips (F32 exact, F16/BF16 rounded as ggml/torch do), metadata, a file written
// by an independent Python writer of the spec (numpy + json + struct) read here and ours read there,
// and hostile files failing fast with SAFETENSORS_INVALID.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StrataError } from "../../../src/core/errors.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../../src/formats/gguf/index.js";
import { decodeSafetensors, encodeSafetensors, openSafetensors, readSafetensors, writeSafetensors } from "../../../src/formats/safetensors/index.js";
import { tempDir } from "../../helpers/paths.js";

const PYTHON = "/usr/bin/python3";
const noNumpy = spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8", timeout: 60_000 }).status === 0 ? false : `numpy is not importable from ${PYTHON}`;

const invalid = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof StrataError, String(e));
  assert.equal(e.code, "SAFETENSORS_INVALID", e.message);
  assert.match(e.message, re);
  return true;
};

/** A file from a raw header object and a data buffer. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors", () => {
  let dir: string;
  before(() => {
    dir = tempDir("strata-st-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips F32 exactly, F16 and BF16 with round-to-nearest-even, with metadata, 8-byte aligned data", async () => {
    const a = Float32Array.from([1, -2.5, 3.14159, 1e-8, 65504, -0, 1 / 3]);
    const b = Float32Array.from({ length: 6 }, (_, i) => i * 0.1 - 0.25);
    const path = join(dir, "rt.safetensors");
    const size = await writeSafetensors(path, { a: { shape: [7], data: a }, "w.h": { shape: [2, 3], data: b, dtype: "F16" }, z: { shape: [3, 2], data: b, dtype: "BF16" }, e: { shape: [0, 4], data: new Float32Array(0) } }, { metadata: { format: "test", step: "3" } });
    const bytes = readFileSync(path);
    assert.equal(bytes.length, size);
    assert.equal((8 + Number(bytes.readBigUInt64LE(0))) % 8, 0, "data starts on an 8-byte boundary");
    const { metadata, tensors } = await readSafetensors(path);
    assert.deepEqual(metadata, { format: "test", step: "3" });
    assert.deepEqual(Object.keys(tensors), ["a", "w.h", "z", "e"]);
    assert.deepEqual(tensors.a!.data, a);
    assert.deepEqual(tensors["w.h"]!.shape, [2, 3]);
    assert.deepEqual([...tensors["w.h"]!.data], [...b].map((x) => f16ToF32(f32ToF16(x))));
    assert.deepEqual([...tensors.z!.data], [...b].map((x) => bf16ToF32(f32ToBf16(x))));
    assert.deepEqual(tensors.e!.shape, [0, 4]);
    assert.deepEqual(decodeSafetensors(encodeSafetensors({ a: { shape: [7], data: a } })).tensors.a!.data, a);
    const f = await openSafetensors(path);
    try {
      assert.equal(f.entry("z").dtype, "BF16");
      assert.ok(!f.has("nope"));
      await assert.rejects(f.read("nope"), invalid(/has no tensor "nope"/));
    } finally {
      await f.close();
    }
  });

  it("refuses a tensor whose shape does not hold its values", async () => {
    await assert.rejects(writeSafetensors(join(dir, "bad.safetensors"), { a: { shape: [2, 2], data: new Float32Array(3) } }), /does not hold its 3 values/);
  });

  it("reads a file written by an independent Python writer, and Python reads ours", { skip: noNumpy }, async () => {
    const script = `
import json, struct, sys, numpy as np
d = sys.argv[1]
a = np.arange(12, dtype="<f4").reshape(3, 4) / 7
b = np.array([1.5, -2.25, 1e-3], dtype="<f2")
hdr = {"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]}, "b": {"dtype": "F16", "shape": [3], "data_offsets": [48, 54]}}
h = json.dumps(hdr).encode()
open(d + "/py.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + a.tobytes() + b.tobytes())
buf = open(d + "/ours.safetensors", "rb").read()
n = struct.unpack("<Q", buf[:8])[0]
hdr = json.loads(buf[8:8 + n])
e = hdr["x"]
x = np.frombuffer(buf[8 + n + e["data_offsets"][0]: 8 + n + e["data_offsets"][1]], dtype="<f4").reshape(e["shape"])
print(json.dumps({"meta": hdr["__metadata__"], "shape": list(x.shape), "sum": float(x.astype("f8").sum()), "dtype": e["dtype"]}))
`;
    const x = Float32Array.from({ length: 10 }, (_, i) => i * 0.5);
    await writeSafetensors(join(dir, "ours.safetensors"), { x: { shape: [2, 5], data: x } }, { metadata: { k: "v" } });
    const res = spawnSync(PYTHON, ["-c", script, dir], { encoding: "utf8", timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { meta: { k: "v" }, shape: [2, 5], sum: 22.5, dtype: "F32" });
    const { metadata, tensors } = await readSafetensors(join(dir, "py.safetensors"));
    assert.deepEqual(metadata, { format: "pt" });
    assert.deepEqual([...tensors.a!.data], Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7)));
    assert.deepEqual([...tensors.b!.data], [1.5, -2.25, f16ToF32(f32ToF16(1e-3))]);
  });

  describe("hostile files fail fast", () => {
    const f4 = new Uint8Array(16);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["shorter than 8 bytes", new Uint8Array(5), /shorter than the 8-byte header length/],
      ["a header length of 2^60", raw({}, new Uint8Array(0), 1n << 60n), /exceeds the 100 MB/],
      ["a header running past the end", raw({}, new Uint8Array(0), 1000n), /runs past the end/],
      ["a header that is not JSON", (() => { const b = raw({ a: 1 }); b[8] = 0x7b; b[9] = 0x7b; return b; })(), /not valid JSON/],
      ["a header that is not an object", raw([1, 2]), /does not start with '\{'/],
      ["an unknown dtype", raw({ a: { dtype: "F128", shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)), /unknown dtype "F128"/],
      ["a negative dimension", raw({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /invalid shape/],
      ["a fractional offset", raw({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4.5] } }, new Uint8Array(4)), /invalid data_offsets/],
      ["offsets beyond the data", raw({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /ends at byte 16 of a data buffer of 8 bytes/],
      ["a size that disagrees with the shape", raw({ a: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }, f4), /needs 12 bytes but data_offsets give 16/],
      ["huge dimensions", raw({ a: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, f4), /needs .* bytes but data_offsets give 16/],
      ["overlapping tensors", raw({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] }, b: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, f4), /overlaps/],
      ["a hole between tensors", raw({ a: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, f4), /bytes 0–8 of the data buffer belong to no tensor/],
      ["trailing bytes", raw({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, f4), /tensors cover 8/],
      ["metadata that is not strings", raw({ __metadata__: { step: 3 } }), /__metadata__\.step is not a string/],
      ["a tensor that is not an object", raw({ a: 5 }), /tensor "a" is not an object/],
    ];
    for (const [name, bytes, re] of cases) {
      it(`refuses ${name}`, async () => {
        assert.throws(() => decodeSafetensors(bytes, "mem"), invalid(re));
        const p = join(dir, "hostile.safetensors");
        writeFileSync(p, bytes);
        await assert.rejects(readSafetensors(p), invalid(re));
      });
    }

    it("refuses a truncated file, naming it", async () => {
      const p = join(dir, "trunc.safetensors");
      await writeSafetensors(p, { a: { shape: [64], data: new Float32Array(64) } });
      truncateSync(p, readFileSync(p).length - 10);
      await assert.rejects(readSafetensors(p), invalid(/trunc\.safetensors: tensor "a" ends at byte 256 of a data buffer of 246 bytes/));
    });

    it("reads other dtypes' headers but refuses to convert integer tensors", async () => {
      const p = join(dir, "int.safetensors");
      writeFileSync(p, raw({ a: { dtype: "I32", shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)));
      const f = await openSafetensors(p);
      try {
        assert.equal(f.entry("a").dtype, "I32");
        await assert.rejects(f.read("a"), invalid(/has dtype I32; Strata reads F32, F16, BF16 and F64/));
      } finally {
        await f.close();
      }
    });

    it("names a missing file", async () => {
      await assert.rejects(readSafetensors(join(dir, "none.safetensors")), (e: unknown) => e instanceof StrataError && e.code === "NOT_FOUND");
    });
  });
});
