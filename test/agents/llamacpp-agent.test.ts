// The agent loop end to end on a real model runtime: a tiny GGUF written by the test, run by
// llama.cpp through the gguf: provider, with grammar-constrained tool calls (native) and
// grammar-constrained JSON replies (the fallback). The weights are random, so the test checks what
// the runtime guarantees — calls that fit the tool's schema, validation, approval, resume, audit —
// not what the model says.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { decide } from "../../src/agents/graph/runtime.js";
import { resumeAgent, runAgent } from "../../src/agents/loop/agent.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AuditLog } from "../../src/agents/store/audit.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { defineTool } from "../../src/agents/tools/tool.js";
import { createLanguageModel } from "../../src/model/registry.js";
import type { LanguageModel } from "../../src/model/types.js";
import { tempDir } from "../helpers/paths.js";
import { writeTinyLlamaGguf } from "../helpers/tiny-llama.js";

let model: LanguageModel;
const dir = tempDir("strata-agent-gguf-");

before(async () => {
  const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 7 });
  model = await createLanguageModel(`gguf:${tiny.path}#threads=1&ctx=2048`);
});

after(async () => {
  await model?.close();
});

test("native constrained tool call through llama.cpp: the call fits the schema, waits for approval, runs once after resume", async () => {
  const store = AgentStore.open(join(dir, "store-native"), { create: true });
  const notes: string[] = [];
  const note = defineTool({ name: "save_note", description: "Saves a short note", risk: "write", input: z.object({ text: z.string() }), run: ({ text }) => (notes.push(text), { saved: true }) });
  const opts = { model, tools: [note, calculatorTool()], store, maxSteps: 2, maxTokens: 48, toolChoice: (step: number) => (step === 1 ? { name: "save_note" } : ("none" as const)) };
  const r1 = await runAgent({ ...opts, goal: "Save a note that says hello." });
  assert.equal(r1.status, "interrupted", JSON.stringify(r1.error ?? r1.stop));
  const p = r1.pending[0]!;
  assert.equal(p.tool, "save_note");
  assert.equal(typeof (p.args as { text?: unknown }).text, "string", "the grammar made the model produce arguments of the right shape");
  assert.deepEqual(notes, []);
  decide(store, r1.threadId, p.callId, { approve: true, by: "tester" });
  const r2 = await resumeAgent(r1.threadId, opts);
  assert.equal(r2.status, "completed", JSON.stringify(r2.error ?? r2.stop));
  assert.equal(notes.length, 1);
  assert.equal(notes[0], (p.args as { text: string }).text);
  assert.equal(typeof r2.result, "string");
  assert.equal(r2.usage.modelCalls, 2);
  assert.ok(r2.usage.inputTokens > 0 && r2.usage.outputTokens > 0);
  assert.equal(new AuditLog(store).verify(r1.threadId).ok, true);
  store.close();
});

test("JSON-schema fallback through llama.cpp: every reply is read as a tool call, an answer, or a problem fed back", async () => {
  const store = AgentStore.open(join(dir, "store-json"), { create: true });
  const r = await runAgent({ goal: "What is 2 + 2?", model, tools: [calculatorTool()], store, toolMode: "json", maxSteps: 3, maxTokens: 64 });
  assert.ok(["completed", "budget_exceeded"].includes(r.status), JSON.stringify(r.error));
  const requests = new AuditLog(store).entries(r.threadId).filter((e) => e.type === "model.request");
  assert.ok(requests.length >= 1);
  for (const e of requests) {
    const d = e.data as { responseSchema: unknown; tools: string[] };
    assert.ok(d.responseSchema, "the fallback constrains the reply with a schema");
    assert.deepEqual(d.tools, [], "no native tools are sent");
  }
  // Each model turn produced exactly one of: a tool call (whose result or error went back), an answer, or a correction.
  const msgs = r.state.messages.slice(1);
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (m.role !== "assistant") continue;
    const next = msgs[i + 1];
    if (m.toolCalls?.length) assert.equal(next?.role, "tool");
    else if (next) assert.match(next.content, /Reply again following the format/);
    else assert.equal(r.result, m.content);
  }
  store.close();
});
