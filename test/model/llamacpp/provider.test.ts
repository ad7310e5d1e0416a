// The llama.cpp provider on a tiny random-weight GGUF, beyond the LanguageModel contract (which
// test/model/conformance.ts checks for every provider, llamacpp/conformance.test.ts here): the text
// is noise, so the tests check structure — finish reasons, usage equal to token counts, seeded
// determinism, JSON that parses, tool calls that match their schema, embeddings, LoRA.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { StrataError } from "../../../src/core/errors.js";
import { createLlamaCppEmbeddingModel, createLlamaCppLanguageModel } from "../../../src/model/providers/llamacpp/index.js";
import { parseModelRef } from "../../../src/model/ref.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamEvent, ToolDefinition } from "../../../src/model/types.js";
import { tempDir } from "../../helpers/paths.js";
import { writeTinyLlamaGguf, writeTinyLoraGguf, type TinyLlama } from "../../helpers/tiny-llama.js";

const dir = tempDir();
let tiny: TinyLlama;
let lm: LanguageModel;
const toClose: Array<{ close(): Promise<void> }> = [];

before(async () => {
  tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1 });
  lm = await createLlamaCppLanguageModel(parseModelRef(`gguf:${tiny.path}`), { threads: 1 });
  toClose.push(lm);
});
after(async () => {
  for (const m of toClose) await m.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: "user", content }], ...extra });

async function collect(stream: AsyncIterable<StreamEvent>): Promise<{ deltas: string[]; calls: StreamEvent[]; finish?: GenerateResult }> {
  const out: { deltas: string[]; calls: StreamEvent[]; finish?: GenerateResult } = { deltas: [], calls: [] };
  for await (const e of stream) {
    if (e.type === "text-delta") out.deltas.push(e.text);
    else if (e.type === "tool-call") out.calls.push(e);
    else out.finish = e.result;
  }
  return out;
}

test("generate: greedy by default and deterministic; maxTokens ends it with finishReason length", async () => {
  const a = await lm.generate(ask("Hello", { maxTokens: 12 }));
  const b = await lm.generate(ask("Hello", { maxTokens: 12 }));
  assert.equal(a.text, b.text);
  assert.ok(a.text.length > 0);
  assert.equal(a.finishReason, "length");
  assert.equal(a.usage.outputTokens, 12, "usage counts every generated token");
  assert.equal(a.usage.costUsd, undefined, "no price, no cost");
  assert.deepEqual(a.toolCalls, []);
  assert.equal(a.model, "strata-tiny-llama");
  assert.ok(a.latencyMs > 0);
  assert.equal(lm.provider, "llamacpp");
  assert.equal(lm.contextLength, tiny.config.context);
});

test("usage.inputTokens is the rendered prompt's length: it grows by exactly the added text's tokens", async () => {
  const short = await lm.generate(ask("Hello", { maxTokens: 1 }));
  const long = await lm.generate(ask("Hello the world and the rest", { maxTokens: 1 }));
  const added = (await lm.countTokens("Hello the world and the rest")) - (await lm.countTokens("Hello"));
  assert.ok(added > 0);
  assert.equal(long.usage.inputTokens - short.usage.inputTokens, added);
  const withSystem = await lm.generate({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }], maxTokens: 1 });
  assert.ok(withSystem.usage.inputTokens > short.usage.inputTokens + (await lm.countTokens("Be brief.")), "the system turn adds its text and its role markers");
});

test("countTokens uses the model's BPE merges", async () => {
  assert.equal(await lm.countTokens(""), 0);
  assert.equal(await lm.countTokens("abc"), 3, "no merge joins a-b or b-c");
  assert.equal(await lm.countTokens(" the"), 1, "Ġ t → Ġt, h e → he, Ġt he → Ġthe");
  assert.equal(await lm.countTokens("the"), 2, "t + he");
});

test("seeded sampling is reproducible, and another seed gives another text", async () => {
  const req = (seed: number): GenerateRequest => ask("Hello", { maxTokens: 16, temperature: 1, topK: 50, topP: 0.95, seed });
  const a = await lm.generate(req(7));
  const b = await lm.generate(req(7));
  const c = await lm.generate(req(8));
  assert.equal(a.text, b.text);
  assert.notEqual(a.text, c.text);
  const greedy = await lm.generate(ask("Hello", { maxTokens: 16 }));
  assert.notEqual(a.text, greedy.text, "temperature 1 is not greedy");
});

test("a responseSchema constrains the answer to JSON that parses and fits the schema", async () => {
  const schema = { type: "object", properties: { ok: { type: "boolean" }, size: { enum: ["small", "large"] } }, required: ["ok", "size"] };
  for (const seed of [1, 2, 3]) {
    const r = await lm.generate(ask("Answer in JSON", { responseSchema: schema, temperature: 0.8, seed, maxTokens: 80 }));
    assert.equal(r.finishReason, "stop");
    assert.deepEqual(r.json, JSON.parse(r.text));
    const value = r.json as { ok: unknown; size: unknown };
    assert.equal(typeof value.ok, "boolean");
    assert.ok(value.size === "small" || value.size === "large");
  }
});

test("a JSON answer cut short by maxTokens ends with finishReason length and no json, without throwing", async () => {
  const r = await lm.generate(ask("Answer in JSON", { responseSchema: { type: "object", properties: { story: { type: "string" } }, required: ["story"] }, maxTokens: 6 }));
  assert.equal(r.finishReason, "length");
  assert.equal(r.json, undefined);
  assert.ok(r.text.startsWith("{"));
  assert.throws(() => JSON.parse(r.text));
});

const WEATHER: ToolDefinition = {
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { enum: ["Paris", "Rome", "Oslo"] }, metric: { type: "boolean" } }, required: ["city", "metric"] },
};
const TIME: ToolDefinition = { name: "get_time", description: "The time now", parameters: { type: "object", properties: { utc: { type: "boolean" } }, required: ["utc"] } };

test("toolChoice required: the model calls a tool with arguments that fit its schema", async () => {
  const r = await lm.generate(ask("What is the weather in Paris?", { tools: [WEATHER, TIME], toolChoice: "required", maxTokens: 80 }));
  assert.equal(r.finishReason, "tool_calls");
  assert.ok(r.toolCalls.length >= 1);
  for (const call of r.toolCalls) {
    assert.match(call.id, /^call_[0-9a-f]{12}$/);
    assert.ok(["get_weather", "get_time"].includes(call.name));
    assert.deepEqual(JSON.parse(call.rawArguments), call.arguments, "rawArguments is the JSON the model wrote");
    if (call.name === "get_weather") {
      assert.ok(["Paris", "Rome", "Oslo"].includes(call.arguments.city as string));
      assert.equal(typeof call.arguments.metric, "boolean");
    } else assert.equal(typeof call.arguments.utc, "boolean");
  }
  assert.ok(r.usage.inputTokens > 300, "the tools' documentation is part of the prompt");
});

test("a named toolChoice calls that tool; streaming emits it as a tool-call event", async () => {
  const s = await collect(lm.stream(ask("What time is it?", { tools: [WEATHER, TIME], toolChoice: { name: "get_time" }, maxTokens: 60 })));
  assert.equal(s.finish?.finishReason, "tool_calls");
  assert.equal(s.calls.length, s.finish?.toolCalls.length);
  assert.equal(s.finish?.toolCalls[0]?.name, "get_time");
  assert.deepEqual(s.calls[0], { type: "tool-call", call: s.finish?.toolCalls[0] });
});

test("toolChoice none leaves the tools out; auto lets the model decide", async () => {
  const none = await lm.generate(ask("Weather?", { tools: [WEATHER], toolChoice: "none", maxTokens: 4 }));
  const plain = await lm.generate(ask("Weather?", { maxTokens: 4 }));
  assert.equal(none.usage.inputTokens, plain.usage.inputTokens);
  assert.equal(none.text, plain.text);
  const auto = await lm.generate(ask("Weather?", { tools: [WEATHER], maxTokens: 8 }));
  assert.ok(auto.usage.inputTokens > plain.usage.inputTokens);
  assert.ok(["length", "stop", "tool_calls"].includes(auto.finishReason));
  for (const call of auto.toolCalls) assert.equal(call.name, "get_weather");
});

test("a tool's result goes back into the conversation and the model answers after it", async () => {
  const first = await lm.generate(ask("Weather in Rome?", { tools: [WEATHER], toolChoice: "required", maxTokens: 80 }));
  const call = first.toolCalls[0]!;
  const followUp: GenerateRequest = {
    messages: [
      { role: "user", content: "Weather in Rome?" },
      { role: "assistant", content: "", toolCalls: [call] },
      { role: "tool", toolCallId: call.id, name: call.name, content: JSON.stringify({ tempC: 21, sky: "clear" }) },
    ],
    tools: [WEATHER],
    toolChoice: "none",
    maxTokens: 8,
  };
  const second = await lm.generate(followUp);
  assert.ok(second.finishReason === "length" || second.finishReason === "stop");
  // The prompt holds the call and its result: more than the question alone plus the result's words.
  const question = await lm.generate({ ...followUp, messages: followUp.messages.slice(0, 1) });
  const resultWords = (await lm.countTokens("get_weather")) + (await lm.countTokens("tempC")) + (await lm.countTokens("clear"));
  assert.ok(second.usage.inputTokens > question.usage.inputTokens + resultWords, `${second.usage.inputTokens} vs ${question.usage.inputTokens} + ${resultWords}`);
});

test("prices give a cost per call", async () => {
  const ref = `gguf:${tiny.path}#threads=1`;
  const priced = await createLlamaCppLanguageModel(ref, { prices: { [ref]: { inputPerMillion: 1, outputPerMillion: 2 } } });
  toClose.push(priced);
  const r = await priced.generate(ask("Hello", { maxTokens: 5 }));
  assert.equal(r.usage.costUsd, (r.usage.inputTokens * 1 + 5 * 2) / 1e6);
});

test("onLog receives llama.cpp's warnings (here: a context longer than the model was trained for)", async () => {
  const lines: string[] = [];
  const big = await createLlamaCppLanguageModel(`gguf:${tiny.path}#ctx=2048&threads=1`, { onLog: (l) => lines.push(l) });
  toClose.push(big);
  assert.equal(big.contextLength, 2048);
  await big.generate(ask("Hi", { maxTokens: 1 }));
  assert.ok(lines.some((l) => /n_ctx_train/.test(l)), lines.join("\n"));
});

test("a model without a chat template still chats (node-llama-cpp picks a generic format)", async () => {
  const bare = await writeTinyLlamaGguf(join(dir, "bare.gguf"), { chatTemplate: null, seed: 3 });
  const m = await createLlamaCppLanguageModel(`gguf:${bare.path}`, { threads: 1 });
  toClose.push(m);
  const r = await m.generate(ask("Hello", { maxTokens: 4 }));
  assert.equal(r.usage.outputTokens, 4);
});

test("LoRA through the reference: scale 0 gives the base model's text, the adapter changes it", async () => {
  const lora = await writeTinyLoraGguf(join(dir, "lora.gguf"), tiny, { alpha: 32, targets: ["attn_q", "attn_v", "ffn_up", "ffn_down", "attn_output"] });
  const base = await lm.generate(ask("Hello", { maxTokens: 16 }));
  const off = await createLlamaCppLanguageModel(`gguf:${tiny.path}#lora=${lora.path}&loraScale=0&threads=1`, {});
  const on = await createLlamaCppLanguageModel(`gguf:${tiny.path}#lora=${lora.path}&threads=1`, {});
  toClose.push(off, on);
  assert.equal((await off.generate(ask("Hello", { maxTokens: 16 }))).text, base.text);
  const adapted = await on.generate(ask("Hello", { maxTokens: 16 }));
  assert.notEqual(adapted.text, base.text);
});

test("embeddings: one vector per text, in order, deterministic, of the model's width", async () => {
  const em = await createLlamaCppEmbeddingModel(`gguf:${tiny.path}#threads=1`, {});
  toClose.push(em);
  assert.equal(em.dimensions, tiny.config.width);
  assert.equal(em.id, `gguf:${tiny.path}#threads=1`);
  const [a, b, empty, a2] = await em.embed(["the cat sat", "a dog ran off", "", "the cat sat"]);
  assert.equal(a!.length, 64);
  assert.ok(a!.some((v) => v !== 0));
  assert.deepEqual(a, a2);
  assert.notDeepEqual(a, b);
  assert.deepEqual(empty, new Float32Array(64));
  const [single] = await em.embed(["a dog ran off"]);
  assert.deepEqual(single, b);
  assert.deepEqual(await em.embed([]), []);
  const small = await createLlamaCppEmbeddingModel(`gguf:${tiny.path}#ctx=16&threads=1`, {});
  toClose.push(small);
  await assert.rejects(small.embed(["short", "x".repeat(200)]), (e: unknown) => e instanceof StrataError && e.code === "CONTEXT_OVERFLOW" && /text 1 is \d+ tokens/.test(e.message));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(em.embed(["x"], { signal: ac.signal }), (e: unknown) => e instanceof StrataError && e.code === "ABORTED");
});
