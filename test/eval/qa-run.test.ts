import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { evaluateQa } from "../../src/eval/qa-eval.js";
import { readQaDataset } from "../../src/eval/qa-datasets.js";
import { openRun } from "../../src/eval/run-store.js";
import { createLanguageModel } from "../../src/model/registry.js";
import type { LanguageModel } from "../../src/model/types.js";
import { replyText, startOpenAiServer, type OpenAiServer } from "../helpers/openai-server.js";

const dir = mkdtempSync(join(tmpdir(), "strata-qa-run-"));
const runs = join(dir, "runs");
let server: OpenAiServer;
let model: LanguageModel;
before(async () => {
  server = await startOpenAiServer(replyText("Rollo led the Normans [1]."));
  model = await createLanguageModel(server.ref("m"), { apiKey: "k" });
});
after(async () => {
  await model.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const data = join(dir, "qa.jsonl");
writeFileSync(
  data,
  [
    { id: "q1", question: "Who led the Normans?", answers: ["Rollo"], contexts: ["Rollo led the Normans into Normandy in 911."] },
    { id: "q2", question: "Where did the Normans settle?", answers: ["Normandy"], contexts: ["The Normans settled in Normandy, a region of France."] },
    { id: "q3", question: "What did the Normans speak?", answers: ["Norman French"], contexts: ["The Normans spoke Norman French after the settlement."] },
    { id: "q4", question: "Who was the first king of Mars?", answers: [], contexts: [] },
  ]
    .map((o) => JSON.stringify(o))
    .join("\n"),
);
const store = { runsDir: runs, codeVersion: "test", modelRef: "m", config: { system: "generative" } };

describe("a stored QA run", () => {
  it("scores the extractive default: abstains on the unanswerable question, cites what it answers", async () => {
    const r = await evaluateQa(readQaDataset(data), { system: "extractive" });
    const byId = new Map(r.items.map((i) => [i.id, i]));
    assert.equal(byId.get("q4")?.metrics.abstained, 1);
    assert.equal(byId.get("q4")?.metrics.em, 1);
    assert.equal(byId.get("q1")?.metrics.abstained, 0);
    assert.equal(byId.get("q1")?.metrics.citation_recall, 1);
    assert.equal(r.summary.questions, 4);
    assert.equal(r.summary.abstention_recall, 1);
  });

  it("is resumed after an interruption from its stored items, asking only the missing questions", async () => {
    const dataset = readQaDataset(data);
    const controller = new AbortController();
    const before = server.requests.length;
    await assert.rejects(
      evaluateQa(dataset, { system: "generative", model, store, signal: controller.signal, onProgress: (e) => e.phase === "eval" && e.done === 2 && controller.abort() }),
      (e: unknown) => e instanceof StrataError && e.code === "ABORTED",
    );
    assert.equal(server.requests.length - before, 2);
    const runId = readdirSync(runs)[0] as string;
    const stored = openRun(runId, runs);
    assert.equal(stored.run.status, "running");
    assert.equal(stored.items.length, 2);
    // A crash mid-write leaves a torn last line: it is dropped and that item asked again.
    appendFileSync(join(runs, runId, "items.jsonl"), '{"id": "q3", "metr');

    const mid = server.requests.length;
    const r = await evaluateQa(dataset, { system: "generative", model, store: { ...store, resume: runId } });
    assert.equal(r.resumed, 2);
    assert.equal(server.requests.length - mid, 1, "only q3 goes to the model (q4 retrieves nothing, so it is not asked)");
    assert.deepEqual(r.items.map((i) => i.id), ["q1", "q2", "q3", "q4"]);
    const done = openRun(runId, runs);
    assert.equal(done.run.status, "complete");
    assert.equal(done.run.summary?.questions, 4);
    assert.equal(done.run.dataset.hash, dataset.hash);
  });

  it("refuses to resume on other data or options", async () => {
    const runId = readdirSync(runs)[0] as string;
    const other = join(dir, "other.jsonl");
    writeFileSync(other, JSON.stringify({ question: "x?", answers: ["y"], contexts: ["y z"] }));
    await assert.rejects(evaluateQa(readQaDataset(other), { system: "generative", model, store: { ...store, resume: runId } }), /scored other data/);
    await assert.rejects(evaluateQa(readQaDataset(data), { system: "generative", model, store: { ...store, config: { system: "x" }, resume: runId } }), /started with other options/);
  });
});

describe("an existing knowledge base (--kb)", () => {
  it("answers from it and reads the retrieved passages' texts for the context metrics", async () => {
    const { indexPassages } = await import("../../src/eval/knowledge-retrieval.js");
    const kb = indexPassages([{ id: "handbook#3", title: "Handbook", text: "Rollo led the Normans into Normandy in 911. He was a Viking chief." }], join(dir, "existing-kb"));
    try {
      const q = join(dir, "kb-questions.jsonl");
      writeFileSync(q, JSON.stringify({ id: "k1", question: "Who led the Normans into Normandy?", answers: ["Rollo"] }));
      const r = await evaluateQa(readQaDataset(q), { system: "extractive", kb });
      const m = r.items[0]?.metrics;
      assert.equal(m?.abstained, 0);
      assert.equal(m?.context_recall, 1, "the retrieved text contains the gold answer");
      assert.equal(m?.context_precision, 1);
      assert.equal(m?.citation_recall, 1);
      assert.deepEqual(r.items[0]?.detail.retrieved, ["handbook#3"]);
      // the caller's knowledge base stays open
      assert.equal((await kb.search("Rollo", { k: 1, access: { owner: true } })).length, 1);
    } finally {
      kb.close();
    }
  });
});
