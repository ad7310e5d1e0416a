// Context assembly: overlapping chunks merged into one exact span, duplicates dropped, the
// budget filled best-ranked first, and everything left out reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleContext, mergeHits } from "../../../src/knowledge/answer/context.js";
import type { SearchHit } from "../../../src/knowledge/types.js";

const docA = "Alpha one. Alpha two. Alpha three. Alpha four. Alpha five.";
const docB = "Beta text that is long enough to need its own tokens, more than the others.";

function hit(rank: number, docId: string, text: string, start: number, end: number, chunkId = `${docId}-${rank}`): SearchHit {
  return { rank, score: 10 - rank, docId, source: `/${docId}.txt`, title: docId, chunkId, headingPath: [], page: null, start, end, text: text.slice(start, end) };
}

test("overlapping chunks of one document become one exact span", () => {
  const hits = [hit(1, "a", docA, 11, 35), hit(2, "a", docA, 0, 21), hit(3, "a", docA, 35, docA.length), hit(4, "b", docB, 0, docB.length)];
  const { candidates, leftOut } = mergeHits(hits);
  assert.equal(candidates.length, 3);
  const a = candidates[0]!;
  assert.deepEqual([a.start, a.end], [0, 35]);
  assert.equal(a.text, docA.slice(0, 35));
  assert.equal(a.rank, 1);
  assert.deepEqual(a.chunks.map((c) => c.chunkId), ["a-2", "a-1"]);
  assert.deepEqual(leftOut, [{ chunkId: "a-2", source: "/a.txt", rank: 2, reason: "merged", into: "a-1" }]);
  // Touching is not overlapping: the third chunk stays its own source.
  assert.deepEqual(candidates.map((c) => c.rank), [1, 3, 4]);
});

test("a chunk bridging two kept spans joins all three", () => {
  const { candidates } = mergeHits([hit(1, "a", docA, 0, 10), hit(2, "a", docA, 22, 34), hit(3, "a", docA, 5, 27)]);
  assert.equal(candidates.length, 1);
  assert.equal(candidates[0]!.text, docA.slice(0, 34));
});

test("the same text in two documents is kept once", () => {
  const { candidates, leftOut } = mergeHits([hit(1, "a", docA, 0, 10), hit(2, "c", docA, 0, 10)]);
  assert.equal(candidates.length, 1);
  assert.equal(leftOut[0]!.reason, "duplicate");
});

test("the budget keeps the best-ranked sources that fit and reports the rest", async () => {
  const hits = [hit(1, "a", docA, 0, 21), hit(2, "b", docB, 0, docB.length), hit(3, "a", docA, 35, docA.length)];
  const ctx = await assembleContext(hits, { budget: 16, countTokens: async (t) => Math.ceil(t.length / 4), render: (s) => `[${s.n}] ${s.text}` });
  assert.deepEqual(ctx.sources.map((s) => [s.n, s.rank]), [[1, 1], [2, 3]]);
  assert.deepEqual(ctx.leftOut.map((l) => [l.chunkId, l.reason]), [["b-2", "budget"]]);
  assert.ok(ctx.tokens <= 16);
  const none = await assembleContext(hits, { budget: 1, countTokens: async (t) => t.length, render: (s) => s.text });
  assert.equal(none.sources.length, 0);
  assert.equal(none.leftOut.length, 3);
});
