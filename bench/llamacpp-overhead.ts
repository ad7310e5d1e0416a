// What Strata's llama.cpp provider costs on top of node-llama-cpp: tokens/s generating the same
// answer through createLlamaCppLanguageModel and through node-llama-cpp's LlamaChat directly, on the
// same GGUF, in the same process, one llama.cpp thread each (the fastest setting on 2 cores).
//
//   node --import tsx bench/llamacpp-overhead.ts [--rounds 30] [--tokens 64] [--models tiny,small,recipe]
//   npm run build && node dist/bench/llamacpp-overhead.js
//
// "recipe" is the size of the tiny training recipe's export (4 layers, width 128, Q8_0, ≈ 1 MB) and
// runs Strata's side with no thread setting at all, as `strata generate --model gguf:…` does, plus
// the CLI itself (`strata generate --json`, its tokens/s) against node-llama-cpp's LlamaCompletion:
// the path where a 2-thread default once made gguf: 300× slower than llama.cpp called directly.
//
// Models: "tiny" is the test model (2 layers, width 64) — per-token compute is so small that any
// per-call overhead shows; "small" (4 layers, width 256, FFN 768) is closer to real work per token.
// Each call is greedy, no repetition penalty, the same one-turn prompt; both paths keep the prompt's
// KV cache between calls. Calls alternate between the two paths so background load hits both alike.
// Two measures per call: wall tokens/s (generated tokens / wall time; median and best of the rounds)
// and CPU tokens/s (generated tokens / CPU time of the whole process during the call, all threads).
// The shared 2-core machine is often loaded by other work, which stretches wall time at random; CPU
// time counts only the work done, so it is the steadier measure of overhead. Goal: overhead ≤ 5%.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLlamaCppLanguageModel } from "../src/model/providers/llamacpp/index.js";
import { sharedLlama } from "../src/model/providers/llamacpp/runtime.js";
import { writeTinyLlamaGguf, type TinyLlamaOptions } from "../test/helpers/tiny-llama.js";
import { commandLine, describeMachine, fmt, machineInfo, loadNow, note, now, printTable, repoRoot, round, writeJson } from "./lib.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "30" }, tokens: { type: "string", default: "64" }, models: { type: "string", default: "tiny,small,recipe" } } });
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

/** `threads` undefined: the provider's own default, as the CLI gets it. */
async function strataPath(modelPath: string, threads: number | undefined = THREADS): Promise<Path & { close(): Promise<void> }> {
  const lm = await createLlamaCppLanguageModel(`gguf:${modelPath}#ctx=${CTX}${threads === undefined ? "" : `&threads=${threads}`}`);
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

/** `strata generate --json` in a child process (raw continuation); its own tokens/s, loading excluded. */
function cliPath(modelPath: string): Path & { close(): Promise<void> } {
  const cli = join(repoRoot(), "dist", "src", "cli", "main.js");
  return {
    name: "strata generate (CLI)",
    async run() {
      const r = spawnSync(process.execPath, [cli, "generate", "--model", `gguf:${modelPath}`, COMPLETION_PROMPT, "--max-tokens", String(TOKENS), "--json"], { encoding: "utf8", env: { ...process.env, STRATA_THREADS: "" } });
      if (r.status !== 0) throw new Error(`strata generate failed: ${r.stderr}`);
      const j = JSON.parse(r.stdout) as { usage: { outputTokens: number }; latencyMs: number };
      cliLatency.push(j.latencyMs);
      return j.usage.outputTokens;
    },
    close: async () => {},
  };
}
const COMPLETION_PROMPT = "ROMEO:";
/** The CLI's own generation time per call (its process's start and model load left out). */
const cliLatency: number[] = [];

/**
 * node-llama-cpp's LlamaCompletion in a fresh child process too, timed the same way as the CLI times
 * itself (generation only, after loading), so both sides pay the same cold first call.
 */
function directCompletionPath(modelPath: string, dir: string): Path & { close(): Promise<void> } {
  // A file, not \`node -e\`: node-llama-cpp forks itself to test its binary and would inherit -e.
  const script = join(dir, "direct-completion.mjs");
  writeFileSync(script, `
    const { getLlama, LlamaCompletion, LlamaLogLevel } = await import(${JSON.stringify(import.meta.resolve("node-llama-cpp"))});
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: ${JSON.stringify(modelPath)}, gpuLayers: 0 });
    const context = await model.createContext({ contextSize: ${CTX}, threads: ${THREADS}, sequences: 1 });
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const t0 = performance.now();
    await completion.generateCompletion(${JSON.stringify(COMPLETION_PROMPT)}, { maxTokens: ${TOKENS}, temperature: 0, seed: 0 });
    process.stdout.write(JSON.stringify({ ms: performance.now() - t0, n: sequence.tokenMeter.getState().usedOutputTokens }));`);
  return {
    name: "LlamaCompletion direct (CLI)",
    async run() {
      const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`direct completion failed: ${r.stderr}`);
      const j = JSON.parse(r.stdout) as { ms: number; n: number };
      cliLatency.push(j.ms);
      return j.n;
    },
    close: async () => {},
  };
}

async function measure(label: string, opts: TinyLlamaOptions, dir: string, variant: "chat" | "chat-default-threads" | "cli" = "chat") {
  const path = join(dir, `${label}.gguf`);
  if (!existsSync(path)) await writeTinyLlamaGguf(path, opts);
  const paths = variant === "cli" ? [cliPath(path), directCompletionPath(path, dir)] : [await strataPath(path, variant === "chat" ? THREADS : undefined), await directPath(path)];
  cliLatency.length = 0;
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
      // The CLI's figure is its own (generation only); its process start and load are not the provider's cost.
      const ms = paths[i]!.name.endsWith("(CLI)") ? cliLatency.at(-1)! : now() - t0;
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
    model: variant === "chat" ? label : `${label} (${variant === "cli" ? "strata generate vs LlamaCompletion" : "default threads"})`,
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
  const wanted = new Set(values.models.split(","));
  const results = [];
  if (wanted.has("tiny")) results.push(await measure("tiny", { seed: 1 }, dir));
  if (wanted.has("small")) results.push(await measure("small", { seed: 1, layers: 4, width: 256, heads: 8, kvHeads: 4, ffn: 768 }, dir));
  if (wanted.has("recipe")) {
    // The tiny recipe's shape (FFN rounded up to Q8_0's 32-wide blocks), ≈ 1 MB as Q8_0.
    const recipe: TinyLlamaOptions = { seed: 1, layers: 4, width: 128, heads: 4, kvHeads: 4, ffn: 352, context: CTX, weightType: "Q8_0" };
    results.push(await measure("recipe-q8_0", recipe, dir, "chat-default-threads"));
    results.push(await measure("recipe-q8_0", recipe, dir, "cli"));
  }
  process.stdout.write(`\nllama.cpp provider overhead — ${describeMachine(machine)}\n${commandLine()}\n${ROUNDS} rounds, ${TOKENS} tokens per call, ${THREADS} thread (direct; Strata's own default for "default threads" and the CLI); load ${loadNow()}; tokens/s\n\n`);
  type R = Awaited<ReturnType<typeof measure>>;
  const md = printTable(
    ["model", "measure", "strata", "direct", "overhead"],
    results.flatMap((r: R) => [
      [r.model, "wall, median", fmt(r.strata.wall.median, 0), fmt(r.direct.wall.median, 0), `${fmt(r.overheadPercent.wallMedian, 1)}%`],
      [r.model, "wall, best", fmt(r.strata.wall.best, 0), fmt(r.direct.wall.best, 0), `${fmt(r.overheadPercent.wallBest, 1)}%`],
      [r.model, "CPU, median", fmt(r.strata.cpu.median, 0), fmt(r.direct.cpu.median, 0), `${fmt(r.overheadPercent.cpuMedian, 1)}%`],
      [r.model, "CPU, best", fmt(r.strata.cpu.best, 0), fmt(r.direct.cpu.best, 0), `${fmt(r.overheadPercent.cpuBest, 1)}%`],
    // Both CLI-row paths run in child processes: this process's CPU time says nothing about them.
    ].filter((row) => !(r.model.includes("strata generate") && row[1]!.startsWith("CPU")))),
  );
  const file = writeJson("llamacpp-overhead", { machine, command: commandLine(), rounds: ROUNDS, tokens: TOKENS, threads: THREADS, results });
  process.stdout.write(`\n${md}\n\nwrote ${file}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
