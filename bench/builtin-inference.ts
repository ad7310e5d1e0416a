// Generation speed of Strata's own engine (the builtin: provider's LlamaInference: KV cache, OpenBLAS
// fast path) against llama.cpp (node-llama-cpp 3.22.1) on the same GGUF file, in the same process:
// the model is exported once as F32 with `exportLlamaGguf`, imported back into the engine with
// `importLlamaGguf` (so both run exactly the file's weights), and both generate the same number of
// greedy tokens from the same prompt. The token sequences are compared too.
//
//   node --import tsx bench/builtin-inference.ts [--rounds 10] [--tokens 128] [--models tiny,small,medium] [--threads 1,2] [--budget 60]
//   npm run build && node dist/bench/builtin-inference.js
//
// One generation = prompt processing (one batch) + `tokens` decode steps, timed from the prompt to
// the last token, each engine starting from an empty KV cache. Tokens/s = generated tokens / that
// wall time ("CPU" divides by the process's CPU time instead, which background load on the shared
// machine disturbs less). Rounds alternate the engines after one warm-up; 1 and 2 threads each
// (Strata: setThreads for its native pool and OpenBLAS; llama.cpp: the context's threads). A
// (model, threads) pair stops starting rounds after --budget seconds (at least 2 rounds), because
// llama.cpp with 2 threads on this loaded 2-core machine can take seconds per generation.
// Weights are random (seeded) but scaled like a trained model's (embeddings std 1, projections
// std 0.15), so logits spread over several units and greedy choices are not near-ties; the seed is
// the first whose greedy continuation meets no special token (llama.cpp ends at end-of-generation).

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Token } from "node-llama-cpp";
import { exportLlamaGguf, importLlamaGguf } from "../src/formats/gguf/index.js";
import { LlamaInference, llamaFromStateDict } from "../src/model/providers/builtin/index.js";
import { sharedLlama } from "../src/model/providers/llamacpp/runtime.js";
import { argmax } from "../src/model/sampling.js";
import { Llama, type LlamaConfig, countParameters } from "../src/nn/index.js";
import { backendInfo, setThreads } from "../src/tensor/index.js";
import { trainTokenizerFromTexts } from "../src/tokenizer/index.js";
import { commandLine, describeMachine, fmt, machineInfo, note, now, printTable, ratio, repoRoot, round, writeJson } from "./lib.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "10" },
    tokens: { type: "string", default: "128" },
    models: { type: "string", default: "tiny,small,medium" },
    threads: { type: "string", default: "1,2" },
    budget: { type: "string", default: "60" },
  },
});
const ROUNDS = Number(values.rounds);
const TOKENS = Number(values.tokens);
const THREADS = values.threads.split(",").map(Number);
/** Seconds per (model, threads) pair after which no further round starts (at least 2 are measured). */
const BUDGET_S = Number(values.budget);
const VOCAB = 512;

const MODELS: Record<string, Omit<LlamaConfig, "vocab">> = {
  tiny: { dim: 64, layers: 2, heads: 4, kvHeads: 2, ffnDim: 128, maxSeq: 512, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false },
  small: { dim: 256, layers: 4, heads: 8, kvHeads: 4, ffnDim: 768, maxSeq: 512, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false },
  medium: { dim: 512, layers: 8, heads: 8, kvHeads: 4, ffnDim: 1536, maxSeq: 512, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false },
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function corpus(): string {
  const file = resolve(repoRoot(), "..", "shared", "data", "tinyshakespeare", "input.txt");
  if (existsSync(file)) return readFileSync(file, "utf8").slice(0, 200_000);
  note(`${file} is missing; training the tokenizer on a short built-in text instead`);
  return "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer\n".repeat(500);
}

interface Engine {
  name: string;
  /** Generates TOKENS greedy tokens after the prompt from an empty cache; returns them. */
  run(prompt: number[]): Promise<number[]>;
  close(): Promise<void>;
}

function strataEngine(inference: LlamaInference, threads: number): Engine {
  return {
    name: "strata",
    async run(prompt) {
      setThreads(threads);
      inference.reset();
      const out: number[] = [];
      let logits = inference.prefill(prompt);
      for (let i = 0; i < TOKENS; i++) {
        const id = argmax(logits);
        out.push(id);
        if (i + 1 < TOKENS) logits = inference.step(id);
      }
      return out;
    },
    async close() {
      inference.release();
    },
  };
}

async function llamaCppEngine(path: string, threads: number): Promise<Engine> {
  const model = await (await sharedLlama()).loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 512, threads, sequences: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
  const sequence = context.getSequence();
  return {
    name: "llama.cpp",
    async run(prompt) {
      await sequence.clearHistory();
      const out: number[] = [];
      for await (const t of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
        out.push(t);
        if (out.length >= TOKENS) break;
      }
      return out;
    },
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}

function scaledRandomModel(config: LlamaConfig, seed: number): Llama {
  const model = new Llama(config, { seed });
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith("norm.weight")) continue;
    const k = name === "tok_embeddings.weight" ? 50 : 7.5; // std 0.02 → 1 and → 0.15
    for (let i = 0; i < p.data.length; i++) p.data[i] = p.data[i]! * k;
  }
  return model;
}

async function measure(label: string, dir: string, text: string, tokenizer: Awaited<ReturnType<typeof trainTokenizerFromTexts>>["tokenizer"]) {
  const config: LlamaConfig = { ...MODELS[label]!, vocab: tokenizer.vocabSize };
  const path = join(dir, `${label}.gguf`);
  const prompt = tokenizer.encode(text.slice(0, 400), { addBos: true }).slice(0, 48);
  // The first weight seed whose greedy continuation holds no special token: an end-of-generation
  // token would end llama.cpp's generation early (and a real one stops there anyway).
  let seed = 1;
  let source = scaledRandomModel(config, seed);
  while (seed < 50 && (await strataEngine(new LlamaInference(source, { contextLength: 512 }), 1).run(prompt)).some((id) => tokenizer.isSpecial(id))) {
    source = scaledRandomModel(config, ++seed);
  }
  await exportLlamaGguf(path, { config, stateDict: source.stateDict({ copy: false }), tokenizer, quant: "f32", name: `bench-${label}` });
  const imported = await importLlamaGguf(path);
  const inference = new LlamaInference(llamaFromStateDict(imported.config, imported.stateDict), { contextLength: 512 });
  const rows = [];
  for (const threads of THREADS) {
    const engines = [strataEngine(inference, threads), await llamaCppEngine(path, threads)];
    const wall: number[][] = [[], []];
    const cpu: number[][] = [[], []];
    const outputs: number[][] = [[], []];
    const startedAt = now();
    for (let r = -1; r < ROUNDS; r++) {
      if (r >= 2 && now() - startedAt > BUDGET_S * 1000) break;
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const c0 = process.cpuUsage();
        const t0 = now();
        const out = await engines[i]!.run(prompt);
        const ms = now() - t0;
        const c = process.cpuUsage(c0);
        if (r >= 0) {
          wall[i]!.push((out.length * 1000) / ms);
          cpu[i]!.push((out.length * 1e6) / (c.user + c.system));
        } else outputs[i] = out;
      }
    }
    for (const e of engines) await e.close();
    let same = 0;
    while (same < TOKENS && outputs[0]![same] === outputs[1]![same]) same++;
    const stat = (xs: number[]) => ({ median: round(median(xs), 1), best: round(Math.max(...xs), 1) });
    rows.push({ threads, rounds: wall[0]!.length, strata: { wall: stat(wall[0]!), cpu: stat(cpu[0]!) }, llamacpp: { wall: stat(wall[1]!), cpu: stat(cpu[1]!) }, sameGreedyTokens: same, runs: { strataWall: wall[0]!.map((x) => round(x, 1)), llamacppWall: wall[1]!.map((x) => round(x, 1)) } });
    note(`${label}, ${threads} thread(s): strata ${fmt(median(wall[0]!))} tokens/s, llama.cpp ${fmt(median(wall[1]!))} tokens/s; greedy tokens identical for ${same}/${TOKENS}`);
  }
  return { model: label, config, seed, parameters: countParameters(config), promptTokens: prompt.length, rows };
}

const machine = machineInfo();
const dir = mkdtempSync(join(tmpdir(), "strata-bench-builtin-"));
try {
  const text = corpus();
  const { tokenizer } = await trainTokenizerFromTexts([text], { vocabSize: VOCAB, whenDataRunsOut: "stop" });
  const labels = values.models.split(",").map((s) => s.trim()).filter((s) => s in MODELS);
  const results = [];
  for (const label of labels) results.push(await measure(label, dir, text, tokenizer));
  process.stdout.write(`\nbuiltin engine vs llama.cpp, greedy generation — ${describeMachine(machine)}\n${commandLine()}\n`);
  process.stdout.write(`up to ${ROUNDS} rounds, prompt ${results[0]?.promptTokens} tokens + ${TOKENS} generated, F32 GGUF, tokens/s (wall: median / best; CPU: median); backend ${backendInfo().active}\n\n`);
  const md = printTable(
    ["model", "params", "threads", "rounds", "strata wall", "llama.cpp wall", "strata / llama.cpp", "strata CPU", "llama.cpp CPU", "same greedy tokens"],
    results.flatMap((r) =>
      r.rows.map((x) => [
        r.model,
        fmt(r.parameters),
        String(x.threads),
        String(x.rounds),
        `${fmt(x.strata.wall.median)} / ${fmt(x.strata.wall.best)}`,
        `${fmt(x.llamacpp.wall.median)} / ${fmt(x.llamacpp.wall.best)}`,
        ratio(x.strata.wall.median, x.llamacpp.wall.median),
        fmt(x.strata.cpu.median),
        fmt(x.llamacpp.cpu.median),
        `${x.sameGreedyTokens}/${TOKENS}`,
      ]),
    ),
  );
  const file = writeJson("builtin-inference", { machine, command: commandLine(), rounds: ROUNDS, tokens: TOKENS, backend: backendInfo(), results });
  process.stdout.write(`\n${md}\n\nwrote ${file}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
