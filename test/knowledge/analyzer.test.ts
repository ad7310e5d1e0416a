import { test } from "node:test";
import assert from "node:assert/strict";
import { TOKEN, analyze, analyzeWithSpans, scanTokens, termFrequencies } from "../../src/knowledge/analyzer.js";
import { uniformSource } from "../../src/core/random.js";

test("stems, lowercases, drops stop words and possessives", () => {
  assert.deepEqual(analyze("The Observatory's founders FOUNDED it in 1894"), ["observatori", "founder", "found", "1894"]);
});

test("keeps numbers with inner separators and folds accents", () => {
  assert.deepEqual(analyze("340,000 euros; 3.5 m; café Zürich"), ["340,000", "euro", "3.5", "m", "cafe", "zurich"]);
});

test("spans point at the original words", () => {
  const text = "Night tours start at 21:30.";
  const toks = analyzeWithSpans(text);
  assert.deepEqual(toks.map((t) => text.slice(t.start, t.end)), ["Night", "tours", "start", "21", "30"]);
});

test("term frequencies count repeats", () => {
  const tf = termFrequencies("tour tours touring");
  assert.equal(tf.get("tour"), 3);
});

test("non-Latin scripts pass through unstemmed", () => {
  assert.deepEqual(analyze("Привет мир 東京"), ["привет", "мир", "東京"]);
});

test("the hand scanner finds exactly the tokenizer regex's matches, ASCII or not", () => {
  // Pieces that meet every branch: separators between digits and letters, apostrophes, accents as
  // combining marks, non-ASCII digits, letters outside the BMP, and non-ASCII next to ASCII words.
  const pieces = ["a", "Zq", "7", "42", ".", ",", "'", "’", " ", "-", "\n", "é", "e\u0301", "٣", "𝒳", "日本", "½", "s", "x'y", "3.5", "1,0"];
  const rand = uniformSource(11);
  for (let n = 0; n < 3000; n++) {
    let text = "";
    const len = Math.floor(rand() * 14);
    // Most texts ASCII only (the fast path), the rest mixed.
    const ascii = rand() < 0.6;
    for (let i = 0; i < len; i++) {
      const p = pieces[Math.floor(rand() * pieces.length)]!;
      text += ascii && [...p].some((ch) => ch.charCodeAt(0) > 127) ? "b" : p;
    }
    const want = [...text.matchAll(new RegExp(TOKEN.source, "gu"))].map((m) => [m[0], m.index]);
    const got: [string, number][] = [];
    scanTokens(text, (start, end) => got.push([text.slice(start, end), start]));
    assert.deepEqual(got, want, JSON.stringify(text));
  }
});

test("a word analysed again is the same term, whatever text it stands in", () => {
  // The memo table is keyed by characters in place: equal words at other offsets, and words that
  // share a prefix or differ by case, must not be confused.
  const words = ["Running", "runner", "run", "RUN", "runs", "3.5", "3,5", "don't", "dont", "café", "cafe"];
  const want = words.map((w) => analyze(w));
  const rand = uniformSource(5);
  for (let n = 0; n < 200; n++) {
    const picks = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * words.length));
    const text = picks.map((i) => words[i]).join(rand() < 0.5 ? " " : " -- ");
    assert.deepEqual(analyze(text), picks.flatMap((i) => want[i]!), text);
  }
});
