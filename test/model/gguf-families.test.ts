// Each family's GGUF layout loads in Strata's engine and in llama.cpp with equal logits (the max
// |difference| over every position and token is printed), the same greedy continuation through the
// KV-cached path, and the same chat-formatted prompt ids; quantized files check every decoder
// against llama.cpp's (the embedding is looked up row by row, so its dequantization is exact there).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import type { LlamaModel, Token } from "node-llama-cpp";
import { type EncodableType, ggufValue, importLlamaGguf, llamaGgufModelMetadata, llamaGgufTensors } from "../../src/formats/gguf/index.js";
import { sharedLlama } from "../../src/model/providers/llamacpp/runtime.js";
import { LlamaInference, createBuiltinLanguageModel, loadBuiltinParts } from "../../src/model/providers/builtin/index.js";
import { VocabTokenizer } from "../../src/tokenizer/vocab-tokenizer.js";
import { FAMILIES, writeFamilyGguf } from "../helpers/gguf-families.js";
import { tempDir } from "../helpers/paths.js";

const dir = tempDir();
const opened: LlamaModel[] = [];
after(async () => {
  for (const m of opened) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const PROMPT = "The quick brown fox, naïve café 日本 🙂 def f(x): return x";

async function llamaCpp(path: string): Promise<LlamaModel> {
  const m = await (await sharedLlama()).loadModel({ modelPath: path, gpuLayers: 0 });
  opened.push(m);
  return m;
}

const CONTEXT = { contextSize: 128, threads: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" } as const;

async function theirLogits(model: LlamaModel, ids: number[]): Promise<Float32Array[]> {
  const ctx = await model.createContext(CONTEXT);
  try {
    const results = await ctx.getSequence().controlledEvaluate(ids.map((t): [Token, { generateNext: { logits: true } }] => [t as Token, { generateNext: { logits: true } }]));
    return results.map((r, pos) => {
      const l = r?.next.logits;
      assert.ok(l, `llama.cpp logits at ${pos}`);
      const out = new Float32Array(l.size);
      for (const [t, v] of l) out[t] = v;
      return out;
    });
  } finally {
    await ctx.dispose();
  }
}

async function theirGreedy(model: LlamaModel, ids: number[], n: number): Promise<number[]> {
  const ctx = await model.createContext(CONTEXT);
  try {
    const out: number[] = [];
    for await (const t of ctx.getSequence().evaluate(ids as Token[], { temperature: 0 })) {
      out.push(t);
      if (out.length >= n) break;
    }
    return out;
  } finally {
    await ctx.dispose();
  }
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Max |ours − llama.cpp| over every position and vocabulary entry, and the prompt ids. */
async function compareLogits(path: string): Promise<{ error: number; scale: number; ids: number[]; theirs: LlamaModel; engine: LlamaInference; tokenizer: VocabTokenizer }> {
  const parts = await loadBuiltinParts(path);
  assert.ok(parts.tokenizer instanceof VocabTokenizer, "the file's own vocabulary is used");
  const tokenizer = parts.tokenizer;
  const theirs = await llamaCpp(path);
  const ids = tokenizer.encode(PROMPT, { addBos: tokenizer.addBosToken });
  const want = [...(tokenizer.addBosToken ? [tokenizer.bosId!] : []), ...Array.from(theirs.tokenize(PROMPT, false), Number)];
  assert.deepEqual(ids, want, "prompt ids");
  const engine = new LlamaInference(parts.model, { contextLength: 128 });
  const ours = engine.logitsAll(ids);
  const ref = await theirLogits(theirs, ids);
  const V = parts.model.config.vocab;
  let error = 0;
  let scale = 0;
  ref.forEach((row, pos) => {
    assert.equal(row.length, V);
    for (let t = 0; t < V; t++) {
      error = Math.max(error, Math.abs(row[t]! - ours[pos * V + t]!));
      scale = Math.max(scale, Math.abs(row[t]!));
    }
  });
  return { error, scale, ids, theirs, engine, tokenizer };
}

for (const family of FAMILIES) {
  test(`${family}: logits, greedy tokens and chat prompt equal llama.cpp's`, async () => {
    const file = await writeFamilyGguf(join(dir, `${family}.gguf`), family);
    const { error, ids, theirs, engine, tokenizer } = await compareLogits(file.path);
    console.log(`# ${family}: max |logit difference| vs llama.cpp = ${error.toExponential(2)} over ${ids.length} positions`);
    assert.ok(error < 2e-3, `${family}: max logit difference ${error}`);
    // Greedy continuation through the KV cache.
    const want = await theirGreedy(theirs, ids, 12);
    const got: number[] = [];
    let logits = engine.prefill(ids);
    while (got.length < want.length) {
      const id = argmax(logits);
      got.push(id);
      logits = engine.step(id);
    }
    assert.deepEqual(got, want, `${family}: greedy tokens`);
    assert.equal(tokenizer.decode(got), theirs.detokenize(want as Token[], false), `${family}: greedy text`);
    // Chat prompt ids: the rendered template tokenized with special tokens, BOS per the file.
    const messages = [{ role: "user" as const, content: "Hello there!" }, { role: "assistant" as const, content: "Hi." }, { role: "user" as const, content: "Tell me a joke." }];
    const rendered = tokenizer.renderChat(messages, { addGenerationPrompt: true });
    const chatIds = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    const startsWithBos = tokenizer.bosId !== undefined && rendered.startsWith(tokenizer.tokenText(tokenizer.bosId));
    const theirChat = [...(tokenizer.addBosToken && !startsWithBos ? [tokenizer.bosId!] : []), ...Array.from(theirs.tokenize(rendered, true), Number)];
    assert.deepEqual(chatIds, theirChat, `${family}: chat prompt ids`);
  });
}

test("the builtin provider continues a prompt as llama.cpp does (greedy text)", async () => {
  const file = await writeFamilyGguf(join(dir, "provider-qwen.gguf"), "qwen2.5");
  const lm = await createBuiltinLanguageModel(`builtin:${file.path}`);
  const theirs = await llamaCpp(file.path);
  const r = await lm.complete({ prompt: PROMPT, maxTokens: 10, temperature: 0 });
  const want = await theirGreedy(theirs, Array.from(theirs.tokenize(PROMPT, false), Number), 10);
  assert.equal(r.text, theirs.detokenize(want as Token[], false));
});

const TYPES: EncodableType[] = ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"];

for (const type of TYPES) {
  test(`${type}: Strata's decoder reads the bytes as llama.cpp does`, async () => {
    // Only the embedding is stored as ${type}: llama.cpp dequantizes looked-up rows exactly, so equal logits mean equal decoders.
    const dim = type.endsWith("_K") ? 256 : 64;
    const file = await writeFamilyGguf(join(dir, `q-${type}.gguf`), "tinyllama", { type, dim, embeddingOnly: true });
    const { error } = await compareLogits(file.path);
    console.log(`# ${type} embedding: max |logit difference| vs llama.cpp = ${error.toExponential(2)}`);
    assert.ok(error < 2e-3, `${type}: max logit difference ${error}`);
  });
}

for (const type of ["Q8_0", "Q4_K"] as const) {
  test(`a file with every matrix ${type} runs in both engines with close logits`, async () => {
    const file = await writeFamilyGguf(join(dir, `all-${type}.gguf`), "llama3.2", { type, dim: 256 });
    const { error, scale } = await compareLogits(file.path);
    console.log(`# all ${type}: max |logit difference| vs llama.cpp = ${error.toExponential(2)} of logits up to ${scale.toFixed(1)} (llama.cpp also quantizes the activations)`);
    assert.ok(error < 0.05 * scale, `${type}: max logit difference ${error} against logits up to ${scale}`);
  });
}

test("rope_freqs, linear RoPE scaling and Q/K/V biases survive import and the export tables", async () => {
  const file = await writeFamilyGguf(join(dir, "scaled-llama3.1.gguf"), "llama3.1", { ropeFreqScale: 0.5 });
  const imported = await importLlamaGguf(file.path);
  assert.equal(imported.config.ropeScale, 0.5);
  assert.equal(imported.config.ropeFreqFactors?.length, 8);
  const { error } = await compareLogits(file.path);
  assert.ok(error < 2e-3, `linear scaling + rope_freqs: max logit difference ${error}`);
  const tensors = llamaGgufTensors(imported.config, imported.stateDict).tensors;
  const freqs = tensors.find((t) => t.name === "rope_freqs.weight");
  assert.deepEqual(Array.from(freqs!.data as Float32Array), imported.config.ropeFreqFactors);
  const meta = new Map(llamaGgufModelMetadata(imported.config));
  assert.deepEqual(meta.get("llama.rope.scaling.factor"), ggufValue.f32(2));
  const qwen = await importLlamaGguf((await writeFamilyGguf(join(dir, "bias-qwen.gguf"), "qwen2.5")).path);
  assert.ok(llamaGgufTensors(qwen.config, qwen.stateDict).tensors.some((t) => t.name === "blk.1.attn_k.bias"));
});
