// The generative answer pipeline with a scripted model: citations verified against the cited
// text, unsupported sentences flagged or removed, honest abstention, fenced sources, the context
// budget, access control on what the model sees, and the stored trace.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { answerWithModel } from "../../../src/knowledge/answer/generative.js";
import { NOT_FOUND_ANSWER } from "../../../src/knowledge/answer/extractive.js";
import { CANNOT_ANSWER } from "../../../src/knowledge/answer/prompt.js";
import type { GroundedAnswer } from "../../../src/knowledge/answer/types.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { TraceStore } from "../../../src/knowledge/store/trace-store.js";
import { StrataError } from "../../../src/core/errors.js";
import type { SpanData } from "../../../src/core/trace.js";
import { HashEmbedder } from "../../helpers/hash-embedder.js";
import { cite, fixtureKb, GUEST, DANA, ScriptedModel, sourcesOf, sourceWith } from "./scripted.js";

const kb = await fixtureKb();
after(() => kb.close());

const PRICE_Q = "How much does a standard admission cost?";

function checkSpans(a: GroundedAnswer): void {
  for (const c of a.citations) assert.equal(kb.getDocument(c.docId, OWNER).text.slice(c.start, c.end), c.quote, `citation [${c.n}] quote is not the document's span`);
  for (const s of a.sentences) for (const e of s.evidence ?? []) assert.ok(e.end > e.start);
}

test("a supported, cited sentence is kept with an exact span of the cited document", async () => {
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)]);
  const a = await answerWithModel(kb, PRICE_Q, { model, access: GUEST });
  assert.equal(a.mode, "generative");
  assert.equal(a.supported, true);
  assert.equal(a.abstention, undefined);
  assert.equal(a.sentences.length, 1);
  assert.equal(a.sentences[0]!.verdict, "supported");
  assert.ok(a.sentences[0]!.support >= 0.9, String(a.sentences[0]!.support));
  assert.equal(a.citations.length, 1);
  const c = a.citations[0]!;
  assert.ok(c.source.endsWith("museum-guide.md"));
  assert.match(c.quote, /^A standard admission costs 9 pounds/);
  assert.ok(!c.quote.includes("Tram line"), "the span is the matching sentence, not the whole chunk");
  checkSpans(a);
  assert.match(a.answer, /9 pounds \[\d\]\.$/);
  assert.deepEqual(a.usage, { inputTokens: 100, outputTokens: 20, costUsd: 0.0001 });
  assert.equal(a.model, "scripted-1");
  assert.match(a.traceId ?? "", /^trc_/);
});

test("the answer is streamed: the deltas make up the model's text", async () => {
  const deltas: string[] = [];
  const model = new ScriptedModel([cite("20:15", (n) => `Lantern walks begin at 20:15 on summer evenings [${n}].`)], { chunk: 4 });
  const a = await answerWithModel(kb, "When do the lantern walks begin?", { model, access: GUEST, onDelta: (d) => deltas.push(d) });
  assert.ok(deltas.length > 3);
  assert.equal(deltas.join(""), a.answer);
  assert.equal(a.supported, true);
});

test("a sentence without a citation or with little support is flagged, or removed with verify: remove", async () => {
  const reply = cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}]. The museum also runs submarine tours. Dolphins perform acrobatic shows for visitors [${n}].`);
  const flagged = await answerWithModel(kb, PRICE_Q, { model: new ScriptedModel([reply]), access: GUEST });
  assert.equal(flagged.supported, true);
  assert.deepEqual(flagged.sentences.map((s) => s.verdict), ["supported", "uncited", "low-support"]);
  assert.deepEqual(flagged.sentences.map((s) => s.supported), [true, false, false]);
  assert.match(flagged.answer, /submarine/, "flag mode keeps the text and marks the sentence");
  assert.equal(flagged.citations.length, 1);
  assert.equal(flagged.citations[0]!.quote, "A standard admission costs 9 pounds and a student admission costs 5 pounds.", "an unsupported sentence does not widen the quote");

  const removed = await answerWithModel(kb, PRICE_Q, { model: new ScriptedModel([reply]), access: GUEST, verify: "remove" });
  assert.equal(removed.supported, true);
  assert.doesNotMatch(removed.answer, /submarine|Dolphins/);
  assert.match(removed.answer, /^A standard admission costs 9 pounds \[\d\]\.$/);
  assert.deepEqual(removed.sentences.map((s) => s.removed), [false, true, true]);
  checkSpans(removed);
});

test("a citation to a source number that does not exist is invalid", async () => {
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}][42]. Students pay 5 pounds [17].`)]);
  const a = await answerWithModel(kb, PRICE_Q, { model, access: GUEST, verify: "remove" });
  assert.equal(a.sentences[0]!.verdict, "supported");
  assert.deepEqual(a.sentences[0]!.invalidCitations, [42]);
  assert.equal(a.sentences[1]!.verdict, "invalid-citation");
  assert.ok(!a.citations.some((c) => c.n === 42 || c.n === 17));
  assert.doesNotMatch(a.answer, /\[42\]|\[17\]|Students/);
});

test("a hallucinated number or name is caught even when the words match", async () => {
  const model = new ScriptedModel([
    cite("9 pounds", (n) => `A standard admission costs 12 pounds [${n}]. A student admission costs 5 pounds [${n}]. Volunteers of the Harbour Trust led by Margaret Hale enter free of charge [${n}].`),
  ]);
  const a = await answerWithModel(kb, PRICE_Q, { model, access: GUEST });
  assert.equal(a.sentences[0]!.verdict, "unmatched-fact");
  assert.deepEqual(a.sentences[0]!.unmatched, ["12"]);
  assert.equal(a.sentences[1]!.verdict, "supported");
  assert.equal(a.sentences[2]!.verdict, "unmatched-fact");
  assert.deepEqual(a.sentences[2]!.unmatched, ["Margaret", "Hale"]);
});

test("abstains without calling the model when retrieval finds nothing", async () => {
  const model = new ScriptedModel(["should not be called [1]."]);
  const a = await answerWithModel(kb, "What is quantum chromodynamics?", { model, access: GUEST });
  assert.equal(model.requests.length, 0);
  assert.equal(a.supported, false);
  assert.equal(a.abstention, "no-sources");
  assert.equal(a.answer, NOT_FOUND_ANSWER);
  assert.deepEqual(a.citations, []);
});

test("abstains when the model says the sources do not answer, in the instructed words or others", async () => {
  for (const reply of [CANNOT_ANSWER, "The sources do not mention a policy on dogs."]) {
    const a = await answerWithModel(kb, "What is the museum's policy on dogs at the admission desk?", { model: new ScriptedModel([reply]), access: GUEST });
    assert.equal(a.supported, false, reply);
    assert.equal(a.abstention, "model-declined");
    assert.equal(a.answer, NOT_FOUND_ANSWER);
    assert.deepEqual(a.citations, []);
  }
});

test("abstains when no sentence is supported, keeping the verdicts", async () => {
  const model = new ScriptedModel([cite("9 pounds", (n) => `Parking costs 30 pounds per day [${n}]. The cafe serves oysters.`)]);
  const a = await answerWithModel(kb, PRICE_Q, { model, access: GUEST });
  assert.equal(a.supported, false);
  assert.equal(a.abstention, "no-supported-sentence");
  assert.equal(a.answer, NOT_FOUND_ANSWER);
  assert.deepEqual(a.citations, []);
  assert.equal(a.sentences.length, 2);
  assert.ok(a.sentences.every((s) => !s.supported));
});

test("the system prompt asks for [n] citations, fenced data and the instructed refusal", async () => {
  const model = new ScriptedModel([CANNOT_ANSWER]);
  await answerWithModel(kb, PRICE_Q, { model, access: GUEST });
  const sys = model.system();
  assert.match(sys, /\[n\]/);
  assert.match(sys, /untrusted data/);
  assert.ok(sys.includes(CANNOT_ANSWER));
  assert.equal(model.requests[0]!.messages[0]!.role, "system");
  assert.match(model.prompt(), /Question: How much does a standard admission cost\?/);
});

test("a guest's prompt never contains a research chunk; a research member's does", async () => {
  const q = "How much money does the conservation team ask for the wreck survey of the schooner Marigold?";
  for (const access of [GUEST, { user: "omar" }, { user: "dana", groups: ["finance"] }]) {
    const model = new ScriptedModel([CANNOT_ANSWER]);
    await answerWithModel(kb, q, { model, access });
    for (const r of model.requests) for (const m of r.messages) assert.ok(!/215,000|Kestrel|Marigold(?! )/.test(m.content.replace(q, "")), `${access.user} saw research text`);
  }
  const model = new ScriptedModel([cite("215,000", (n) => `The conservation team asks for 215,000 pounds [${n}].`)]);
  const a = await answerWithModel(kb, q, { model, access: DANA });
  assert.match(model.prompt(), /215,000 pounds/);
  assert.equal(a.supported, true);
  checkSpans(a);
});

test("the context budget drops the lowest-ranked sources and the trace says so", async () => {
  const q = "museum harbour admission lantern tram";
  const hits = await kb.search(q, { access: GUEST, k: 8 });
  assert.ok(hits.length >= 3, `need several hits, got ${hits.length}`);
  const model = new ScriptedModel([CANNOT_ANSWER], { contextLength: 100_000 });
  // Room for the instructions, the question, the answer and about one chunk.
  const a = await answerWithModel(kb, q, { model, access: GUEST, maxContextTokens: 700, maxAnswerTokens: 64 });
  const included = sourcesOf(model.prompt());
  assert.ok(included.size >= 1 && included.size < hits.length, `${included.size} of ${hits.length} sources included`);
  assert.ok(included.get(1)!.includes(hits[0]!.text.slice(0, 40)), "the best-ranked chunk is source 1");

  const trace = new TraceStore(kb.store.db).get(a.traceId!, GUEST)!;
  const assemble = trace.spans.find((s) => s.name === "assemble")!;
  const leftOut = assemble.attributes.leftOut as { chunkId: string; rank: number; reason: string }[];
  const dropped = leftOut.filter((l) => l.reason === "budget");
  assert.ok(dropped.length > 0);
  assert.ok(dropped.some((l) => l.chunkId === hits[hits.length - 1]!.chunkId), "the lowest-ranked chunk is among those left out");
  for (const d of dropped) assert.ok(!model.prompt().includes(hits.find((h) => h.chunkId === d.chunkId)!.text.slice(0, 60)));
  assert.equal(assemble.attributes.window, 700);
});

test("a window too small for the question itself is a clear error", async () => {
  const model = new ScriptedModel(["x"], { contextLength: 200 });
  await assert.rejects(answerWithModel(kb, PRICE_Q, { model, access: GUEST }), (e: unknown) => e instanceof StrataError && e.code === "CONTEXT_OVERFLOW" && /window is 200/.test(e.message) && e.hint.length > 0);
});

test("the trace has the pipeline's spans, usage and is readable only by its owner", async () => {
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)], { usage: { inputTokens: 321, outputTokens: 12 } });
  const a = await answerWithModel(kb, PRICE_Q, { model, access: GUEST });
  const store = new TraceStore(kb.store.db);
  const t = store.get(a.traceId!, GUEST)!;
  assert.deepEqual(t.spans.map((s: SpanData) => s.name), ["retrieve", "assemble", "generate", "verify"]);
  assert.deepEqual(t.usage, { inputTokens: 321, outputTokens: 12 });
  assert.equal(t.kind, "ask");
  assert.equal(t.attributes.supported, true);
  for (const s of t.spans) assert.ok(s.ms >= 0 && s.startMs >= 0);
  assert.equal(store.get(a.traceId!, { user: "omar" }), undefined, "another user cannot read it");
  assert.ok(store.get(a.traceId!, OWNER), "the store's operator can");
  assert.equal(store.get(a.traceId!, { user: "owner" }), undefined, "a user called 'owner' is not the operator");
});

test("a provider reply without usage is estimated and says so; a malformed one is an error", async () => {
  const est = await answerWithModel(kb, PRICE_Q, { model: new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)], { noFinish: true }), access: GUEST });
  assert.equal(est.usage?.estimated, true);
  assert.ok((est.usage?.inputTokens ?? 0) > 0);
  const bad = new ScriptedModel(["A standard admission costs 9 pounds [1]."], { finish: { text: 5, usage: { inputTokens: -1 } } });
  await assert.rejects(answerWithModel(kb, PRICE_Q, { model: bad, access: GUEST }), (e: unknown) => e instanceof StrataError && e.code === "MODEL_OUTPUT_INVALID");
});

test("cancelling stops the answer with ABORTED", async () => {
  const controller = new AbortController();
  const model = new ScriptedModel([(req) => { controller.abort(); return `A standard admission costs 9 pounds [${sourceWith(req, "9 pounds")}].`; }]);
  await assert.rejects(answerWithModel(kb, PRICE_Q, { model, access: GUEST, signal: controller.signal }), (e: unknown) => e instanceof StrataError && e.code === "ABORTED");
});

test("bad questions are refused before retrieval", async () => {
  const model = new ScriptedModel(["x"]);
  await assert.rejects(answerWithModel(kb, "   ", { model, access: GUEST }), (e: unknown) => e instanceof StrataError && e.code === "EMPTY_QUESTION");
  await assert.rejects(answerWithModel(kb, "x".repeat(5000), { model, access: GUEST }), (e: unknown) => e instanceof StrataError && e.code === "QUESTION_TOO_LONG");
  assert.equal(model.requests.length, 0);
});

test("hybrid retrieval with a reranker: query embedding and reranking get spans inside retrieve", async () => {
  const embedder = new HashEmbedder();
  await kb.embed(embedder);
  let reranked = 0;
  const rerank = async (_q: string, hits: unknown[]) => {
    reranked++;
    return hits.map((_, i) => hits.length - i);
  };
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)]);
  const a = await answerWithModel(kb, PRICE_Q, { model, access: GUEST, search: { mode: "hybrid", embedder, rerank } });
  assert.equal(a.supported, true);
  assert.equal(reranked, 1);
  const retrieve = new TraceStore(kb.store.db).get(a.traceId!, GUEST)!.spans[0]!;
  assert.equal(retrieve.attributes.mode, "hybrid");
  assert.deepEqual(retrieve.children.map((c) => c.name), ["embed-query", "rerank"]);
  assert.ok(!model.prompt().includes("215,000"), "dense retrieval keeps the access rules too");
});
