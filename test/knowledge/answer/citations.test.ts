// Citation markers and sentence splitting of model answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { citedNumbers, dropCitations, splitClaims, stripMarkers } from "../../../src/knowledge/answer/citations.js";

test("marker forms: single, lists, ranges, adjacent, 'Source n'", () => {
  assert.deepEqual(citedNumbers("a [1] b [2, 3] c [4;5] d"), [1, 2, 3, 4, 5]);
  assert.deepEqual(citedNumbers("x [2-4] y [6–7]"), [2, 3, 4, 6, 7]);
  assert.deepEqual(citedNumbers("x [1][2] y [Source 3] z [sources 4 and 5]"), [1, 2, 3, 4, 5]);
  assert.deepEqual(citedNumbers("repeats [1] [1] [1]"), [1]);
});

test("not markers: plain brackets, words, absurd ranges stay bounded", () => {
  assert.deepEqual(citedNumbers("see [note] and (1) and [a1]"), []);
  assert.deepEqual(citedNumbers("[1-9999]"), [1, 9999]);
  assert.deepEqual(citedNumbers("[5-2]"), [5, 2]);
});

test("a marker after the full stop belongs to the sentence before it", () => {
  const claims = splitClaims("Tickets cost 9 pounds. [1] Students pay 5 pounds. [2][3] The cafe sells tea.");
  assert.deepEqual(claims.map((c) => c.citations), [[1], [2, 3], []]);
  assert.deepEqual(claims.map((c) => c.plain), ["Tickets cost 9 pounds.", "Students pay 5 pounds.", "The cafe sells tea."]);
});

test("markers before the full stop, and several sentences", () => {
  const claims = splitClaims("The museum opens at 9:00 [1]. It closes at 18:00 [1, 2].\n\nLantern walks begin at 20:15 [3].");
  assert.equal(claims.length, 3);
  assert.deepEqual(claims[1]!.citations, [1, 2]);
  assert.equal(claims[1]!.plain, "It closes at 18:00.");
  assert.equal(claims[2]!.text, "Lantern walks begin at 20:15 [3].");
});

test("an empty answer has no claims; a lone marker is not a claim of its own", () => {
  assert.deepEqual(splitClaims(""), []);
  assert.deepEqual(splitClaims("   "), []);
  const claims = splitClaims("Open daily. [1]");
  assert.equal(claims.length, 1);
  assert.deepEqual(claims[0]!.citations, [1]);
});

test("stripping and dropping markers", () => {
  assert.equal(stripMarkers("Open daily [1] and late on Fridays [2]."), "Open daily and late on Fridays.");
  assert.equal(dropCitations("Open daily [1][9].", new Set([9])), "Open daily [1].");
  assert.equal(dropCitations("Open daily [1, 9].", new Set([9])), "Open daily [1].");
  assert.equal(dropCitations("Open daily [9].", new Set([9])), "Open daily.");
});
