import { test } from "node:test";
import assert from "node:assert/strict";
import { claimSpans, isClaim, sentenceSpans } from "../../src/knowledge/sentences.js";

const texts = (t: string, from?: number, to?: number) => sentenceSpans(t, from, to).map((s) => t.slice(s.start, s.end));

test("splits sentences and trims whitespace", () => {
  assert.deepEqual(texts("One here.  Two there!\nThree?"), ["One here.", "Two there!", "Three?"]);
});

test("does not split after abbreviations and initials", () => {
  assert.deepEqual(texts("Dr. Smith met J. Doe, e.g. at noon. Then left."), ["Dr. Smith met J. Doe, e.g. at noon.", "Then left."]);
});

test("offsets are absolute within a sub-range", () => {
  const t = "Header line\n\nFirst one. Second one.";
  const from = t.indexOf("First");
  const spans = sentenceSpans(t, from);
  assert.equal(t.slice(spans[1]!.start, spans[1]!.end), "Second one.");
});

test("line breaks end sentences", () => {
  assert.deepEqual(texts("- apples\n- pears"), ["- apples", "- pears"]);
});

test("a wrapped line is not a sentence end; a list item or blank line is", () => {
  assert.deepEqual(texts("It reads the top chunks the\ncaller may see. Then it stops.\n\nNew paragraph\n- item one\n- item two"), [
    "It reads the top chunks the\ncaller may see.",
    "Then it stops.",
    "New paragraph",
    "- item one",
    "- item two",
  ]);
});

test("a short title line before a capitalised line stays its own sentence", () => {
  assert.deepEqual(texts("The store\nThe knowledge base uses SQLite through the driver in one file.\nIt is fast."), [
    "The store",
    "The knowledge base uses SQLite through the driver in one file.",
    "It is fast.",
  ]);
});

test("an orphan closing emphasis marker is not part of the next sentence", () => {
  assert.deepEqual(texts("**Decision.** One file per store."), ["**Decision.", "One file per store."]);
});

test("footnote and citation marks stay with their sentence instead of starting the next", () => {
  assert.deepEqual(texts("Microsoft was founded in 1975.[12] It makes software.[13][14] Revenue rose in 2019.[a] Next one."), [
    "Microsoft was founded in 1975.[12]",
    "It makes software.[13][14]",
    "Revenue rose in 2019.[a]",
    "Next one.",
  ]);
  assert.deepEqual(texts("Cited as fact.^ Then another one.² Third sentence here."), ["Cited as fact.^", "Then another one.²", "Third sentence here."]);
  assert.deepEqual(texts("The city[3] is large. It grew 4.5% in 2020.[citation needed]"), ["The city[3] is large.", "It grew 4.5% in 2020.[citation needed]"]);
});

test("headings, bare questions, titles, code and table rules are not claims", () => {
  assert.equal(isClaim("## Why does the STANDALONE_WASM flag exist?"), false);
  assert.equal(isClaim("Why does the flag exist?"), false);
  assert.equal(isClaim("Eich CEO Promotion Controversy", true), false);
  assert.equal(isClaim("```\nconst x = 1;\n```"), false);
  assert.equal(isClaim("|---|:---:|"), false);
  assert.equal(isClaim('"Brendan Eich Steps Down as Mozilla CEO". mozilla blog.'), false);
  assert.equal(isClaim("Because it is needed by runtimes without JavaScript."), true);
  assert.equal(isClaim("- Uses SQLite for storage"), true);
  const spans = claimSpans("# Title\n\nFirst claim is here. Is this a question?\n\nSecond claim is here too.\n\nOk.");
  assert.deepEqual(spans.map((s) => s.claim), [false, true, false, true, false]);
});
