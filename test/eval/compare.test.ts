// compareRuns on hand-made stored runs: deltas and their direction, the items that changed most,
// refusal of runs of different kinds or without common items, and the position-swapped judge.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compareRuns } from "../../src/eval/compare.js";
import type { RunRecord, StoredItem, StoredRun } from "../../src/eval/run-store.js";
import { createLanguageModel } from "../../src/model/registry.js";
import type { LanguageModel } from "../../src/model/types.js";
import { replyText, startOpenAiServer, type OpenAiServer } from "../helpers/openai-server.js";

function run(id: string, kind: RunRecord["kind"], rows: [string, number, number, string][]): StoredRun {
  const items: StoredItem[] = rows.map(([qid, f1, ms, answer]) => ({ id: qid, metrics: { f1, ms, abstained: answer ? 0 : 1, answerable: 1 }, detail: { question: `question ${qid}`, answer } }));
  const record: RunRecord = { format: "strata-eval-run", formatVersion: 1, id, kind, status: "complete", createdAt: "", updatedAt: "", config: {}, dataset: { name: "d", path: "d", hash: "h", items: rows.length }, codeVersion: "t", modelRef: null, summary: null };
  return { dir: "", run: record, items };
}

const A = run("20260101-000000-0000000a", "qa", [
  ["q1", 0, 10, "x"],
  ["q2", 0.5, 10, "y"],
  ["q3", 1, 10, "z"],
  ["q4", 0, 10, ""],
]);
const B = run("20260101-000000-0000000b", "qa", [
  ["q1", 1, 5, "x2"],
  ["q2", 0.5, 5, "y"],
  ["q3", 0.75, 5, "z2"],
  ["q5", 1, 5, "w"],
]);

let server: OpenAiServer;
let judge: LanguageModel;
before(async () => {
  server = await startOpenAiServer(replyText('{"better": "1"}'));
  judge = await createLanguageModel(server.ref("j"), { apiKey: "k" });
});
after(async () => {
  await judge.close();
  await server.close();
});

describe("compareRuns", () => {
  it("pairs common items, gives deltas with a direction, and ranks the changed items", async () => {
    const c = await compareRuns(A, B, { resamples: 200 });
    assert.equal(c.common, 3);
    const f1 = c.metrics.find((m) => m.metric === "f1")!;
    // (1 - 0 + 0 + 0.75 - 1) / 3 = 0.25
    assert.ok(Math.abs(f1.delta - 0.25) < 1e-12);
    assert.equal(f1.direction, "higher");
    const ms = c.metrics.find((m) => m.metric === "ms")!;
    assert.equal(ms.delta, -5);
    assert.equal(ms.verdict, "better", "less time is better");
    assert.equal(c.metrics.find((m) => m.metric === "abstained")?.direction, "neutral");
    assert.ok(!c.metrics.some((m) => m.metric === "answerable"), "flags are not compared");
    assert.deepEqual(
      c.changed.map((i) => [i.id, i.delta]),
      [
        ["q1", 1],
        ["q3", -0.25],
      ],
    );
  });

  it("refuses runs of different kinds, without common items, or an unknown ranking metric", async () => {
    await assert.rejects(compareRuns(A, run("20260101-000000-0000000c", "tools", [["q1", 1, 1, "x"]])), /is a qa run and .* a tools run/);
    await assert.rejects(compareRuns(A, run("20260101-000000-0000000d", "qa", [["zz", 1, 1, "x"]])), /no item in common/);
    await assert.rejects(compareRuns(A, B, { by: "bleu" }), /no metric "bleu"/);
  });

  it("a judge that always prefers the first answer shown is inconsistent on every item", async () => {
    const c = await compareRuns(A, B, { judge, resamples: 50 });
    assert.deepEqual(c.pairwise, { judged: 3, a: 0, b: 0, tie: 0, inconsistent: 3, failed: 0, positionConsistency: 0 });
    assert.equal(server.requests.length, 6, "each item asked twice, in both orders");
  });
});
