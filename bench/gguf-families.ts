// Strata's engine against llama.cpp on GGUF files shaped like the small models people run —
// SmolLM2-135M (llama, 30 layers, width 576, 9/3 heads, FFN 1536, tied, vocabulary 49,152) and
// Qwen2.5-0.5B (qwen2, 24 layers, width 896, 14/2 heads, FFN 4864, Q/K/V biases, tied, vocabulary
// 151,936) — as F32 and Q8_0 files with random weights (test/helpers/gguf-families.ts writes them
// with the families' metadata and tokenizers). Greedy tokens/s with ONE thread each, in the same
// process, rounds alternating; and tokenizer throughput (MB/s) of each vocabulary on the same text.
//
//   node --import tsx bench/gguf-families.ts [--tokens 32] [--rounds 2] [--models smollm2-135m,qwen2.5-0.5b] [--types F32,Q8_0]
//
// One generation = the prompt in one batch + `tokens` greedy tokens from an empty cache (llama.cpp
// first; Strata then generates as many as llama.cpp did, which stops early at an end-of-generation
// token). Strata decodes Q8_0 files on their blocks (an int8 kernel, decision 0022) and runs the
// prompt through sgemm on the float32 weights it also keeps.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LlamaModel, Token } from "node-llama-cpp";
import type { EncodableType } from "../src/formats/gguf/index.js";
import { LlamaInference, loadBuiltinParts } from "../src/model/providers/builtin/index.js";
import { sharedLlama } from "../src/model/providers/llamacpp/runtime.js";
import { argmax } from "../src/model/sampling.js";
import { countParameters } from "../src/nn/index.js";
import { backendInfo, setThreads } from "../src/tensor/index.js";
import { VocabTokenizer } from "../src/tokenizer/index.js";
import { MIXED_CORPUS, writeFamilyGguf, type Family, type FamilyShape } from "../test/helpers/gguf-families.js";
import { commandLine, describeMachine, fmt, loadNow, machineInfo, note, now, printTable, ratio, writeJson } from "./lib.js";

const { values } = parseArgs({
  options: {
    tokens: { type: "string", default: "32" },
    rounds: { type: "string", default: "2" },
    models: { type: "string", default: "smollm2-135m,qwen2.5-0.5b" },
    types: { type: "string", default: "F32,Q8_0" },
  },
});
const TOKENS = Number(values.tokens);
const ROUNDS = Number(values.rounds);

const MODELS: Record<string, { family: Family; shape: Partial<FamilyShape>; vocab: number }> = {
  "smollm2-135m": { family: "smollm2", shape: { dim: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, context: 2048, ropeBase: 100000 }, vocab: 49152 },
  "qwen2.5-0.5b": { family: "qwen2.5", shape: { dim: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864, context: 2048, ropeBase: 1000000 }, vocab: 151936 },
};

const CONTEXT = { contextSize: 256, threads: 1, sequences: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" } as const;

async function theirGreedy(model: LlamaModel, prompt: number[]): Promise<{ ids: number[]; ms: number }> {
  const ctx = await model.createContext(CONTEXT);
  try {
    const seq = ctx.getSequence();
    const t0 = now();
    const ids: number[] = [];
    for await (const t of seq.evaluate(prompt as Token[], { temperature: 0 })) {
      ids.push(t);
      if (ids.length >= TOKENS) break;
    }
    return { ids, ms: now() - t0 };
  } finally {
    await ctx.dispose();
  }
}

function ourGreedy(engine: LlamaInference, prompt: number[], n: number): { ids: number[]; ms: number } {
  setThreads(1);
  engine.reset();
  const t0 = now();
  const ids: number[] = [];
  let logits = engine.prefill(prompt);
  for (let i = 0; i < n; i++) {
    const id = argmax(logits);
    ids.push(id);
    if (i + 1 < n) logits = engine.step(id);
  }
  return { ids, ms: now() - t0 };
}

function tokenizerRate(fn: (text: string) => unknown, text: string): number {
  fn(text.slice(0, 2000)); // warm-up
  const t0 = now();
  let n = 0;
  while (now() - t0 < 1500) {
    fn(text);
    n++;
  }
  return (n * Buffer.byteLength(text)) / 1e6 / ((now() - t0) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), "strata-bench-gguf-"));
const machine = machineInfo();
const rows: string[][] = [];
const tokRows: string[][] = [];
const results: unknown[] = [];
try {
  for (const name of values.models.split(",")) {
    const m = MODELS[name]!;
    for (const type of values.types.split(",") as EncodableType[]) {
      note(`${name} ${type}: writing the file`);
      const file = await writeFamilyGguf(join(dir, `${name}-${type}.gguf`), m.family, { type, shape: m.shape, vocabSize: m.vocab, seed: 3 });
      const parts = await loadBuiltinParts(file.path);
      const tok = parts.tokenizer as VocabTokenizer;
      const engine = new LlamaInference(parts.model, { contextLength: 256 });
      const theirs = await (await sharedLlama()).loadModel({ modelPath: file.path, gpuLayers: 0 });
      const prompt = tok.encode(MIXED_CORPUS[0]!, { addBos: tok.addBosToken }).slice(0, 32);
      const ours: number[] = [];
      const their: number[] = [];
      let same = "";
      await theirGreedy(theirs, prompt.slice(0, 4)); // warm-up
      for (let r = 0; r < ROUNDS; r++) {
        const t = await theirGreedy(theirs, prompt);
        const o = ourGreedy(engine, prompt, t.ids.length);
        their.push((t.ids.length / t.ms) * 1000);
        ours.push((o.ids.length / o.ms) * 1000);
        same = `${o.ids.filter((id, i) => id === t.ids[i]).length}/${t.ids.length}`;
      }
      if (type === values.types.split(",")[0]) {
        const text = MIXED_CORPUS.join("\n").repeat(40);
        const a = tokenizerRate((s) => tok.encode(s), text);
        const b = tokenizerRate((s) => theirs.tokenize(s, false), text);
        tokRows.push([name, tok.kind, fmt(a, 2), fmt(b, 2), ratio(a, b)]);
        results.push({ kind: "tokenizer", model: name, strataMBps: a, llamaCppMBps: b });
      }
      const best = (xs: number[]): number => Math.max(...xs);
      const params = countParameters(parts.model.config);
      rows.push([name, type, fmt(params), fmt(statSync(file.path).size / 2 ** 20), String(ROUNDS), fmt(best(ours), 1), fmt(best(their), 1), ratio(best(ours), best(their)), same, fmt(loadNow(), 1)]);
      results.push({ kind: "generate", model: name, type, params, strataTokPerS: ours, llamaCppTokPerS: their, sameGreedy: same, load: loadNow() });
      engine.release();
      await theirs.dispose();
      rmSync(file.path);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n${commandLine()}\n${describeMachine(machine)}; backend ${backendInfo().active}\n`);
printTable(["model", "file", "params", "MiB", "rounds", "Strata tok/s (best)", "llama.cpp tok/s (best)", "Strata / llama.cpp", "same greedy", "load"], rows);
console.log("");
printTable(["vocabulary", "tokenizer", "Strata MB/s", "llama.cpp MB/s", "ratio"], tokRows);
writeJson("gguf-families", { machine, results });
