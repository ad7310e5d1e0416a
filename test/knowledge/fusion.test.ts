import { test } from "node:test";
import assert from "node:assert/strict";
import { reciprocalRankFusion } from "../../src/knowledge/fusion.js";
import type { SearchHit } from "../../src/knowledge/types.js";

const hit = (chunkId: string): SearchHit => ({ rank: 0, score: 0, docId: "d", source: "s", title: "t", chunkId, headingPath: [], page: null, start: 0, end: 1, text: "x" });

test("RRF sums 1/(k+rank) over lists and re-ranks", () => {
  const fused = reciprocalRankFusion([[hit("a"), hit("b"), hit("c")], [hit("c"), hit("a")]], { k: 60 });
  assert.deepEqual(fused.map((h) => h.chunkId), ["a", "c", "b"]);
  assert.ok(Math.abs(fused[0]!.score - (1 / 61 + 1 / 62)) < 1e-12);
  assert.ok(Math.abs(fused[1]!.score - (1 / 63 + 1 / 61)) < 1e-12);
  assert.deepEqual(fused.map((h) => h.rank), [1, 2, 3]);
});

test("RRF limit and a single list keep its order", () => {
  const one = reciprocalRankFusion([[hit("x"), hit("y"), hit("z")]], { limit: 2 });
  assert.deepEqual(one.map((h) => h.chunkId), ["x", "y"]);
});
