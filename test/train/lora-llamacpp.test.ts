// LoRA adapters in llama.cpp (through node-llama-cpp): a base pretrained by the engine is exported
// to GGUF, fine-tuned with LoRA from that GGUF, and the adapter exported with `strata export lora`'s
// writer. llama.cpp with base + adapter must give the engine's logits (the builtin: run, adapter
// unmerged) within 1e-3 at every position (F32), the merged GGUF the same greedy tokens, and a Q8_0
// base + the same adapter must load and stay close. An adapter for another base is refused.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LlamaModel, Token } from "node-llama-cpp";
import { readCheckpoint } from "../../src/formats/checkpoint.js";
import { exportLlamaGguf, exportLoraGguf, readGgufHeader } from "../../src/formats/gguf/index.js";
import { loadBuiltinParts } from "../../src/model/providers/builtin/load.js";
import { sharedLlama } from "../../src/model/providers/llamacpp/runtime.js";
import { createLanguageModel } from "../../src/model/registry.js";
import { Llama, loadLora } from "../../src/nn/index.js";
import { noGrad } from "../../src/tensor/index.js";
import { finetune, pretrain } from "../../src/train/index.js";
import { isStrataError } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";
import { writeText } from "./helpers.js";

const dir = tempDir("strata-lora-cpp-");
const opened: LlamaModel[] = [];
const SHAPE = { dim: 32, layers: 2, heads: 2, kvHeads: 1, ffnDim: 64, maxSeq: 64, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };
let baseGguf: string;
let baseQ8: string;
let loraRun: string;
let adapterGguf: string;
let tokens: number[];

before(async () => {
  const baseRun = join(dir, "base");
  await pretrain({ runDir: baseRun, data: [writeText(dir, "t.txt", 6000, 5)], model: SHAPE, train: { steps: 60, batchSize: 8, blockSize: 48, lr: 1e-2, minLr: 1e-3, warmupSteps: 0, evalInterval: 60, evalBatches: 1, checkpointInterval: 60, seed: 2 }, chart: false });
  const ck = await readCheckpoint(baseRun);
  baseGguf = join(dir, "base.gguf");
  baseQ8 = join(dir, "base-q8.gguf");
  await exportLlamaGguf(baseGguf, { config: ck.run.model, stateDict: ck.stateDict, tokenizer: ck.tokenizer, name: "base" });
  await exportLlamaGguf(baseQ8, { config: ck.run.model, stateDict: ck.stateDict, tokenizer: ck.tokenizer, quant: "q8_0", name: "base" });
  const data = join(dir, "sft.jsonl");
  writeFileSync(data, ["cat", "dog", "sun", "owl", "fig", "ant"].map((w) => JSON.stringify({ prompt: w, completion: [...w].reverse().join("") })).join("\n") + "\n");
  loraRun = join(dir, "lora");
  await finetune({ runDir: loraRun, objective: "sft", base: `gguf:${baseGguf}`, data, method: "lora", lora: { rank: 4, alpha: 8, dropout: 0 }, train: { steps: 15, batchSize: 2, blockSize: 48, lr: 3e-2, minLr: 3e-3, evalInterval: 15, evalBatches: 1 }, chart: false });
  const lk = await readCheckpoint(loraRun);
  adapterGguf = join(dir, "adapter.gguf");
  await exportLoraGguf(adapterGguf, { config: lk.run.model, adapter: lk.adapter!.tensors, alpha: Number(lk.adapter!.metadata["lora.alpha"]) });
  tokens = lk.tokenizer.applyChatTemplate([{ role: "user", content: "cat" }], { addGenerationPrompt: true });
});

after(async () => {
  for (const m of opened) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function llamaCppLogits(model: string, adapter: string | null, ids: number[], vocab: number): Promise<Float32Array> {
  const m = await (await sharedLlama()).loadModel({ modelPath: model, gpuLayers: 0 });
  opened.push(m);
  const context = await m.createContext({ contextSize: 64, threads: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32", ...(adapter ? { lora: { adapters: [{ filePath: adapter, scale: 1 }] } } : {}) });
  try {
    const results = await context.getSequence().controlledEvaluate(ids.map((t): [Token, { generateNext: { logits: true } }] => [t as Token, { generateNext: { logits: true } }]));
    const out = new Float32Array(ids.length * vocab);
    results.forEach((r, pos) => {
      for (const [token, value] of r!.next.logits!) out[pos * vocab + token] = value;
    });
    return out;
  } finally {
    await context.dispose();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const engineLogits = (model: Llama, ids: number[]): Float32Array => noGrad(() => Float32Array.from(model.forward(ids, [1, ids.length]).logits.contiguousData()));
const greedy = (next: (ids: number[]) => Float32Array, ids: number[], n: number, V: number): number[] => {
  const seq = [...ids];
  for (let i = 0; i < n; i++) {
    const l = next(seq).subarray((seq.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (l[v]! > l[best]!) best = v;
    seq.push(best);
  }
  return seq.slice(ids.length);
};

describe("LoRA adapters in llama.cpp", () => {
  test("the adapter GGUF has llama.cpp's keys and tensor layout", async () => {
    const h = await readGgufHeader(adapterGguf);
    assert.equal(h.metadata.get("general.type")?.value, "adapter");
    assert.equal(h.metadata.get("adapter.type")?.value, "lora");
    assert.equal(h.metadata.get("adapter.lora.alpha")?.value, 8);
    const a = h.tensors.find((t) => t.name === "blk.0.ffn_down.weight.lora_a")!;
    const b = h.tensors.find((t) => t.name === "blk.0.ffn_down.weight.lora_b")!;
    assert.deepEqual(a.dims, [64, 4]); // ne [in, r]
    assert.deepEqual(b.dims, [4, 32]); // ne [r, out]
    assert.equal(h.tensors.length, 2 * 7 * 2);
  });

  test("F32 base + adapter in llama.cpp = the engine's builtin: LoRA run within 1e-3; the adapter matters", async () => {
    const parts = await loadBuiltinParts(loraRun);
    const V = parts.model.config.vocab;
    const withAdapter = engineLogits(parts.model, tokens);
    const cpp = await llamaCppLogits(baseGguf, adapterGguf, tokens, V);
    const err = maxDiff(cpp, withAdapter);
    assert.ok(err < 1e-3, `max logit error ${err}`);
    const base = await loadBuiltinParts(baseGguf);
    const effect = maxDiff(engineLogits(base.model, tokens), withAdapter);
    assert.ok(effect > 50 * 1e-3, `the adapter changes the logits by ${effect}`);
  });

  test("the merged GGUF gives the same greedy tokens in llama.cpp as the engine with the adapter unmerged", async () => {
    const lk = await readCheckpoint(loraRun);
    const model = new Llama(lk.run.model, { seed: 0 });
    model.loadStateDict(lk.stateDict);
    const merged = loadLora(model, lk.adapter!.tensors, 8).mergedStateDict(lk.stateDict);
    const path = join(dir, "merged.gguf");
    await exportLlamaGguf(path, { config: lk.run.model, stateDict: merged, tokenizer: lk.tokenizer, name: "merged" });
    const V = lk.run.model.vocab;
    const m = await (await sharedLlama()).loadModel({ modelPath: path, gpuLayers: 0 });
    opened.push(m);
    const ctx = await m.createContext({ contextSize: 64, threads: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
    const cpp: number[] = [];
    for await (const t of ctx.getSequence().evaluate(tokens as Token[], { temperature: 0 })) {
      cpp.push(t);
      if (cpp.length >= 12) break;
    }
    await ctx.dispose();
    assert.deepEqual(cpp, greedy((ids) => engineLogits(model, ids), tokens, 12, V));
  });

  test("a Q8_0 base exported by the engine + the same adapter loads and stays close", async () => {
    const parts = await loadBuiltinParts(loraRun);
    const V = parts.model.config.vocab;
    const err = maxDiff(await llamaCppLogits(baseQ8, adapterGguf, tokens, V), engineLogits(parts.model, tokens));
    assert.ok(err < 0.1, `max logit error ${err}`);
  });

  test("an adapter for another base is refused with the tensor that does not fit", async () => {
    const otherRun = join(dir, "other");
    await pretrain({ runDir: otherRun, data: [writeText(dir, "o.txt", 3000, 9)], model: { ...SHAPE, dim: 64, ffnDim: 128 }, train: { steps: 1, batchSize: 2, blockSize: 16, warmupSteps: 0, evalInterval: 1, evalBatches: 1, checkpointInterval: 1 }, chart: false });
    const ok = await readCheckpoint(otherRun);
    const other = join(dir, "other.gguf");
    await exportLlamaGguf(other, { config: ok.run.model, stateDict: ok.stateDict, tokenizer: ok.tokenizer });
    await assert.rejects(createLanguageModel(`gguf:${other}#lora=${adapterGguf}&threads=1`), isStrataError("USAGE", /do not fit the base weight/, /adapter trained for this base/));
  });
});
