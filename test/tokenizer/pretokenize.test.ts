import { test } from "node:test";
import assert from "node:assert/strict";
import { pretokenize, pretokenizeReference, StreamingPretokenizer } from "../../src/tokenizer/pretokenize.js";
import { int, randomText, rng } from "./helpers/random-text.js";

test("GPT-2's split on hand-checked examples", () => {
  const cases: [string, string[]][] = [
    ["Hello world", ["Hello", " world"]],
    ["we'll see   it's 42 km!!", ["we", "'ll", " see", "  ", " it", "'s", " 42", " km", "!!"]],
    ["a  b", ["a", " ", " b"]],
    ["a\nb", ["a", "\n", "b"]],
    ["a\n\n  b  ", ["a", "\n\n ", " b", "  "]],
    ["x\r\ny", ["x", "\r", "\n", "y"]], // the run leaves its last character to the word after it
    ["I'M don't", ["I", "'", "M", " don", "'t"]], // contractions are lower case only
    ["(hi)... 3.14", ["(", "hi", ")...", " 3", ".", "14"]],
    ["café 東京 ١٢٣", ["café", " 東京", " ١٢٣"]],
    ["😀😀 👍", ["😀😀", " 👍"]],
    ["e\u0301e", ["e", "\u0301", "e"]], // a combining mark is not a letter
    ["a\u00a0b", ["a", "\u00a0", "b"]], // NBSP is whitespace, but only U+0020 joins a word
    ["a\ufeffb", ["a", "\ufeff", "b"]], // U+FEFF is not White_Space (it is in JS's \s)
    ["<|im_end|>", ["<|", "im", "_", "end", "|>"]],
    ["", []],
  ];
  for (const [text, pieces] of cases) {
    assert.deepEqual(pretokenizeReference(text), pieces, `regex on ${JSON.stringify(text)}`);
    assert.deepEqual(pretokenize(text), pieces, `scanner on ${JSON.stringify(text)}`);
  }
});

test("the scanner splits random Unicode text exactly like the regex (seeded, 4000 cases)", () => {
  const r = rng(20261124);
  for (let n = 0; n < 4000; n++) {
    // Some cases with lone surrogates too: both treat them as "other" characters.
    let s = randomText(r, 16);
    if (n % 10 === 0) s += String.fromCharCode(int(r, 0xd800, 0xdfff)) + randomText(r, 3);
    const pieces = pretokenize(s);
    assert.deepEqual(pieces, pretokenizeReference(s), `case ${n}: ${JSON.stringify(s)}`);
    assert.equal(pieces.join(""), s);
  }
});

test("streamed text splits exactly as the whole text, whatever the chunk boundaries", () => {
  const r = rng(7);
  const split = (chunks: string[]): string[] => {
    const out: string[] = [];
    const s = new StreamingPretokenizer();
    const add = (t: string, a: number, b: number) => out.push(t.slice(a, b));
    for (const c of chunks) s.push(c, add);
    s.end(add);
    return out;
  };
  // The cases a naive "keep the last piece" rule gets wrong: a contraction cut after "'l".
  assert.deepEqual(split(["we'l", "l go"]), pretokenize("we'll go"));
  assert.deepEqual(split(["a  ", "  b"]), pretokenize("a    b"));
  for (let n = 0; n < 1500; n++) {
    const text = randomText(r, 30);
    const chunks: string[] = [];
    for (let i = 0; i < text.length; ) {
      let j = Math.min(text.length, i + int(r, 1, 9));
      if (j < text.length && /[\udc00-\udfff]/.test(text[j]!)) j++; // chunks are decoded text: whole code points
      chunks.push(text.slice(i, j));
      i = j;
    }
    assert.deepEqual(split(chunks), pretokenize(text), `case ${n}: ${JSON.stringify(chunks)}`);
  }
});
