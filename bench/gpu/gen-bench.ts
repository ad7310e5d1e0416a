// Generation speed: Strata's builtin engine on the GPU (GpuLlamaInference: weights and KV cache in
// GPU buffers, one row of logits read back per token) against llama.cpp on the CPU (node-llama-cpp's
// CPU prebuilt, all cores) for the same F32 GGUF: a random-weight llama of GPT-2-small width
// (768, 12 layers, 12 heads) with a 512-token BPE vocabulary trained on a built-in text, exported by
// exportLlamaGguf and imported back, so both engines run exactly the file's weights. Each engine
// processes the same 128-token prompt, then generates 128 greedy tokens; prompt time and decode
// tokens/s are reported, and the greedy tokens are compared.
//
// Usage: node --import tsx bench/gpu/gen-bench.ts [out.json]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportLlamaGguf, importLlamaGguf } from "../../src/formats/gguf/index.js";
import { GpuLlamaInference } from "../../src/model/providers/builtin/gpu-engine.js";
import { llamaFromStateDict } from "../../src/model/providers/builtin/index.js";
import { argmax } from "../../src/model/sampling.js";
import { Llama, type LlamaConfig, countParameters } from "../../src/nn/index.js";
import { trainTokenizerFromTexts } from "../../src/tokenizer/index.js";
import { openGpuContext } from "../../src/train/gpu/index.js";

const OUT = process.argv[2] ?? "bench/out/gpu-gen.json";
const PROMPT = 128;
const TOKENS = 128;
const TEXT = "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer the slings and arrows of outrageous fortune, or to take arms against a sea of troubles.\n".repeat(300);

const { tokenizer } = await trainTokenizerFromTexts([TEXT], { vocabSize: 512, whenDataRunsOut: "stop" });
const config: LlamaConfig = { vocab: tokenizer.vocabSize, dim: 768, layers: 12, heads: 12, kvHeads: 12, ffnDim: 2048, maxSeq: 1024, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };
const source = new Llama(config, { seed: 1 });
for (const [name, p] of source.namedParameters()) {
  if (name.endsWith("norm.weight")) continue;
  const k = name === "tok_embeddings.weight" ? 50 : 7.5; // spread logits like a trained model's (see bench/builtin-inference.ts)
  for (let i = 0; i < p.data.length; i++) p.data[i] = p.data[i]! * k;
}
const dir = mkdtempSync(join(tmpdir(), "strata-gpu-gen-"));
const result: Record<string, unknown> = { config, parameters: countParameters(config), promptTokens: PROMPT, generatedTokens: TOKENS };
const save = (): void => writeFileSync(OUT, JSON.stringify(result, null, 2));
try {
  const path = join(dir, "model.gguf");
  await exportLlamaGguf(path, { config, stateDict: source.stateDict({ copy: false }), tokenizer, quant: "f32", name: "gpu-gen-bench" });
  const imported = await importLlamaGguf(path);
  const prompt = tokenizer.encode(TEXT, { addBos: true }).slice(0, PROMPT);

  // Strata on the GPU
  const ctx = await openGpuContext(process.env);
  result.adapter = ctx.description;
  const engine = new GpuLlamaInference(llamaFromStateDict(imported.config, imported.stateDict), ctx, { contextLength: 1024, ownsContext: true });
  const generate = async (): Promise<{ tokens: number[]; promptMs: number; decodeMs: number }> => {
    engine.reset();
    const t0 = performance.now();
    let logits = await engine.prefill(prompt);
    const t1 = performance.now();
    const tokens: number[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const id = argmax(logits);
      tokens.push(id);
      if (i + 1 < TOKENS) logits = await engine.step(id);
    }
    return { tokens, promptMs: t1 - t0, decodeMs: performance.now() - t1 };
  };
  await generate(); // warm-up: pipelines compile
  const runs = [await generate(), await generate(), await generate()];
  engine.release();
  const best = runs.reduce((a, b) => (a.decodeMs < b.decodeMs ? a : b));
  result.strataGpu = { promptMs: Math.round(best.promptMs), decodeTokensPerSecond: Math.round((TOKENS * 1000) / best.decodeMs), runs: runs.map((r) => ({ promptMs: Math.round(r.promptMs), decodeMs: Math.round(r.decodeMs) })) };
  console.log(`strata GPU: prompt ${Math.round(best.promptMs)} ms, ${Math.round((TOKENS * 1000) / best.decodeMs)} tokens/s`);
  save();

  // llama.cpp on the CPU (the reference), when node-llama-cpp and its CPU prebuilt are present
  try {
    const name = "node-llama-cpp";
    const mod = (await import(name)) as typeof import("node-llama-cpp");
    const llama = await mod.getLlama({ gpu: false, build: "never", logLevel: mod.LlamaLogLevel.warn });
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    const context = await model.createContext({ contextSize: 1024, sequences: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
    const sequence = context.getSequence();
    const once = async (): Promise<{ tokens: number[]; ms: number; firstMs: number }> => {
      await sequence.clearHistory();
      const tokens: number[] = [];
      const t0 = performance.now();
      let firstMs = 0;
      for await (const t of sequence.evaluate(prompt as never, { temperature: 0 })) {
        if (tokens.length === 0) firstMs = performance.now() - t0;
        tokens.push(t);
        if (tokens.length >= TOKENS) break;
      }
      return { tokens, ms: performance.now() - t0, firstMs };
    };
    await once();
    const l = [await once(), await once()].reduce((a, b) => (a.ms < b.ms ? a : b));
    let same = 0;
    while (same < TOKENS && l.tokens[same] === best.tokens[same]) same++;
    result.llamaCppCpu = { threads: llama.cpuMathCores, promptMs: Math.round(l.firstMs), decodeTokensPerSecond: Math.round(((TOKENS - 1) * 1000) / (l.ms - l.firstMs)), sameGreedyTokens: same };
    console.log(`llama.cpp CPU: prompt ${Math.round(l.firstMs)} ms, ${Math.round(((TOKENS - 1) * 1000) / (l.ms - l.firstMs))} tokens/s; greedy tokens identical for ${same}/${TOKENS}`);
    await context.dispose();
    await model.dispose();
  } catch (e) {
    result.llamaCppCpu = { unavailable: e instanceof Error ? e.message.split("\n")[0] : String(e) };
    console.log(`llama.cpp CPU reference unavailable: ${String((result.llamaCppCpu as { unavailable: string }).unavailable)}`);
  }
  save();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
