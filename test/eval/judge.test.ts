import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { judgePair, judgeRubric, modelSupportJudge, parseRubric, selfAgreement, JudgeFailed } from "../../src/eval/judge.js";
import { scoreQaItem, summarizeQa } from "../../src/eval/qa-runner.js";
import type { QaDataset } from "../../src/eval/qa-datasets.js";
import { createLanguageModel } from "../../src/model/registry.js";
import type { LanguageModel } from "../../src/model/types.js";
import { replyText, sequence, startOpenAiServer, type Handler, type OpenAiServer } from "../helpers/openai-server.js";

/** A server whose replies are scripted per request; `script` is swapped by each test. */
let script: Handler = replyText("{}");
let server: OpenAiServer;
let judge: LanguageModel;
before(async () => {
  server = await startOpenAiServer((req, res, n) => script(req, res, n));
  judge = await createLanguageModel(server.ref("judge"), { apiKey: "k" });
});
after(async () => {
  await judge.close();
  await server.close();
});
const useScript = (...replies: string[]): number => {
  const start = server.requests.length;
  // The handler's n keeps growing across tests: count this script's requests from its start.
  script = ((base) => (req, res, n) => base(req, res, n - start))(sequence(...replies.map((r) => replyText(r))));
  return start;
};

describe("parsing judge replies", () => {
  it("reads the rubric from JSON wrapped in prose or fences, and refuses out-of-range scores", () => {
    assert.deepEqual(parseRubric('Sure!\n```json\n{"relevance": 5, "coherence": "4", "factual_accuracy": 3}\n```'), { relevance: 5, coherence: 4, factual_accuracy: 3 });
    assert.equal(parseRubric('{"relevance": 6, "coherence": 4, "factual_accuracy": 3}'), null);
    assert.equal(parseRubric('{"relevance": 5, "coherence": 4}'), null);
    assert.equal(parseRubric("five, four, three"), null);
  });

  it("self-agreement: exact share and mean absolute difference", () => {
    const a = { relevance: 5, coherence: 4, factual_accuracy: 3 };
    const s = selfAgreement([
      [a, a],
      [a, { relevance: 2, coherence: 4, factual_accuracy: 3 }],
    ]);
    assert.equal(s.exact, 0.5);
    assert.equal(s.meanAbsDiff, 0.5); // (0 + 3/3) / 2
  });
});

describe("a judge model over HTTP (scripted)", () => {
  it("asks again after an unparseable reply", async () => {
    const start = useScript("I think it is good.", '{"relevance": 4, "coherence": 5, "factual_accuracy": 2}');
    const r = await judgeRubric(judge, { question: "Who?", answer: "Rollo", contexts: ["Rollo led them."] });
    assert.deepEqual(r, { ok: true, value: { relevance: 4, coherence: 5, factual_accuracy: 2 }, attempts: 2 });
    assert.equal(server.requests.length - start, 2);
    assert.match(String(server.requests.at(-1)?.body.messages?.at(-1)?.content), /could not be read/);
  });

  it("fails the item after the retries, never scoring it 0", async () => {
    useScript("nope", "still nope", "no JSON here");
    const r = await judgeRubric(judge, { question: "Who?", answer: "Rollo", contexts: [] }, { retries: 2 });
    assert.equal(r.ok, false);
    assert.equal(r.attempts, 3);

    useScript("nope", "nope", "nope");
    const dataset: QaDataset = { name: "t", path: "t", format: "jsonl", hash: "h", passages: [{ id: "p", title: "", text: "Rollo led them." }], items: [] };
    const item = { id: "q", question: "Who led them?", answers: ["Rollo"], answerable: true, goldPassages: ["p"] };
    const pred = { answer: "Rollo led them.", abstained: false, statements: [{ text: "Rollo led them.", citations: [1] }], citations: [{ n: 1, passageId: "p", quote: "Rollo led them.", start: 0, end: 15 }], retrieved: ["p"], ms: 1 };
    const scored = await scoreQaItem(item, pred, dataset, { supports: () => true, judge, judgeRetries: 2 });
    assert.equal(scored.metrics.judge_failed, 1);
    assert.equal(scored.metrics.judge_relevance, null);
    assert.match(String(scored.detail.judgeError), /could not be read after 3 tries/);
    const summary = summarizeQa([scored]);
    assert.equal(summary.judge_failed, 1);
    assert.equal(summary.judge_relevance, null);
    // the answer's own metrics are still there
    assert.equal(scored.metrics.em, 0);
    assert.ok((scored.metrics.f1 ?? 0) > 0);
  });

  it("a support judge that stays unreadable throws JudgeFailed, and the item's citation metrics become null", async () => {
    useScript("maybe", "maybe", "maybe");
    await assert.rejects(Promise.resolve(modelSupportJudge(judge, { retries: 2 })("Rollo led them.", ["Rollo led them."])), JudgeFailed);
    useScript(...Array.from({ length: 12 }, () => "maybe"));
    const dataset: QaDataset = { name: "t", path: "t", format: "jsonl", hash: "h", passages: [{ id: "p", title: "", text: "Rollo led them." }], items: [] };
    const item = { id: "q", question: "Who led them?", answers: ["Rollo"], answerable: true, goldPassages: ["p"] };
    const pred = { answer: "Rollo led them.", abstained: false, statements: [{ text: "Rollo led them.", citations: [1] }], citations: [{ n: 1, passageId: "p", quote: "Rollo led them.", start: 0, end: 15 }], retrieved: ["p"], ms: 1 };
    const scored = await scoreQaItem(item, pred, dataset, { supports: modelSupportJudge(judge, { retries: 1 }) });
    assert.equal(scored.metrics.citation_recall, null);
    assert.equal(scored.metrics.faithfulness, null);
    assert.equal(scored.metrics.judge_failed, 1);
  });

  it("pairwise preference is asked in both orders; a judge that follows position is inconsistent", async () => {
    useScript('{"better": "1"}', '{"better": "1"}');
    const r = await judgePair(judge, { question: "Who?", contexts: [], answerA: "Rollo", answerB: "Hrolf" });
    assert.deepEqual(r, { ok: true, value: "inconsistent", attempts: 2 });
    const start = useScript('{"better": "2"}', '{"better": "1"}');
    const r2 = await judgePair(judge, { question: "Who?", contexts: [], answerA: "Rollo", answerB: "Hrolf" });
    assert.deepEqual(r2, { ok: true, value: "B", attempts: 2 });
    // the second request shows B first
    assert.match(String(server.requests[start + 1]?.body.messages?.at(-1)?.content), /Answer 1: Hrolf/);
  });
});

describe("rubric self-agreement and gold-less items", () => {
  it("judging each answer twice reports how often the judge agrees with itself", async () => {
    useScript('{"relevance": 5, "coherence": 5, "factual_accuracy": 5}', '{"relevance": 5, "coherence": 5, "factual_accuracy": 5}', '{"relevance": 4, "coherence": 5, "factual_accuracy": 5}', '{"relevance": 1, "coherence": 5, "factual_accuracy": 5}');
    const dataset: QaDataset = { name: "t", path: "t", format: "jsonl", hash: "h", passages: [{ id: "p", title: "", text: "Rollo led them." }], items: [] };
    const pred = { answer: "Rollo led them.", abstained: false, statements: [{ text: "Rollo led them.", citations: [1] }], citations: [{ n: 1, passageId: "p", quote: "Rollo led them.", start: 0, end: 15 }], retrieved: ["p"], ms: 1 };
    const scored = [];
    for (const id of ["a", "b"]) scored.push(await scoreQaItem({ id, question: "Who led them?", answers: ["Rollo"], answerable: true, goldPassages: ["p"] }, pred, dataset, { supports: () => true, judge, judgeRepeats: 2 }));
    const s = summarizeQa(scored);
    assert.equal(s.judge_self_agreement, 0.5);
    assert.equal(s.judge_self_mean_abs_diff, 0.5); // (0 + 3/3) / 2
    assert.equal(s.judge_relevance, 4.5); // first judgements: 5 and 4
  });

  it("an answerable item without gold answers (eval rag) has no EM/F1, only RAG metrics", async () => {
    const dataset: QaDataset = { name: "t", path: "t", format: "jsonl", hash: "h", passages: [{ id: "p", title: "", text: "Rollo led them." }], items: [] };
    const pred = { answer: "", abstained: true, statements: [], citations: [], retrieved: ["p"], ms: 1 };
    const scored = await scoreQaItem({ id: "r", question: "Who led them?", answers: [], answerable: true, goldPassages: ["p"] }, pred, dataset, { supports: () => true });
    assert.equal(scored.metrics.em, null);
    assert.equal(scored.metrics.f1, null);
    assert.equal(scored.metrics.context_precision, 1);
  });
});
