import { test } from "node:test";
import assert from "node:assert/strict";
import { analyze, analyzeWithSpans, termFrequencies } from "../../src/knowledge/analyzer.js";

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
