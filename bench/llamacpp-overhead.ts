// What Strata's llama.cpp provider costs on top of node-llama-cpp: tokens/s generating the same
// answer through createLlamaCppLanguageModel and through node-llama-cpp's LlamaChat directly, on the
// same GGUF, in the same process, one llama.cpp thread each (the fastest setting on 2 cores).
//
//   node --import tsx bench/llamacpp-overhead.ts [--rounds 30] [--tokens 64]
//   npm run build && node dist/bench/llamacpp-overhead.js
//
// Models: "tiny" is the test model (2 layers, width 64) — per-token compute is so small that any
// per-call overhead shows; "small" (4 layers, width 256, FFN 768) is closer to real work per token.
// Each call is greedy, no repetition penalty, the same one-turn prompt; both paths keep the prompt's
// KV cache between calls. Calls alternate between the two paths so background load hits both alike.
// Two measures per call: wall tokens/s (generated tokens / wall time; median and best of the rounds)
// and CPU tokens/s (generated tokens / CPU time of the whole process during the call, all threads).
// The shared 2-core machine is often loaded by other work, which stretches wall time at random; CPU
// time counts only the work done, so it is the steadier measure of overhead. Goal: overhead ≤ 5%.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLlamaCppLanguageModel } from "../src/model/providers/llamacpp/index.js";
import { sharedLlama } from "../src/model/providers/llamacpp/runtime.js";
import { writeTinyLlamaGguf, type TinyLlamaOptions } from "../test/helpers/tiny-llama.js";
import { commandLine, describeMachine, fmt, machineInfo, note, now, printTable, round, writeJson } from "./lib.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "30" }, tokens: { type: "string", default: "64" } } });
const ROUNDS = Number(values.rounds);
const TOKENS = Number(values.tokens);
const PROMPT = "Tell me a long story about the sea and the wind.";
const THREADS = 1;
const CTX = 512;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Path {
  name: string;
  /** Generates once; returns the number of tokens generated. */
  run(): Promise<number>;
}

async function strataPath(modelPath: string): Promise<Path & { close(): Promise<void> }> {
  const lm = await createLlamaCppLanguageModel(`gguf:${modelPath}#threads=${THREADS}&ctx=${CTX}`);
  return {
    name: "strata provider",
    async run() {
      const r = await lm.generate({ messages: [{ role: "user", content: PROMPT }], maxTokens: TOKENS });
      return r.usage.outputTokens;
    },
    close: () => lm.close(),
  };
}

async function directPath(modelPath: string): Promise<Path & { close(): Promise<void> }> {
  const mod = await import("node-llama-cpp");
  const llama = await sharedLlama();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: CTX, threads: THREADS, sequences: 1 });
  const sequence = context.getSequence();
  const chat = new mod.LlamaChat({ contextSequence: sequence, chatWrapper: mod.resolveChatWrapper(model) });
  return {
    name: "node-llama-cpp direct",
    async run() {
      const before = sequence.tokenMeter.getState().usedOutputTokens;
      await chat.generateResponse([{ type: "user", text: PROMPT }], { maxTokens: TOKENS, temperature: 0, repeatPenalty: false });
      return sequence.tokenMeter.getState().usedOutputTokens - before;
    },
    async close() {
      chat.dispose();
      await context.dispose();
      await model.dispose();
    },
  };
}

async function measure(label: string, opts: TinyLlamaOptions, dir: string) {
  const path = join(dir, `${label}.gguf`);
  await writeTinyLlamaGguf(path, opts);
  const paths = [await strataPath(path), await directPath(path)];
  const wall: number[][] = paths.map(() => []);
  const cpu: number[][] = paths.map(() => []);
  const generated: number[][] = paths.map(() => []);
  for (let round = -3; round < ROUNDS; round++) {
    // Alternate which path goes first, so neither always runs on a warmer cache.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const c0 = process.cpuUsage();
      const t0 = now();
      const n = await paths[i]!.run();
      const ms = now() - t0;
      const c = process.cpuUsage(c0);
      if (round >= 0) {
        wall[i]!.push((n * 1000) / ms);
        cpu[i]!.push((n * 1e6) / (c.user + c.system));
        generated[i]!.push(n);
      }
    }
  }
  for (const p of paths) await p.close();
  const overhead = (ours: number, direct: number): number => round((direct / ours - 1) * 100, 1);
  const stat = (xs: number[]): { median: number; best: number } => ({ median: round(median(xs), 1), best: round(Math.max(...xs), 1) });
  const [oursWall, directWall, oursCpu, directCpu] = [stat(wall[0]!), stat(wall[1]!), stat(cpu[0]!), stat(cpu[1]!)];
  note(`${label}: tokens per call ${median(generated[0]!)} (strata) / ${median(generated[1]!)} (direct)`);
  return {
    model: label,
    config: opts,
    tokensPerCall: median(generated[0]!),
    strata: { wall: oursWall, cpu: oursCpu },
    direct: { wall: directWall, cpu: directCpu },
    overheadPercent: {
      wallMedian: overhead(oursWall.median, directWall.median),
      wallBest: overhead(oursWall.best, directWall.best),
      cpuMedian: overhead(oursCpu.median, directCpu.median),
      cpuBest: overhead(oursCpu.best, directCpu.best),
    },
    runs: { strataWall: wall[0]!.map((x) => round(x, 1)), directWall: wall[1]!.map((x) => round(x, 1)), strataCpu: cpu[0]!.map((x) => round(x, 1)), directCpu: cpu[1]!.map((x) => round(x, 1)) },
  };
}

const machine = machineInfo();
const dir = mkdtempSync(join(tmpdir(), "strata-bench-llamacpp-"));
try {
  const results = [
    await measure("tiny", { seed: 1 }, dir),
    await measure("small", { seed: 1, layers: 4, width: 256, heads: 8, kvHeads: 4, ffn: 768 }, dir),
  ];
  process.stdout.write(`\nllama.cpp provider overhead — ${describeMachine(machine)}\n${commandLine()}\n${ROUNDS} rounds, ${TOKENS} tokens per call, ${THREADS} thread; tokens/s\n\n`);
  type R = Awaited<ReturnType<typeof measure>>;
  const md = printTable(
    ["model", "measure", "strata", "direct", "overhead"],
    results.flatMap((r: R) => [
      [r.model, "wall, median", fmt(r.strata.wall.median, 0), fmt(r.direct.wall.median, 0), `${fmt(r.overheadPercent.wallMedian, 1)}%`],
      [r.model, "wall, best", fmt(r.strata.wall.best, 0), fmt(r.direct.wall.best, 0), `${fmt(r.overheadPercent.wallBest, 1)}%`],
      [r.model, "CPU, median", fmt(r.strata.cpu.median, 0), fmt(r.direct.cpu.median, 0), `${fmt(r.overheadPercent.cpuMedian, 1)}%`],
      [r.model, "CPU, best", fmt(r.strata.cpu.best, 0), fmt(r.direct.cpu.best, 0), `${fmt(r.overheadPercent.cpuBest, 1)}%`],
    ]),
  );
  const file = writeJson("llamacpp-overhead", { machine, command: commandLine(), rounds: ROUNDS, tokens: TOKENS, threads: THREADS, results });
  process.stdout.write(`\n${md}\n\nwrote ${file}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
