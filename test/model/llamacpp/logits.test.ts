// llama.cpp runs the tiny GGUFs Strata writes exactly as a plain-TS forward pass of the same weights
// says it should: per-position logits within 2e-3 for F32 weights. The same check covers tied
// embeddings, Q8_0/Q4_0 weights (looser: llama.cpp also quantizes activations for those matmuls),
// K-quant embeddings (checking Strata's Q4_K/Q6_K decoders against llama.cpp's) and a LoRA adapter.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import type { LlamaModel, Token } from "node-llama-cpp";
import { sharedLlama } from "../../../src/model/providers/llamacpp/runtime.js";
import { llamaForward, mergeLora, type ActivationRounding } from "../../helpers/llama-reference.js";
import { tempDir } from "../../helpers/paths.js";
import { writeTinyLlamaGguf, writeTinyLoraGguf, type TinyLlama, type TinyLlamaOptions } from "../../helpers/tiny-llama.js";

const dir = tempDir();
const opened: LlamaModel[] = [];
after(async () => {
  for (const m of opened) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const TEXT = "Hello the world, and the rest of it.";

/** Largest |llama.cpp − reference| over every position and vocabulary entry. */
async function maxLogitError(tiny: TinyLlama, opts: { lora?: { path: string; scale: number }; reference?: Map<string, Float32Array>; activations?: ActivationRounding } = {}): Promise<{ error: number; tokens: number[] }> {
  const llama = await sharedLlama();
  const model = await llama.loadModel({ modelPath: tiny.path, gpuLayers: 0 });
  opened.push(model);
  // F32 KV cache and no flash attention: llama.cpp's defaults keep K/V in f16, which alone costs ~3e-3.
  const context = await model.createContext({
    contextSize: 128,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    lora: opts.lora ? { adapters: [{ filePath: opts.lora.path, scale: opts.lora.scale }] } : undefined,
  });
  const tokens = model.tokenize(TEXT, false);
  const results = await context.getSequence().controlledEvaluate(tokens.map((t): [Token, { generateNext: { logits: true } }] => [t, { generateNext: { logits: true } }]));
  const reference = llamaForward(tiny, tokens as number[], opts.reference, opts.activations);
  let error = 0;
  results.forEach((r, pos) => {
    const logits = r?.next.logits;
    assert.ok(logits, `position ${pos} has logits`);
    assert.equal(logits.size, tiny.config.vocabSize);
    for (const [token, value] of logits) error = Math.max(error, Math.abs(value - reference[pos]![token]!));
  });
  await context.dispose();
  return { error, tokens: tokens as number[] };
}

async function tiny(name: string, opts: TinyLlamaOptions = {}): Promise<TinyLlama> {
  return writeTinyLlamaGguf(join(dir, `${name}.gguf`), opts);
}

test("F32 weights: llama.cpp's logits match the plain-TS forward pass within 2e-3", async () => {
  const { error, tokens } = await maxLogitError(await tiny("f32"));
  assert.ok(tokens.length >= 20, "the text spans many positions (RoPE and attention are exercised)");
  assert.ok(error < 2e-3, `max logit error ${error}`);
});

test("tied embeddings (no output.weight): llama.cpp projects with token_embd", async () => {
  const { error } = await maxLogitError(await tiny("tied", { tiedEmbeddings: true, seed: 2 }));
  assert.ok(error < 2e-3, `max logit error ${error}`);
});

test("K-quant embeddings: llama.cpp's rows equal Strata's Q4_K and Q6_K dequantization", async () => {
  for (const embeddingType of ["Q4_K", "Q6_K"] as const) {
    const { error } = await maxLogitError(await tiny(`emb-${embeddingType}`, { embeddingType, width: 256, heads: 8, kvHeads: 4, ffn: 256, seed: 4 }));
    assert.ok(error < 2e-3, `${embeddingType}: max logit error ${error}`);
  }
});

test("F16, Q8_0 and Q4_0 weights: close to the reference of their dequantized weights", async () => {
  // Measured: F16 1.9e-3 (4.7e-3 on another CPU: llama.cpp picks its SIMD path, and with it the
  // summation order, by CPU), Q8_0 1.2e-2, Q4_0 4.3e-2 (logits span ±4); without emulating the
  // activation rounding the errors are 2–6× larger. A wrong block layout would be off by whole units.
  for (const [weightType, activations, bound] of [["F16", "F16", 1e-2], ["Q8_0", "Q8_0", 0.03], ["Q4_0", "Q8_0", 0.1]] as const) {
    const model = await tiny(`q-${weightType}`, { weightType, seed: 5 });
    const { error } = await maxLogitError(model, { activations });
    assert.ok(error < bound, `${weightType}: max logit error ${error}`);
  }
});

test("a LoRA adapter: logits match the reference with W + scale·(alpha/r)·B·A merged in", async () => {
  const base = await tiny("lora-base", { seed: 6 });
  const lora = await writeTinyLoraGguf(join(dir, "lora.gguf"), base, { rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up", "ffn_down"] });
  const { error } = await maxLogitError(base, { lora: { path: lora.path, scale: 0.5 }, reference: mergeLora(base, lora, 0.5) });
  assert.ok(error < 2e-3, `max logit error with the adapter ${error}`);
  // And the adapter matters: the base weights' reference is far from llama.cpp's adapted logits.
  const { error: unmerged } = await maxLogitError(base, { lora: { path: lora.path, scale: 0.5 } });
  assert.ok(unmerged > 0.05, `the adapter changes the logits (by ${unmerged})`);
});
