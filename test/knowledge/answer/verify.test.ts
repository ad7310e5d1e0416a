// Sentence verification against cited text: term coverage, numbers, names, invalid numbers,
// evidence spans, and recognising a model that declines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { splitClaims } from "../../../src/knowledge/answer/citations.js";
import { CANNOT_ANSWER } from "../../../src/knowledge/answer/prompt.js";
import { bestEvidence, contentTerms, declines, namesIn, numbersIn, verifyClaim, type VerifySource } from "../../../src/knowledge/answer/verify.js";

const doc = "Intro line.\n\nThe conservation team asks for 215,000 pounds to survey the wreck. The survey uses a sonar sled nicknamed Kestrel and starts in April 2027. Volunteers help on weekends.";
const start = doc.indexOf("The conservation");
const source: VerifySource = { n: 1, start, text: doc.slice(start), title: "Wreck survey plan", headingPath: [] };
const sources = new Map([[1, source]]);
const flat = () => 1;
const claim = (s: string) => splitClaims(s)[0]!;

test("numbers are compared in one canonical form", () => {
  assert.deepEqual(numbersIn("costs 215,000 pounds, or 215000; at 09:00 and 3.5 m; 1,5"), ["215000", "9:00", "3.5", "1,5"]);
});

test("names are capitalised words after the first", () => {
  assert.deepEqual(namesIn("The sled Kestrel was built by Ada Lovelace in April.").map((n) => n.word), ["Kestrel", "Ada", "Lovelace", "April"]);
  assert.deepEqual(namesIn("Volunteers help."), []);
});

test("framing words do not count as content", () => {
  assert.deepEqual(contentTerms("According to the sources, the survey starts in April"), ["survei", "start", "april"]);
});

test("a faithful sentence is supported, with the matching source sentence as evidence", () => {
  const c = verifyClaim(claim("The team asks for 215000 pounds to survey the wreck [1]."), sources, flat);
  assert.equal(c.verdict, "supported");
  assert.equal(c.support, 1);
  const e = c.evidence[0]!;
  assert.equal(doc.slice(e.start, e.end), "The conservation team asks for 215,000 pounds to survey the wreck.");
});

test("evidence spanning two source sentences covers both", () => {
  const e = bestEvidence(contentTerms("The conservation team surveys the wreck with the sled Kestrel"), source, flat);
  assert.equal(doc.slice(e.start, e.end), "The conservation team asks for 215,000 pounds to survey the wreck. The survey uses a sonar sled nicknamed Kestrel and starts in April 2027.");
});

test("a changed number, a new name, a missing citation, an invalid number, low coverage", () => {
  assert.equal(verifyClaim(claim("The team asks for 250,000 pounds [1]."), sources, flat).verdict, "unmatched-fact");
  const name = verifyClaim(claim("The survey uses the sled Osprey [1]."), sources, flat);
  assert.equal(name.verdict, "unmatched-fact");
  assert.deepEqual(name.unmatched, ["Osprey"]);
  assert.equal(verifyClaim(claim("The survey starts in April 2027."), sources, flat).verdict, "uncited");
  const invalid = verifyClaim(claim("The survey starts in April 2027 [4]."), sources, flat);
  assert.equal(invalid.verdict, "invalid-citation");
  assert.deepEqual(invalid.invalid, [4]);
  assert.equal(verifyClaim(claim("Divers photograph colourful coral reefs at dawn [1]."), sources, flat).verdict, "low-support");
  assert.equal(verifyClaim(claim("Yes [1]."), sources, flat).verdict, "low-support");
});

test("rare terms weigh more: missing a rare term fails even when common ones match", () => {
  const idf = (t: string) => (t === "sonar" ? 10 : 0.1);
  const w = verifyClaim(claim("The survey uses a sonar sled [1]."), sources, idf);
  assert.equal(w.verdict, "supported");
  const m = verifyClaim(claim("The survey uses a lidar sled [1]."), sources, (t) => (t === "lidar" ? 10 : 0.1));
  assert.equal(m.verdict, "low-support");
  assert.equal(verifyClaim(claim("The survey uses a lidar sled [1]."), sources, flat, { minSupport: 0.2 }).verdict, "supported");
});

test("a leading list marker is layout, not a number to find", () => {
  assert.equal(verifyClaim(claim("1. The survey starts in April 2027 [1]."), sources, flat).verdict, "supported");
});

test("declining: the instructed words, other words when nothing valid is cited, not a cited answer", () => {
  assert.equal(declines(CANNOT_ANSWER, CANNOT_ANSWER, false), true);
  assert.equal(declines("I cannot answer this from the sources", CANNOT_ANSWER, true), true);
  assert.equal(declines("The documents do not contain the opening hours.", CANNOT_ANSWER, false), true);
  assert.equal(declines("", CANNOT_ANSWER, false), true);
  assert.equal(declines("The survey starts in April 2027 [1]. The sources do not mention a budget.", CANNOT_ANSWER, true), false);
  assert.equal(declines("The survey starts in April 2027.", CANNOT_ANSWER, false), false);
});
