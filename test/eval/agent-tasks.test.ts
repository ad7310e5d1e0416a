// Agent task success is judged on the scripted world's end state: a model that reads, computes and
// acts correctly succeeds; one that acts on a wrong figure, or claims success without acting, fails.
import assert from "node:assert/strict";
import { test } from "node:test";
import { builtinAgentTasks, runAgentTasks, summarizeAgentTasks } from "../../src/eval/agent-tasks.js";
import type { StoredItem } from "../../src/eval/run-store.js";
import { scriptedModel } from "../agents/helpers/scripted-model.js";

test("success follows the world's end state, not the agent's words", async () => {
  const tasks = builtinAgentTasks();
  const model = scriptedModel([
    // inventory: read 5, order 7 — right
    { calls: [{ name: "get_stock", args: { item: "apple" } }] },
    { calls: [{ name: "place_order", args: { item: "apple", qty: 7 } }] },
    { text: "Ordered 7 apples." },
    // calendar: books 9:00, which is taken; the tool error goes back; it then claims success without booking
    { calls: [{ name: "book", args: { day: "Monday", hour: 9, title: "Standup" } }] },
    { text: "Booked the Standup at 9." },
    // bank: reads 840, moves 400 — wrong amount
    { calls: [{ name: "get_balance", args: { account: "checking" } }] },
    { calls: [{ name: "transfer", args: { from: "checking", to: "savings", amount: 400 } }] },
    { text: "Moved half." },
  ]);
  const items: StoredItem[] = [];
  await runAgentTasks(tasks, model, { onItem: (i) => items.push(i) });
  assert.deepEqual(items.map((i) => [i.id, i.metrics.success]), [
    ["inventory-restock", 1],
    ["calendar-first-free", 0],
    ["bank-half-transfer", 0],
  ]);
  assert.match(String(items[1]?.detail.reason), /expected one Standup on Monday at 11/);
  assert.match(String(items[2]?.detail.reason), /checking 420/);
  // the taken slot's error went back to the model as a tool result
  assert.ok(model.requests[4]?.messages.some((m) => m.role === "tool" && /taken/.test(String(m.content))));
  const s = summarizeAgentTasks(items);
  assert.equal(s.tasks, 3);
  assert.equal(s.success_rate, 0.3333);
});
