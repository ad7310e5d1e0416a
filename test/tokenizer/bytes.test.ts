import { test } from "node:test";
import assert from "node:assert/strict";
import { BYTE_TO_CHAR, bytesToMapped, completeUtf8Prefix, firstInvalidUtf8, mappedToBytes, utf8Encode } from "../../src/tokenizer/bytes.js";
import { int, randomText, rng } from "./helpers/random-text.js";

test("GPT-2's byte-to-unicode map: a bijection onto printable characters", () => {
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  assert.equal(BYTE_TO_CHAR[0x20], "\u0120"); // space is Ġ
  assert.equal(BYTE_TO_CHAR[0x0a], "\u010a"); // newline is Ċ
  assert.equal(BYTE_TO_CHAR[0x00], "\u0100");
  assert.equal(BYTE_TO_CHAR[0x41], "A");
  assert.equal(BYTE_TO_CHAR[0xad], "\u0143"); // the soft hyphen is shifted too
  assert.equal(BYTE_TO_CHAR[0xff], "ÿ");
  for (const ch of BYTE_TO_CHAR) assert.ok(!/\s/u.test(ch) && ch.length === 1, `byte maps to ${JSON.stringify(ch)}`);
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(mappedToBytes(bytesToMapped(all)), all);
  assert.equal(mappedToBytes("a b"), undefined); // a real space is not a mapped byte
});

test("utf8Encode matches TextEncoder, lone surrogates included (seeded)", () => {
  const r = rng(3);
  const enc = new TextEncoder();
  let buf: Uint8Array = new Uint8Array(4);
  for (let n = 0; n < 2000; n++) {
    let s = randomText(r, 8);
    if (n % 5 === 0) s = s.slice(0, int(r, 0, s.length)) + String.fromCharCode(int(r, 0xd800, 0xdfff)) + s;
    const out = utf8Encode(s, buf);
    buf = out.buf;
    assert.deepEqual(out.buf.slice(0, out.length), enc.encode(s), JSON.stringify(s));
  }
});

test("firstInvalidUtf8 finds exactly what a strict decoder rejects", () => {
  const bad: [number[], number][] = [
    [[0x61, 0xff], 1],
    [[0xc0, 0x80], 0], // overlong
    [[0xe0, 0x80, 0x80], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // a surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x61, 0x62, 0xe2, 0x82], 2], // cut short at the end
    [[0x80], 0],
  ];
  for (const [bytes, at] of bad) assert.equal(firstInvalidUtf8(Uint8Array.from(bytes)), at, JSON.stringify(bytes));
  const r = rng(11);
  const strict = new TextDecoder("utf-8", { fatal: true });
  for (let n = 0; n < 3000; n++) {
    const bytes = n % 2 ? new TextEncoder().encode(randomText(r, 6)) : Uint8Array.from({ length: int(r, 0, 8) }, () => int(r, 0x70, 0xff));
    let valid = true;
    try {
      strict.decode(bytes);
    } catch {
      valid = false;
    }
    assert.equal(firstInvalidUtf8(bytes) < 0, valid, JSON.stringify([...bytes]));
  }
});

test("completeUtf8Prefix holds back only a character cut at the end", () => {
  const euro = [0xe2, 0x82, 0xac];
  assert.equal(completeUtf8Prefix(Uint8Array.from([0x61, ...euro])), 4);
  assert.equal(completeUtf8Prefix(Uint8Array.from([0x61, 0xe2, 0x82])), 1);
  assert.equal(completeUtf8Prefix(Uint8Array.from([0x61, 0xf0])), 1);
  assert.equal(completeUtf8Prefix(Uint8Array.from([0x61, 0xff])), 2); // never valid: left for validation to report
  assert.equal(completeUtf8Prefix(new Uint8Array(0)), 0);
});
