// Function-calling and agent-task runs published for the Eval reports page: each item's verdict and
// category survive the round trip, the list shows the kind, and two runs pair up item by item.
import assert from "node:assert/strict";
import { test } from "node:test";
import { comparePublished } from "../../src/eval/published-compare.js";
import { listReports, publishReport, readReport, taskReportInput } from "../../src/eval/published-reports.js";
import type { StoredItem } from "../../src/eval/run-store.js";
import { summarizeTools } from "../../src/eval/tools-eval.js";
import { tempDir } from "../helpers/paths.js";

const item = (id: string, category: string, correct: boolean): StoredItem => ({ id, metrics: { correct: correct ? 1 : 0, ms: 3 }, detail: { category, verdict: correct ? "ok" : "wrong_value", reason: "" } });

test("a tools run publishes its verdicts by category and compares item by item with another", () => {
  const data = tempDir();
  const a = [item("simple_0", "simple", true), item("simple_1", "simple", false), item("parallel_0", "parallel", true)];
  const b = [item("simple_0", "simple", true), item("simple_1", "simple", true), item("parallel_0", "parallel", false)];
  const ra = publishReport(data, taskReportInput("tools", { id: "run-a", dataset: "bfcl", items: a, summary: summarizeTools(a) }));
  const rb = publishReport(data, taskReportInput("tools", { id: "run-b", dataset: "bfcl", items: b, summary: summarizeTools(b) }));
  const back = readReport(data, ra.id);
  assert.equal(back.kind, "tools");
  assert.deepEqual(back.kind === "tools" ? back.perItem : [], [
    { id: "simple_0", correct: true, category: "simple" },
    { id: "simple_1", correct: false, category: "simple" },
    { id: "parallel_0", correct: true, category: "parallel" },
  ]);
  assert.equal(back.metrics.accuracy, 0.6667);
  assert.equal(back.metrics.accuracy_simple, 0.5);
  assert.deepEqual(listReports(data).map((r) => (r.damaged ? "damaged" : r.kind)), ["tools", "tools"]);
  const c = comparePublished(ra, rb);
  assert.equal(c.paired?.metric, "correct");
  assert.equal(c.paired?.n, 3);
  assert.deepEqual(c.changed.map((x) => [x.id, x.delta]).sort(), [["parallel_0", -1], ["simple_1", 1]]);
});

test("an agents run keeps each task's success; a tools report is not compared with an agents one", () => {
  const data = tempDir();
  const items: StoredItem[] = [
    { id: "inventory-restock", metrics: { success: 1, ms: 5 }, detail: { status: "completed" } },
    { id: "bank-half-transfer", metrics: { success: 0, ms: 5 }, detail: { status: "completed" } },
  ];
  const r = publishReport(data, taskReportInput("agents", { id: "run-c", dataset: "scripted-worlds", items, summary: { tasks: 2, success_rate: 0.5 } }));
  const back = readReport(data, r.id);
  assert.deepEqual(back.kind === "agents" ? back.perItem.map((i) => [i.id, i.correct]) : [], [["inventory-restock", true], ["bank-half-transfer", false]]);
  const t = publishReport(data, taskReportInput("tools", { id: "run-d", dataset: "bfcl", items: [item("simple_0", "simple", true)], summary: { accuracy: 1 } }));
  assert.throws(() => comparePublished(r, t), /agents report .* tools report|tools report/);
});
