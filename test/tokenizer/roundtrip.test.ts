import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mergeWordHeap, mergeWordSimple, type MergeTable } from "../../src/tokenizer/merge.js";
import { Tokenizer } from "../../src/tokenizer/tokenizer.js";
import { trainTokenizerFromTexts } from "../../src/tokenizer/train.js";
import { int, randomText, rng } from "./helpers/random-text.js";

let tok: Tokenizer;

before(async () => {
  // A corpus of the same kind of text as the property test, so that merges span multi-byte
  // characters, emoji, CJK and runs of spaces, and decoding has to reassemble them.
  const r = rng(42);
  const corpus = Array.from({ length: 3000 }, () => randomText(r, 12));
  tok = (await trainTokenizerFromTexts(corpus, { vocabSize: 2000, whenDataRunsOut: "stop" })).tokenizer;
});

test("decode(encode(s)) === s for random Unicode text (seeded, 5000 cases)", () => {
  assert.ok(tok.vocabSize > 1500, `vocabulary of only ${tok.vocabSize}`);
  const multiByteTokens = Array.from({ length: tok.normalVocabSize }, (_, id) => tok.tokenBytes(id)).filter((b) => b.some((x) => x >= 0x80));
  assert.ok(multiByteTokens.length > 100, "the tokenizer has learned tokens for non-ASCII bytes");
  const r = rng(2026);
  let tokens = 0;
  for (let n = 0; n < 5000; n++) {
    const s = randomText(r, n % 50 === 0 ? 200 : 16);
    const ids = tok.encode(s);
    tokens += ids.length;
    assert.ok(ids.every((id) => id < tok.normalVocabSize), "no special token unless allowed");
    assert.equal(tok.decode(ids), s, `case ${n}: ${JSON.stringify(s)}`);
    // With special tokens parsed the text comes back too (they decode to their strings).
    assert.equal(tok.decode(tok.encode(s, { allowedSpecial: "all" })), s);
    // Encoding is a function of the text, whatever the cache held before.
    assert.deepEqual(tok.encode(s), ids);
  }
  assert.ok(tokens > 20000);
});

test("edge cases round-trip: empty, BOM first, lone CR, long space runs, NUL, a megabyte line", () => {
  const cases = ["", "\ufeff", "\ufeffBOM first", "\r", "a\rb\r", " ".repeat(10000), "\t \n".repeat(500), "\u0000\u0001\u007f", "x".repeat(5000), "é".repeat(3000), "🤖".repeat(1000), "ab\r\n".repeat(250_000)];
  for (const s of cases) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s.slice(0, 20)));
});

test("a lone surrogate (not Unicode) encodes as U+FFFD, as TextEncoder does", () => {
  assert.equal(tok.decode(tok.encode("a\ud800b")), "a\ufffdb");
});

test("a character split across tokens decodes once all its tokens are there", () => {
  // A byte-level vocabulary without merges: every byte is a token.
  const bytesOnly = new Tokenizer({ merges: [] });
  const ids = bytesOnly.encode("€😀");
  assert.deepEqual(ids, [0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  assert.equal(bytesOnly.decode(ids.slice(0, 2)), "\ufffd"); // incomplete: replaced
  assert.equal(bytesOnly.decode(ids), "€😀");
  // Token by token, the stream decoder holds back a cut character.
  const d = bytesOnly.decoder();
  assert.deepEqual(ids.map((id) => d.push(id)), ["", "", "€", "", "", "", "😀"]);
  assert.equal(d.end(), "");
  // The same with learned tokens that end inside a character.
  const r = rng(8);
  for (let n = 0; n < 300; n++) {
    const s = randomText(r, 10);
    const dec = tok.decoder();
    let out = "";
    for (const id of tok.encode(s)) out += dec.push(id);
    out += dec.end();
    assert.equal(out, s);
  }
  const cut = tok.decoder();
  cut.push(0xe2);
  assert.equal(cut.end(), "\ufffd"); // ended inside a character
});

test("decoding an id outside the vocabulary is a usage error", () => {
  assert.throws(() => tok.decode([1, tok.vocabSize]), /token id \d+ is outside the vocabulary/);
  assert.throws(() => tok.decode([-1]), /outside the vocabulary/);
  assert.throws(() => tok.decode([1.5]), /outside the vocabulary/);
});

test("the heap merge and the rescanning merge agree on long words (seeded)", () => {
  const table = tableOf(tok);
  const r = rng(77);
  let merged = 0;
  for (let n = 0; n < 400; n++) {
    const bytes = [...new TextEncoder().encode(randomText(r, int(r, 1, 40)))];
    const a = mergeWordSimple(bytes.slice(), table);
    const b = mergeWordHeap(bytes.slice(), table);
    assert.deepEqual(b, a, `case ${n}`);
    merged += bytes.length - a.length;
  }
  assert.ok(merged > 1000);
  // Repeated pairs merge leftmost first: "aaa" with a+a is [aa][a] both ways.
  const t2 = new Tokenizer({ merges: [[97, 97]] });
  const t2table = tableOf(t2);
  assert.deepEqual(mergeWordSimple([97, 97, 97], t2table), [256, 97]);
  assert.deepEqual(mergeWordHeap([97, 97, 97], t2table), [256, 97]);
  assert.deepEqual(t2.encode("a".repeat(101)), [...Array(50).fill(256), 97]); // 101 bytes: the heap path
});

test("two merges that make the same bytes make the same token", () => {
  // a+b, b+c, ab+c, a+bc: the last two both make "abc".
  const t = new Tokenizer({ merges: [[97, 98], [98, 99], [256, 99], [97, 257]] });
  assert.equal(t.normalVocabSize, 259);
  assert.equal(t.tokenText(258), "abc");
  assert.deepEqual(t.encode("abc"), [258]);
  assert.equal(t.toGgufTokenizerMetadata()["tokenizer.ggml.merges"].length, 4);
});

/** The merge table the tokenizer builds, rebuilt from its public parts. */
function tableOf(t: Tokenizer): MergeTable {
  const idOf = new Map<string, number>();
  for (let id = 0; id < t.normalVocabSize; id++) idOf.set(t.tokenText(id), id);
  const ranks = new Map<number, number>();
  const results = new Int32Array(t.merges.length);
  t.merges.forEach(([a, b], r) => {
    ranks.set(a * t.normalVocabSize + b, r);
    results[r] = idOf.get(t.tokenText(a) + t.tokenText(b))!;
  });
  return { ranks, results, keyBase: t.normalVocabSize };
}
