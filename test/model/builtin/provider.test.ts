// The builtin: provider beyond the LanguageModel contract (which test/model/conformance.ts checks
// for every provider, builtin/conformance.test.ts here): usage counts are token counts, seeded
// sampling, raw completion (sliding past the context, stops across tokens), lossOf, unsupported
// requests say what to use instead, and builtin:<run dir> / builtin:<file.gguf> load through the
// registry with clear errors for a missing, corrupt or foreign target.
import assert from "node:assert/strict";
import { readFileSync, truncateSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportLlamaGguf, ggufValue, writeGguf } from "../../../src/formats/gguf/index.js";
import { createEmbeddingModel, createLanguageModel } from "../../../src/model/registry.js";
import { BuiltinLanguageModel } from "../../../src/model/providers/builtin/index.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamEvent } from "../../../src/model/types.js";
import { isStrataError } from "../../helpers/errors.js";
import { tempDir } from "../../helpers/paths.js";
import { TINY_TEXT, tinyTrainedLlama, writeTinyRun, type TinyTrained } from "./helpers.js";

let trained: TinyTrained;
let lm: BuiltinLanguageModel;
const dir = tempDir();
const user = (content: string): GenerateRequest["messages"] => [{ role: "user", content }];

before(async () => {
  trained = await tinyTrainedLlama();
  lm = new BuiltinLanguageModel(trained.model, trained.tokenizer, { name: "tiny" });
});

after(async () => {
  await lm.close();
});

async function streamed(model: LanguageModel, request: GenerateRequest): Promise<{ deltas: string[]; result: GenerateResult }> {
  const deltas: string[] = [];
  let result: GenerateResult | undefined;
  for await (const e of model.stream(request) as AsyncIterable<StreamEvent>) {
    if (e.type === "text-delta") deltas.push(e.text);
    if (e.type === "finish") result = e.result;
  }
  assert.ok(result, "the stream ends with a finish event");
  return { deltas, result };
}

describe("builtin language model", () => {
  test("seeded sampling: generate equals stream; usage.inputTokens is the ChatML prompt's length", async () => {
    const options = { maxTokens: 30, temperature: 0.9, topK: 40, topP: 0.95, seed: 4 };
    const request: GenerateRequest = { messages: [{ role: "system", content: "Speak like a play." }, ...user("ROMEO:")], ...options };
    const g = await lm.generate(request);
    const s = await streamed(lm, request);
    assert.equal(s.deltas.join(""), s.result.text);
    assert.equal(g.text, s.result.text);
    assert.deepEqual([g.finishReason, g.usage], [s.result.finishReason, s.result.usage]);
    assert.equal(g.usage.inputTokens, trained.tokenizer.applyChatTemplate(request.messages.map((m) => ({ role: m.role, content: m.content })), { addGenerationPrompt: true }).length);
    assert.ok(g.usage.outputTokens >= 1 && g.usage.outputTokens <= 30);
    if (g.finishReason === "length") assert.equal(g.usage.outputTokens, 30);
    assert.equal(g.model, "tiny");
    assert.deepEqual(g.toolCalls, []);
  });

  test("a seed reproduces a sampled answer; other seeds give others; temperature 0 ignores the seed", async () => {
    const req = (seed: number, temperature = 1.2): GenerateRequest => ({ messages: user("JULIET:"), maxTokens: 24, temperature, seed });
    assert.equal((await lm.generate(req(1))).text, (await lm.generate(req(1))).text);
    const texts = new Set(await Promise.all([1, 2, 3, 4].map(async (s) => (await lm.generate(req(s))).text)));
    assert.ok(texts.size > 1, "different seeds give different text");
    assert.equal((await lm.generate(req(1, 0))).text, (await lm.generate(req(2, 0))).text);
  });

  test("maxTokens ends with finish 'length'; countTokens is the tokenizer's exact count", async () => {
    const r = await lm.complete({ prompt: "The quick brown", maxTokens: 5 });
    assert.equal(r.finishReason, "length");
    assert.equal(r.usage.outputTokens, 5);
    assert.equal(r.usage.inputTokens, trained.tokenizer.encode("The quick brown", { addBos: true }).length);
    const text = "All the world's a stage, and all the men";
    assert.equal(await lm.countTokens(text), trained.tokenizer.encode(text).length);
  });

  test("lossOf scores the text's ids (BOS first) in windows, as the engine does", async () => {
    const text = TINY_TEXT.slice(0, 400);
    const r = await lm.lossOf(text, { window: 48, maxTokens: 80 });
    const expected = await lm.engine.loss(trained.tokenizer.encode(text, { addBos: true }).slice(0, 80), { window: 48 });
    assert.deepEqual(r, { ...expected, window: 48 });
    assert.equal(r.tokens, 79);
    assert.equal((await lm.lossOf(text, { window: 10_000 })).window, trained.config.maxSeq);
  });

  test("raw completion continues the text the model learned", async () => {
    const r = await lm.complete({ prompt: "The quick brown fox jumps over the", maxTokens: 12 });
    assert.match(r.text, /lazy|dog|the/, `a model trained on the text continues it: ${JSON.stringify(r.text)}`);
  });

  test("raw completion slides its window past the context (last 3/4 re-run); a chat stops at the context", async () => {
    const small = new BuiltinLanguageModel(trained.model, trained.tokenizer, { contextSize: 16 });
    const prompt = "ROMEO: But soft, what light";
    const r = await small.complete({ prompt, maxTokens: 40 });
    // The same by hand: full forward passes over the window the engine holds.
    const end = new Set([trained.tokenizer.eosId, trained.tokenizer.imEndId]);
    const history = trained.tokenizer.encode(prompt, { addBos: true });
    let window = history.length < 16 ? [...history] : history.slice(-12);
    const out: number[] = [];
    for (let i = 0; i < 40; i++) {
      const all = small.engine.logitsAll(window);
      const logits = all.subarray(all.length - trained.config.vocab);
      let id = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[id]!) id = v;
      out.push(id);
      history.push(id);
      if (end.has(id)) break;
      window = window.length < 16 ? [...window, id] : history.slice(-12);
    }
    assert.equal(r.usage.outputTokens, out.length);
    assert.equal(r.text, trained.tokenizer.decode(out, { skipSpecial: true }));
    assert.ok(out.length > 16, "it went past the context");
    await small.close();
    const chatModel = new BuiltinLanguageModel(trained.model, trained.tokenizer, { contextSize: 24 });
    const chat = await chatModel.generate({ messages: user("Hi"), maxTokens: 40 });
    assert.ok(chat.usage.inputTokens + chat.usage.outputTokens <= 24, JSON.stringify(chat.usage));
    await chatModel.close();
  });

  test("a stop string ends the text right before it, even across tokens; what came before is kept", async () => {
    const free = await lm.complete({ prompt: "ROMEO: But soft, what", maxTokens: 40 });
    assert.ok(free.text.length > 12, free.text);
    // A stop string from the middle of the free text, starting mid-token and spanning several tokens.
    const at = Math.floor(free.text.length / 2);
    const stop = free.text.slice(at, at + 5);
    const first = free.text.indexOf(stop);
    const r = await lm.complete({ prompt: "ROMEO: But soft, what", maxTokens: 40, stop: [stop, "\u0000never"] });
    assert.equal(r.text, free.text.slice(0, first));
    assert.equal(r.finishReason, "stop");
    assert.ok(r.usage.outputTokens < free.usage.outputTokens);
  });

  test("tools and response schemas are refused as not supported yet; bad options and overlong prompts are clear errors", async () => {
    await assert.rejects(lm.generate({ messages: user("hi"), tools: [{ name: "f", parameters: { type: "object" } }] }), isStrataError("MODEL_UNSUPPORTED", /tool calls are not supported by the builtin engine yet/, /gguf:/));
    await assert.rejects(lm.generate({ messages: user("hi"), responseSchema: { type: "object" } }), isStrataError("MODEL_UNSUPPORTED", /responseSchema.*not supported by the builtin engine yet/));
    const ok = await lm.generate({ messages: user("hi"), tools: [{ name: "f", parameters: { type: "object" } }], toolChoice: "none", maxTokens: 2 });
    assert.ok(ok.usage.outputTokens >= 1, "toolChoice none ignores the tools");
    await assert.rejects(lm.generate({ messages: user("hi"), temperature: -1 }), isStrataError("USAGE", /temperature/));
    await assert.rejects(lm.generate({ messages: [] }), isStrataError("USAGE", /no messages/));
    await assert.rejects(lm.generate({ messages: user("x ".repeat(400)) }), isStrataError("CONTEXT_OVERFLOW", /context holds 128/));
  });
});

describe("builtin: references", () => {
  test("builtin:<run dir> loads the newest checkpoint (or #step=) and answers like the model it was saved from", async () => {
    const run = join(dir, "run");
    await writeTinyRun(run, trained, 40);
    const model = await createLanguageModel(`builtin:${run}`);
    try {
      assert.equal(model.provider, "builtin");
      assert.equal(model.id, `builtin:${run}`);
      assert.equal(model.contextLength, trained.config.maxSeq);
      const req: GenerateRequest = { messages: user("ROMEO:"), maxTokens: 16 };
      assert.deepEqual((await model.generate(req)).text, (await lm.generate(req)).text);
      assert.match((await model.generate(req)).model, /^run@step-40$/);
    } finally {
      await model.close();
    }
    const stepped = await createLanguageModel(`builtin:${run}#step=40&ctx=64&threads=1`);
    assert.equal(stepped.contextLength, 64);
    await stepped.close();
    await assert.rejects(createLanguageModel(`builtin:${run}#step=7`), isStrataError("NOT_FOUND", /no checkpoint of step 7/, /40/));
    await assert.rejects(createLanguageModel(`builtin:${run}#temperature=1`), isStrataError("USAGE", /unknown option "temperature"/));
  });

  test("builtin:<file.gguf> runs an exported GGUF in the engine", async () => {
    const path = join(dir, "tiny.gguf");
    await exportLlamaGguf(path, { config: trained.config, stateDict: trained.model.stateDict(), tokenizer: trained.tokenizer, quant: "f32", name: "tiny-gguf" });
    const model = await createLanguageModel(`builtin:${path}`);
    try {
      const req: GenerateRequest = { messages: user("JULIET:"), maxTokens: 16 };
      const r = await model.generate(req);
      assert.equal(r.text, (await lm.generate(req)).text);
      assert.equal(r.model, "tiny-gguf");
    } finally {
      await model.close();
    }
  });

  test("a missing run dir, a corrupt checkpoint, a foreign file and a foreign GGUF are clear errors", async () => {
    await assert.rejects(createLanguageModel(`builtin:${join(dir, "nothing-here")}`), isStrataError("NOT_FOUND", /nothing-here does not exist/, /run directory/));
    const run = join(dir, "corrupt");
    await writeTinyRun(run, trained, 40);
    const weights = join(run, "checkpoints", "step-40", "model.safetensors");
    truncateSync(weights, Math.floor(statSync(weights).size / 2));
    await assert.rejects(createLanguageModel(`builtin:${run}`), isStrataError("CHECKPOINT_INVALID", /model\.safetensors/));
    const empty = join(dir, "empty-run");
    await writeTinyRun(empty, trained, 40);
    writeFileSync(join(empty, "run.json"), readFileSync(join(empty, "run.json"), "utf8").replace('"strata-run"', '"something-else"'));
    await assert.rejects(createLanguageModel(`builtin:${empty}`), isStrataError("CHECKPOINT_INVALID", /not a Strata strata-run file/));
    const text = join(dir, "notes.txt");
    writeFileSync(text, "hello");
    await assert.rejects(createLanguageModel(`builtin:${text}`), isStrataError("UNSUPPORTED_TYPE", /neither a run directory nor a GGUF/));
    const foreign = join(dir, "foreign.gguf");
    await writeGguf(foreign, { metadata: [["general.architecture", ggufValue.str("phi3")]], tensors: [] });
    await assert.rejects(createLanguageModel(`builtin:${foreign}`), isStrataError("UNSUPPORTED_TYPE", /"phi3" model/, /gguf:/));
    await assert.rejects(createEmbeddingModel(`builtin:${foreign}`), isStrataError("MODEL_UNAVAILABLE"));
  });
});
