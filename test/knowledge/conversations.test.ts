// Conversations: turns answered by the grounded pipeline with recent history in the prompt,
// stored per session, owned by the user who started them.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chatTurn, conversationHistory } from "../../src/knowledge/conversations.js";
import { ConversationStore } from "../../src/knowledge/store/conversation-store.js";
import { OWNER } from "../../src/knowledge/store/access.js";
import { TraceStore } from "../../src/knowledge/store/trace-store.js";
import { StrataError } from "../../src/core/errors.js";
import { cite, fixtureKb, GUEST, ScriptedModel } from "./answer/scripted.js";

const kb = await fixtureKb();
after(() => kb.close());

const isCode = (code: string) => (e: unknown) => e instanceof StrataError && e.code === code;

test("a second turn sees the first in its prompt, and both are stored with citations", async () => {
  const model = new ScriptedModel([
    cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`),
    cite("5 pounds", (n) => `A student admission costs 5 pounds [${n}].`),
  ]);
  const first = await chatTurn(kb, "visit-1", "How much does a standard admission cost?", { model, access: GUEST });
  const second = await chatTurn(kb, "visit-1", "And a student admission?", { model, access: GUEST });
  assert.equal(first.supported, true);
  assert.equal(second.supported, true);
  const msgs = model.requests[1]!.messages;
  assert.deepEqual(msgs.map((m) => m.role), ["system", "user", "assistant", "user"]);
  assert.equal(msgs[1]!.content, "How much does a standard admission cost?");
  assert.equal(msgs[2]!.content, "A standard admission costs 9 pounds.", "old citation numbers are dropped");
  assert.equal(model.requests[0]!.messages.length, 2, "the first turn has no history");

  const h = conversationHistory(kb, "visit-1", GUEST);
  assert.equal(h.session.owner, "user:guest");
  assert.equal(h.session.messages, 4);
  assert.deepEqual(h.turns.map((t) => t.question), ["How much does a standard admission cost?", "And a student admission?"]);
  assert.equal(h.turns[1]!.answer, second.answer);
  assert.equal(h.turns[1]!.supported, true);
  assert.equal(h.turns[1]!.citations[0]!.quote, second.citations[0]!.quote);
  const trace = new TraceStore(kb.store.db).get(h.turns[1]!.traceId!, GUEST)!;
  assert.equal(trace.kind, "chat");
  assert.equal(trace.attributes.session, "visit-1");
});

test("a follow-up with few content words is retrieved together with the previous question", async () => {
  const model = new ScriptedModel([
    cite("20:15", (n) => `Lantern walks begin at 20:15 on summer evenings [${n}].`),
    cite("20:15", (n) => `They go along the old pier [${n}].`),
  ]);
  await chatTurn(kb, "lanterns", "When do the lantern walks begin?", { model, access: GUEST });
  const a = await chatTurn(kb, "lanterns", "Where?", { model, access: GUEST });
  assert.equal(a.supported, true);
  assert.match(model.prompt(1), /Lantern walks/);
});

test("another user can neither continue nor read a session; the operator can read it", async () => {
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)]);
  await chatTurn(kb, "private-1", "How much does a standard admission cost?", { model, access: { user: "dana", groups: ["research"] } });
  const before = model.requests.length;
  await assert.rejects(chatTurn(kb, "private-1", "What did I ask?", { model, access: GUEST }), isCode("FORBIDDEN"));
  assert.equal(model.requests.length, before, "a refused turn never reaches the model");
  assert.throws(() => conversationHistory(kb, "private-1", GUEST), isCode("FORBIDDEN"));
  assert.throws(() => conversationHistory(kb, "private-1", { user: "owner" }), isCode("FORBIDDEN"));
  assert.equal(conversationHistory(kb, "private-1", OWNER).turns.length, 1);
  // The operator reads but does not write into a user's session: the answer would use wider access.
  await assert.rejects(chatTurn(kb, "private-1", "More?", { model, access: OWNER }), isCode("FORBIDDEN"));
  assert.equal(conversationHistory(kb, "private-1", { user: "dana" }).turns.length, 1);
});

test("bad session ids, unknown sessions and anonymous callers are refused", async () => {
  const model = new ScriptedModel(["x"]);
  for (const id of ["", "../etc", "a b", "x".repeat(200), "-lead"]) {
    await assert.rejects(chatTurn(kb, id, "Hello there museum?", { model, access: GUEST }), isCode("USAGE"), id);
  }
  assert.throws(() => conversationHistory(kb, "never-started", GUEST), isCode("NOT_FOUND"));
  await assert.rejects(chatTurn(kb, "anon", "How much does a standard admission cost?", { model, access: {} }), isCode("FORBIDDEN"));
  assert.equal(model.requests.length, 0);
});

test("a failed turn stores nothing", async () => {
  const model = new ScriptedModel(["ok"], { finish: { broken: true } });
  await assert.rejects(chatTurn(kb, "fails", "How much does a standard admission cost?", { model, access: GUEST }), isCode("MODEL_OUTPUT_INVALID"));
  assert.throws(() => conversationHistory(kb, "fails", GUEST), isCode("NOT_FOUND"));
});

test("only recent history that fits the budget goes into the prompt", async () => {
  const long = "word ".repeat(300);
  const store = new ConversationStore(kb.store.db);
  for (let i = 0; i < 5; i++) {
    store.append("long-1", GUEST, [
      { role: "user", content: `Old question ${i}: ${long}` },
      { role: "assistant", content: `Old answer ${i}.` },
    ]);
  }
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)], { contextLength: 2048 });
  const a = await chatTurn(kb, "long-1", "How much does a standard admission cost?", { model, access: GUEST });
  const history = model.requests[0]!.messages.slice(1, -1);
  assert.ok(history.length < 10, `${history.length / 2} of 5 old turns included`);
  if (history.length > 0) assert.match(history[history.length - 2]!.content, /^Old question 4/, "the most recent turn is kept first");
  const assemble = new TraceStore(kb.store.db).get(a.traceId!, GUEST)!.spans.find((s) => s.name === "assemble")!;
  assert.ok((assemble.attributes.historyLeftOut as number) > 0);
  assert.equal(conversationHistory(kb, "long-1", GUEST).turns.length, 6);
});
