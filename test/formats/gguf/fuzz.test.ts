// Seeded fuzzing of the reader: a valid file with every value and tensor type is mutated thousands of
// times (bit flips, random bytes, huge numbers, truncation, insertion, deletion). Every attempt must
// parse or throw a StrataError — never another error, never a hang, never a huge allocation — and
// every tensor of a file that parses must read or fail the same way. Files of the real families' layout
// (SentencePiece and BPE vocabularies, qwen2, rope_freqs) go through the whole import, tokenizer included.
import assert from "node:assert/strict";
import { test } from "node:test";
import { StrataError } from "../../../src/core/errors.js";
import { encodeGguf, ggufValue, readGgufBuffer } from "../../../src/formats/gguf/index.js";
import { seededNormal } from "../../helpers/tiny-llama.js";
import { uniformSource } from "../../../src/core/random.js";

const seededUniform = uniformSource;

function sampleFile(): Uint8Array {
  const normal = seededNormal(3);
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => normal());
  const kBlock = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 37 + 11) & 0xff);
  return encodeGguf({
    metadata: [
      ["general.architecture", ggufValue.str("llama")],
      ["general.alignment", ggufValue.u32(32)],
      ["llama.block_count", ggufValue.u32(2)],
      ["f", ggufValue.f32(0.5)],
      ["d", ggufValue.f64(-2)],
      ["flag", ggufValue.bool(true)],
      ["big", ggufValue.u64(2n ** 40n)],
      ["neg", ggufValue.i64(-5)],
      ["small", ggufValue.i8(-3)],
      ["tokenizer.ggml.tokens", ggufValue.strings(["a", "b", "Ġthe", "<|im_end|>", "ü"])],
      ["tokenizer.ggml.scores", ggufValue.numbers("float32", [0, -1, -2, -3, -4])],
      ["nested", ggufValue.arrays([ggufValue.numbers("uint16", [1, 2]), ggufValue.bools([true])])],
    ],
    tensors: [
      { name: "f32", dims: [8, 2], type: "F32", data: values(16) },
      { name: "f16", dims: [8], type: "F16", data: values(8) },
      { name: "bf16", dims: [4], type: "BF16", data: values(4) },
      { name: "q8", dims: [32, 2], type: "Q8_0", data: values(64) },
      { name: "q4", dims: [32], type: "Q4_0", data: values(32) },
      { name: "q4k", dims: [256], type: "Q4_K", data: kBlock(144) },
      { name: "q6k", dims: [256], type: "Q6_K", data: kBlock(210) },
    ],
  });
}

function mutate(base: Uint8Array, rnd: () => number): Uint8Array {
  const pos = (n: number): number => Math.floor(rnd() * n);
  const kind = pos(7);
  switch (kind) {
    case 0: {
      // flip a few bits
      const out = base.slice();
      for (let i = 0, n = 1 + pos(8); i < n; i++) {
        const at = pos(out.length);
        out[at] = out[at]! ^ (1 << pos(8));
      }
      return out;
    }
    case 1: {
      // random bytes over a short run
      const out = base.slice();
      const at = pos(out.length);
      for (let i = at; i < Math.min(out.length, at + 1 + pos(16)); i++) out[i] = pos(256);
      return out;
    }
    case 2: {
      // a huge little-endian number where a length, count or offset may sit
      const out = base.slice();
      const at = pos(Math.max(1, out.length - 8));
      const dv = new DataView(out.buffer);
      dv.setBigUint64(at, [2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, BigInt(pos(1 << 30))][pos(4)]!, true);
      return out;
    }
    case 3:
      return base.slice(0, pos(base.length));
    case 4: {
      const at = pos(base.length);
      const ins = Uint8Array.from({ length: 1 + pos(40) }, () => pos(256));
      return Uint8Array.from([...base.subarray(0, at), ...ins, ...base.subarray(at)]);
    }
    case 5: {
      const at = pos(base.length);
      return Uint8Array.from([...base.subarray(0, at), ...base.subarray(Math.min(base.length, at + 1 + pos(64)))]);
    }
    default: {
      // the header region is where structure lives: hit it harder
      const out = base.slice();
      out[pos(Math.min(out.length, 600))] = pos(256);
      return out;
    }
  }
}

test("thousands of mutated files each parse or fail with a StrataError", { timeout: 120_000 }, async () => {
  const base = sampleFile();
  assert.equal(readGgufBuffer(base).tensors.length, 7, "the sample parses");
  const rnd = seededUniform(20261124);
  const outcomes = { parsed: 0, rejected: 0, tensorErrors: 0 };
  const codes = new Set<string>();
  let maxArrayBuffers = 0;
  for (let i = 0; i < 3000; i++) {
    const bytes = mutate(base, rnd);
    let reader;
    try {
      reader = readGgufBuffer(bytes, `mutant ${i}`);
    } catch (e) {
      assert.ok(e instanceof StrataError, `mutant ${i}: ${e instanceof Error ? e.stack : String(e)}`);
      codes.add(e.code);
      outcomes.rejected++;
      continue;
    }
    outcomes.parsed++;
    for (const t of reader.tensors) {
      try {
        const values = await reader.readTensor(t);
        assert.equal(values.length, t.elementCount);
      } catch (e) {
        assert.ok(e instanceof StrataError, `mutant ${i}, tensor ${t.name}: ${e instanceof Error ? e.stack : String(e)}`);
        outcomes.tensorErrors++;
      }
    }
    if (i % 250 === 0) maxArrayBuffers = Math.max(maxArrayBuffers, process.memoryUsage().arrayBuffers);
  }
  // Both outcomes happen a lot: the mutations are neither all harmless nor all fatal.
  assert.ok(outcomes.parsed > 300, JSON.stringify(outcomes));
  assert.ok(outcomes.rejected > 1000, JSON.stringify(outcomes));
  assert.ok(codes.has("GGUF_INVALID"));
  assert.ok(maxArrayBuffers < 256 * 2 ** 20, `array buffers peaked at ${maxArrayBuffers} bytes`);
});

test("mutated files of the real families' layout import (with their tokenizer) or fail with a StrataError", { timeout: 180_000 }, async () => {
  const { writeFamilyGguf } = await import("../../helpers/gguf-families.js");
  const { readFileSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tempDir } = await import("../../helpers/paths.js");
  const { importFromReader } = await import("../../../src/formats/gguf/index.js");
  const dir = tempDir();
  const rnd = seededUniform(20261207);
  const outcomes = { imported: 0, rejected: 0 };
  try {
    for (const [family, type] of [["llama2", "Q5_1"], ["qwen2.5", "Q8_0"], ["llama3.1", "F16"]] as const) {
      const path = join(dir, `${family}.gguf`);
      await writeFamilyGguf(path, family, { type, dim: 32 });
      const base = readFileSync(path);
      for (let i = 0; i < 150; i++) {
        const bytes = mutate(base, rnd);
        const started = Date.now();
        try {
          const imported = await importFromReader(readGgufBuffer(bytes, `${family} mutant ${i}`));
          const tok = imported.textTokenizer!;
          tok.decode(tok.encode("Hello wörld 日本 🙂 <|im_end|>"));
          outcomes.imported++;
        } catch (e) {
          assert.ok(e instanceof StrataError, `${family} mutant ${i}: ${e instanceof Error ? e.stack : String(e)}`);
          outcomes.rejected++;
        }
        assert.ok(Date.now() - started < 5000, `${family} mutant ${i} took ${Date.now() - started} ms`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(outcomes.imported >= 3 && outcomes.rejected > 100, JSON.stringify(outcomes));
});
