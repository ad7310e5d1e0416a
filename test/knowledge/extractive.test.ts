import { test } from "node:test";
import assert from "node:assert/strict";
import { answerExtractively, NOT_FOUND_ANSWER, questionTerms } from "../../src/knowledge/answer/extractive.js";
import type { SearchHit } from "../../src/knowledge/types.js";

const docText = "# Tickets\n\nAn adult ticket costs 12 euros. Children pay 6 euros.\n\nThe cafe sells tea.";
const chunkStart = docText.indexOf("An adult");
const hit: SearchHit = {
  rank: 1, score: 3, docId: "doc1", source: "/kb/guide.md", title: "Guide", chunkId: "doc1-v1-0", headingPath: ["Tickets"], page: null,
  start: chunkStart, end: docText.length, text: docText.slice(chunkStart),
};
const idf = () => 1;

test("question words are not content terms", () => {
  assert.deepEqual(questionTerms("How much does an adult ticket cost?"), ["adult", "ticket", "cost"]);
});

test("quotes the covering sentence with an exact span and a citation marker", () => {
  const a = answerExtractively("How much does an adult ticket cost?", [hit], idf);
  assert.equal(a.supported, true);
  assert.equal(a.mode, "extractive");
  assert.equal(a.citations[0]!.quote, "An adult ticket costs 12 euros.");
  assert.equal(docText.slice(a.citations[0]!.start, a.citations[0]!.end), a.citations[0]!.quote);
  assert.match(a.answer, /^An adult ticket costs 12 euros\. \[1\]/);
  assert.equal(a.sentences[0]!.citations[0], 1);
});

test("abstains when the evidence covers too little of the question", () => {
  const a = answerExtractively("What is the policy on dogs in the cafe?", [hit], idf);
  assert.equal(a.supported, false);
  assert.equal(a.answer, NOT_FOUND_ANSWER);
  assert.deepEqual(a.citations, []);
});

test("rare terms weigh more: missing a rare term means not found", () => {
  const weights: Record<string, number> = { adult: 0.1, ticket: 0.1, spectrograph: 5 };
  const a = answerExtractively("adult ticket spectrograph", [hit], (t) => weights[t] ?? 1);
  assert.equal(a.supported, false);
});

test("no hits, no answer", () => {
  assert.equal(answerExtractively("anything at all", [], idf).supported, false);
});

test("the same sentence found in two documents is quoted once", () => {
  const copy: SearchHit = { ...hit, rank: 2, score: 2.9, docId: "doc2", source: "/kb/copy.md", chunkId: "doc2-v1-0" };
  const a = answerExtractively("How much does an adult ticket cost?", [hit, copy], idf);
  assert.equal(a.citations.filter((c) => c.quote === "An adult ticket costs 12 euros.").length, 1);
  assert.equal(a.citations[0]!.docId, "doc1");
});
