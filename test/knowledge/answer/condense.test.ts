// Follow-up questions made standalone before retrieval: by the previous question's content terms
// without a model, by a rewrite prompt with one (its result in the trace), never by an extra model
// call for a question that stands on its own.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { condenseByTerms, condenseWithModel, isFollowUp } from "../../../src/knowledge/answer/condense.js";
import { chatTurn } from "../../../src/knowledge/conversations.js";
import { TraceStore } from "../../../src/knowledge/store/trace-store.js";
import { cite, fixtureKb, GUEST, ScriptedModel } from "./scripted.js";

const kb = await fixtureKb();
after(() => kb.close());

test("follow-ups are questions with few content words or a word pointing back", () => {
  assert.equal(isFollowUp("Where do they go?"), true);
  assert.equal(isFollowUp("How long again?"), true);
  assert.equal(isFollowUp("How much does a student admission cost?"), false);
  assert.deepEqual(condenseByTerms("Where do they go?", ["When do the lantern walks begin?"]), { query: "go? lantern walks begin?", method: "terms" });
  assert.equal(condenseByTerms("How much does a student admission cost?", ["When do the lantern walks begin?"]).method, "none");
});

test("without a model, a follow-up finds what the previous question was about", async () => {
  const alone = await kb.answer("Where do they go?", { access: GUEST });
  assert.equal(alone.supported, false);
  const a = await kb.answer("Where do they go?", { access: GUEST, previousQuestions: ["When do the lantern walks begin?"] });
  assert.equal(a.supported, true);
  assert.equal(a.question, "Where do they go?");
  assert.match(a.answer, /old pier/);
  assert.equal(a.trace.condensed?.method, "terms");
});

test("with a model, the rewrite prompt's result is searched and shown in the stored trace", async () => {
  const model = new ScriptedModel([
    cite("20:15", (n) => `Lantern walks begin at 20:15 on summer evenings [${n}].`),
    "Where do the lantern walks go?",
    cite("old pier", (n) => `They go along the old pier [${n}].`),
  ]);
  await chatTurn(kb, "follow-up-1", "When do the lantern walks begin?", { model, access: GUEST });
  const a = await chatTurn(kb, "follow-up-1", "Where do they go?", { model, access: GUEST });
  assert.equal(model.requests.length, 3, "one rewrite call for the follow-up");
  assert.match(model.prompt(1), /Last question: Where do they go\?/);
  assert.match(model.prompt(1), /User: When do the lantern walks begin\?/);
  assert.equal(a.supported, true);
  assert.deepEqual(a.trace.condensed, { method: "model", query: "go? lantern walks", rewritten: "Where do the lantern walks go?" });
  const stored = new TraceStore(kb.store.db).get(a.traceId!, GUEST)!;
  const span = JSON.stringify(stored);
  assert.match(span, /"condense"/);
  assert.match(span, /Where do the lantern walks go\?/);
});

test("a question that stands on its own costs no rewrite call; an unusable rewrite falls back to terms", async () => {
  const model = new ScriptedModel([""]);
  const history = [{ question: "When do the lantern walks begin?", answer: "At 20:15." }];
  assert.equal((await condenseWithModel(model, "How much does a student admission cost?", history)).method, "none");
  assert.equal(model.requests.length, 0);
  const c = await condenseWithModel(model, "Where do they go?", history);
  assert.equal(model.requests.length, 1);
  assert.equal(c.method, "terms");
});
