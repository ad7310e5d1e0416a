import { test } from "node:test";
import assert from "node:assert/strict";
import { answerExtractively, NOT_FOUND_ANSWER, questionTerms, rankSentences } from "../../src/knowledge/answer/extractive.js";
import type { SearchHit } from "../../src/knowledge/types.js";
import { answerTypeOf, holdsAnswerType, negates } from "../../src/knowledge/answer/select/question-type.js";

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

const passage = (text: string, rank = 1, score = 3): SearchHit => ({
  rank, score, docId: `d${rank}`, source: `/kb/d${rank}.md`, title: "Museum", chunkId: `d${rank}-v1-0`, headingPath: [], page: null, start: 0, end: text.length, text,
});

test("prefers the sentence that answers (a year for 'when') over the one that repeats the question", () => {
  const text = "The museum opened to visitors after a long restoration of the old museum building. The old museum building reopened to visitors in 1998 after restoration.";
  const a = answerExtractively("When did the old museum building reopen to visitors?", [passage(text)], idf, { minSupport: 0 });
  assert.match(a.sentences[0]!.text, /1998/);
});

test("a heading that repeats the question is never the answer", () => {
  const text = "## Why does the STANDALONE_WASM flag exist?\n\nThe STANDALONE_WASM flag exists because some runtimes have no JavaScript.";
  const a = answerExtractively("Why does the STANDALONE_WASM flag exist?", [passage(text)], idf, { minSupport: 0 });
  assert.equal(a.supported, true);
  assert.match(a.sentences[0]!.text, /^The STANDALONE_WASM flag exists because/);
  assert.ok(a.sentences.every((s) => !s.text.startsWith("#")));
});

test("support is a probability; a stricter --min-support abstains, with the reason", () => {
  const text = "An adult ticket costs 12 euros at the gate.";
  const loose = answerExtractively("How much does an adult ticket cost?", [passage(text)], idf, { minSupport: 0 });
  const s = loose.sentences[0]!.support;
  assert.ok(s > 0 && s < 1);
  const strict = answerExtractively("How much does an adult ticket cost?", [passage(text)], idf, { minSupport: Math.min(1, s + 0.01) });
  assert.equal(strict.supported, false);
  assert.equal(strict.abstention, "no-supported-sentence");
  assert.match(strict.abstentionDetail ?? "", /support .* below the minimum/);
  assert.equal(answerExtractively("How much?", [], idf).abstention, "no-sources");
});

test("a sentence sharing one common word with the question is not an answer", () => {
  const text = "The gift shop sells postcards and maps of the city.";
  const a = answerExtractively("What is the capital city of Australia?", [passage(text)], (t) => (t === "citi" ? 0.5 : 6));
  assert.equal(a.supported, false);
});

test("no padding: a second sentence is quoted only when nearly as well supported as the first", () => {
  const text = "An adult ticket costs 12 euros. The cafe sells tea and cake to visitors.";
  const a = answerExtractively("How much does an adult ticket cost?", [passage(text)], idf, { minSupport: 0 });
  assert.equal(a.sentences.length, 1);
});

test("question types come from the interrogative phrase; a type match needs something new", () => {
  const cases: [string, string][] = [
    ["How many players are on the team?", "quantity"],
    ["In what year did the war end?", "time"],
    ["When did the war end?", "time"],
    ["Who led the army?", "person"],
    ["Where did the settlers live?", "place"],
    ["Why did the plan fail?", "reason"],
    ["What is Thunderbird?", "definition"],
    ["Who was Kaidu's grandfather?", "person"],
    ["Who was the Norse leader?", "person"],
    ["What are stators attached to?", "other"],
    ["What did the treaty give France?", "other"],
  ];
  for (const [q, t] of cases) assert.equal(answerTypeOf(q), t, q);
  assert.equal(holdsAnswerType("reason", "OAPEC blocked all oil deliveries in response to the airlift.", new Set()), true);
  assert.equal(holdsAnswerType("reason", "OAPEC blocked all oil deliveries to the United States.", new Set()), false);
  const words = new Set(["when", "did", "the", "war", "end", "1945"]);
  assert.equal(holdsAnswerType("time", "The war ended in 1918.", words), true);
  assert.equal(holdsAnswerType("time", "The war of 1945 ended.", words), false);
  assert.equal(holdsAnswerType("definition", "Thunderbird is an email client.", new Set(["what", "is", "thunderbird"])), true);
});

test("the type is read from the first interrogative: 'what happens when' is not a time question", () => {
  assert.equal(answerTypeOf("What happens when an ingest is killed midway?"), "other");
  assert.equal(answerTypeOf("In what year did the war end?"), "time");
  assert.equal(answerTypeOf("For what reason did they leave?"), "reason");
  assert.equal(answerTypeOf("How many years did it last?"), "quantity");
});

test("a negated question is less supported by a sentence that negates nothing than by one that does", () => {
  assert.equal(negates("Who did Shirley not leave at Oswego?"), true);
  assert.equal(negates("Why couldn't the engine run?"), true);
  assert.equal(negates("Who did Shirley leave at Oswego? Notably, nobody."), false);
  const plain = "Shirley left garrisons at Oswego and Fort Bull in the spring.";
  const negated = "Shirley did not leave garrisons at Oswego and Fort Bull in the spring.";
  const asked = "Where did Shirley not leave garrisons?";
  const mismatch = rankSentences(asked, [passage(plain)], idf).ranked[0]!;
  const match = rankSentences(asked, [passage(negated)], idf).ranked[0]!;
  assert.equal(mismatch.features.negationMismatch, 1);
  assert.equal(match.features.negationMismatch, 0);
  assert.ok(mismatch.support < match.support, `${mismatch.support} < ${match.support}`);
  // The same question without "not" is not penalised by the plain sentence.
  assert.equal(rankSentences("Where did Shirley leave garrisons?", [passage(plain)], idf).ranked[0]!.features.negationMismatch, 0);
});

test("the margin by which the best sentence wins is one value per question, and a clear win is more support", () => {
  const clear = "An adult ticket costs 12 euros. The cafe sells tea and cake to visitors.";
  const close = "An adult ticket costs 12 euros. An adult ticket for the tower costs 15 euros.";
  const q = "How much does an adult ticket cost?";
  const a = rankSentences(q, [passage(clear)], idf).ranked;
  const b = rankSentences(q, [passage(close)], idf).ranked;
  assert.ok(a.every((c) => c.features.margin === a[0]!.features.margin));
  assert.ok(Math.abs(a[0]!.features.margin - Math.min(1, a[0]!.score - a[1]!.score)) < 1e-12);
  assert.ok(a[0]!.features.margin > b[0]!.features.margin);
  assert.ok(a[0]!.support > b[0]!.support);
});
