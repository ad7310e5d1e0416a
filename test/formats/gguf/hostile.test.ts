// Broken and hostile GGUF files, one per way to break one: each must fail at once with a StrataError
// (GGUF_INVALID unless the file is missing or unreadable) whose message names the problem.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { StrataError, type ErrorCode } from "../../../src/core/errors.js";
import { encodeGguf, ggufValue, openGguf, readGgufBuffer } from "../../../src/formats/gguf/index.js";
import { tempDir } from "../../helpers/paths.js";
import { RawGguf } from "./raw-gguf.js";

function rejects(bytes: Uint8Array, pattern: RegExp, code: ErrorCode = "GGUF_INVALID"): void {
  assert.throws(
    () => readGgufBuffer(bytes, "bad.gguf"),
    (e: unknown) => {
      assert.ok(e instanceof StrataError, `not a StrataError: ${String(e)}`);
      assert.equal(e.code, code);
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith("bad.gguf"), "the message names the file");
      assert.ok(e.hint.length > 0, "there is a hint");
      return true;
    },
  );
}

/** A valid file: two kvs, two F32 tensors of 4 values. */
function valid(): RawGguf {
  return new RawGguf().header(2, 2).kvStr("general.architecture", "test").kvU32("answer", 42).tensor("a", [4], 0, 0).tensor("b", [4], 0, 32).padTo(32);
}

const withData = (raw: RawGguf): Uint8Array => raw.bytes(new Uint8Array(64)).build();

test("the valid baseline parses (so each case below breaks exactly one thing)", () => {
  const r = readGgufBuffer(withData(valid()));
  assert.equal(r.tensors.length, 2);
  assert.equal(r.metadata.size, 2);
});

test("not a GGUF at all: wrong magic, empty, tiny", () => {
  rejects(new TextEncoder().encode("PK\u0003\u0004 this is a zip"), /not a GGUF file: it starts with "PK\\x03\\x04"/);
  rejects(new Uint8Array(0), /not a GGUF file: only 0 bytes/);
  rejects(new TextEncoder().encode("GGU"), /only 3 bytes/);
  rejects(new TextEncoder().encode("{\"safetensors\": 1}"), /instead of "GGUF"/);
});

test("unsupported versions and byte order", () => {
  rejects(new RawGguf().header(0, 0, 1).build(), /version 1 is no longer supported/);
  rejects(new RawGguf().header(0, 0, 4).build(), /unsupported GGUF version 4/);
  rejects(new RawGguf().header(0, 0, 0x03000000).build(), /big-endian/);
  // Version 2 has the same layout and is still read.
  assert.equal(readGgufBuffer(new RawGguf().header(0, 0, 2).build()).version, 2);
});

test("truncated anywhere: in the counts, a key, a value, a tensor info, the data", () => {
  const full = withData(valid());
  const header = valid().build();
  for (const cut of [6, 12, 20, 30, 40, 60, header.length - 40, header.length - 5]) {
    rejects(full.subarray(0, cut), /truncated/);
  }
  rejects(full.subarray(0, header.length + 20), /truncated: tensor "b" needs bytes/);
});

test("lengths and counts larger than the file are refused before anything is allocated", () => {
  rejects(new RawGguf().header(0, 1).str("key", 2n ** 62n).build(), /metadata key 0 claims 4611686018427387904 bytes but only/);
  rejects(new RawGguf().header(0, 1).str("k").u32(8).u64(2n ** 40n).build(), /the value of "k" claims 1099511627776 bytes/);
  rejects(new RawGguf().header(0, 1).str("k").u32(9).u32(4).u64(2n ** 50n).build(), /claims 1125899906842624 items but the file has room for at most 0/);
  rejects(new RawGguf().header(0, 1).str("k").u32(9).u32(8).u64(1000).u64(1).bytes([65]).build(), /claims 1000 items/);
  rejects(new RawGguf().header(2n ** 60n, 0).build(), /claims 1152921504606846976 tensors, more than the 24-byte file could hold/);
  rejects(new RawGguf().header(0, 2n ** 63n).build(), /claims 9223372036854775808 metadata entries/);
  rejects(new RawGguf().header(1, 0).tensor("t", [2n ** 40n, 2n ** 40n], 0, 0).build(), /impossibly many elements/);
  rejects(new RawGguf().header(1, 0).tensor("t", [2n ** 60n], 0, 0).build(), /impossibly large/);
  rejects(new RawGguf().header(1, 0).tensor("t", [4], 0, 2n ** 60n).build(), /beyond any file/);
});

test("configured limits cap strings, tensors, entries and the header", () => {
  const bytes = encodeGguf({ metadata: [["s", ggufValue.str("x".repeat(100))]], tensors: [] });
  assert.throws(() => readGgufBuffer(bytes, "f", { maxStringBytes: 50 }), /100 bytes, over the 50-byte limit/);
  const deep = new RawGguf().header(0, 1).str("k").u32(9);
  for (let i = 0; i < 20; i++) deep.u32(9).u64(1);
  rejects(deep.u32(9).u32(4).u64(0).build(), /nests arrays deeper than 8 levels/);
});

test("unknown value types, tensor types and dimension counts", () => {
  rejects(new RawGguf().header(0, 1).str("k").u32(13).build(), /"k" has unknown value type 13/);
  rejects(new RawGguf().header(0, 1).str("k").u32(9).u32(99).u64(0).build(), /array of unknown value type 99/);
  rejects(new RawGguf().header(1, 0).tensor("t", [32], 4, 0).build(), /unknown ggml type id 4/);
  rejects(new RawGguf().header(1, 0).tensor("t", [32], 31, 0).build(), /unknown ggml type id 31/);
  rejects(new RawGguf().header(1, 0).tensor("t", [32], 1000, 0).build(), /unknown ggml type id 1000/);
  rejects(new RawGguf().header(1, 0).tensor("t", [], 0, 0).build(), /0 dimensions; ggml allows 1 to 4/);
  rejects(new RawGguf().header(1, 0).tensor("t", [1, 1, 1, 1, 1], 0, 0).build(), /5 dimensions/);
  rejects(new RawGguf().header(1, 0).tensor("t", [48], 8, 0).build(), /Q8_0 with rows of 48 values, not a multiple of its block size 32/);
});

test("bad values: bools other than 0/1, empty or duplicate keys, invalid UTF-8 keys", () => {
  rejects(new RawGguf().header(0, 1).str("flag").u32(7).u8(2).build(), /bool holding 2/);
  rejects(new RawGguf().header(0, 1).str("").u32(4).u32(1).build(), /metadata key 0 at byte 24 is empty/);
  rejects(new RawGguf().header(0, 2).kvU32("dup", 1).kvU32("dup", 2).build(), /"dup" appears twice/);
  rejects(new RawGguf().header(0, 1).u64(2).bytes([0xff, 0xfe]).u32(4).u32(1).build(), /not valid UTF-8/);
  rejects(new RawGguf().header(2, 0).tensor("t", [4], 0, 0).tensor("t", [4], 0, 32).build(), /tensor "t" appears twice/);
  rejects(new RawGguf().header(1, 0).tensor("x".repeat(64), [4], 0, 0).build(), /over the 63-byte limit/);
});

test("alignment: must be a uint32 power of two, and every offset a multiple of it", () => {
  rejects(new RawGguf().header(0, 1).kvU32("general.alignment", 0).build(), /alignment is 0; it must be a power of two/);
  rejects(new RawGguf().header(0, 1).kvU32("general.alignment", 48).build(), /alignment is 48/);
  rejects(new RawGguf().header(0, 1).kvStr("general.alignment", "32").build(), /general.alignment must be a uint32, not string/);
  rejects(withData(new RawGguf().header(1, 0).tensor("t", [4], 0, 8).padTo(32)), /data offset 8 .*not a multiple of the alignment 32/);
  rejects(withData(new RawGguf().header(1, 1).kvU32("general.alignment", 64).tensor("t", [4], 0, 32).padTo(64)), /not a multiple of the alignment 64/);
});

test("tensor data out of bounds or overlapping another tensor", () => {
  rejects(withData(new RawGguf().header(1, 0).tensor("t", [4], 0, 64).padTo(32)), /truncated: tensor "t" needs bytes/);
  rejects(withData(new RawGguf().header(1, 0).tensor("t", [1000], 0, 0).padTo(32)), /tensor "t" needs bytes \d+…\d+ but the file ends/);
  rejects(withData(new RawGguf().header(2, 0).tensor("a", [16], 0, 0).tensor("b", [4], 0, 32).padTo(32)), /tensor "a" overlaps tensor "b"|tensor "b" overlaps tensor "a"/);
});

test("files: missing, a folder, empty", async () => {
  const dir = tempDir();
  await assert.rejects(openGguf(join(dir, "nope.gguf")), (e: unknown) => e instanceof StrataError && e.code === "NOT_FOUND" && e.message.includes("nope.gguf"));
  mkdirSync(join(dir, "folder.gguf"));
  await assert.rejects(openGguf(join(dir, "folder.gguf")), (e: unknown) => e instanceof StrataError && e.code === "UNREADABLE" && /is not a file|is a folder/.test(e.message));
  writeFileSync(join(dir, "empty.gguf"), "");
  await assert.rejects(openGguf(join(dir, "empty.gguf")), (e: unknown) => e instanceof StrataError && e.code === "GGUF_INVALID" && /only 0 bytes/.test(e.message));
  // A hostile header in a file fails the same way as in memory.
  writeFileSync(join(dir, "huge.gguf"), new RawGguf().header(0, 1).str("k").u32(8).u64(2n ** 40n).build());
  await assert.rejects(openGguf(join(dir, "huge.gguf")), /claims 1099511627776 bytes/);
});

test("a long header spanning several reads parses from a file like from memory", async () => {
  // ~3 MB of vocabulary: more than the reader's first 1 MiB read.
  const tokens = Array.from({ length: 200_000 }, (_, i) => `token-${i}`);
  const bytes = encodeGguf({ metadata: [["tokenizer.ggml.tokens", ggufValue.strings(tokens)]], tensors: [{ name: "w", dims: [8], type: "F32", data: new Float32Array(8).fill(2) }] });
  const path = join(tempDir(), "long.gguf");
  writeFileSync(path, bytes);
  const r = await openGguf(path);
  try {
    assert.deepEqual((r.metadata.get("tokenizer.ggml.tokens") as { value: string[] }).value.slice(-2), ["token-199998", "token-199999"]);
    assert.deepEqual(await r.readTensor("w"), new Float32Array(8).fill(2));
  } finally {
    await r.close();
  }
  // The same file cut inside the vocabulary: truncated, not a hang or a partial read.
  writeFileSync(path, bytes.subarray(0, 2_000_000));
  await assert.rejects(openGguf(path), /truncated/);
});

test("reading a tensor that does not exist names what the file has", async () => {
  const r = readGgufBuffer(withData(valid()));
  await assert.rejects(r.readTensor("zzz"), (e: unknown) => e instanceof StrataError && e.code === "NOT_FOUND" && /has no tensor "zzz"/.test(e.message) && /a, b/.test(e.hint));
});

test("an array longer than the configured limit is refused even when the file holds it", () => {
  const bytes = encodeGguf({ metadata: [["scores", ggufValue.numbers("float32", new Array(1000).fill(0))]], tensors: [] });
  assert.throws(() => readGgufBuffer(bytes, "f", { maxArrayLength: 999 }), /the value of "scores" has 1000 items, over the limit of 999/);
  assert.equal(readGgufBuffer(bytes, "f", { maxArrayLength: 1000 }).metadata.size, 1);
});
