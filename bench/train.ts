// Training speed and quality: Strata's engine against PyTorch on the same llama, in one script.
//
//   node --import tsx bench/train.ts [--recipe-steps 2000] [--skip-recipe] [--skip-throughput] [--threads N]
//   npm run build && node dist/bench/train.js
//
// 1. Throughput: training tokens/s (forward + backward + clip + AdamW, data excluded) of the same
//    configuration, batch and steps in Strata (1 and 2 threads) and in PyTorch (bench/train_reference.py
//    through /usr/bin/python3; 1 and 2 threads), random token ids. Configurations: the `tiny` preset
//    (nanoGPT's CPU recipe: 4 layers, 4 heads, width 128, block 64, batch 12, byte vocabulary) and
//    the `small` preset's shape (6 layers, width 192, block 128, batch 16, vocabulary 1024).
// 2. nanoGPT's CPU recipe on tinyshakespeare (byte-level, 90/10 split, 2000 iterations, lr 1e-3 →
//    1e-4, warm-up 100, β2 0.99, weight decay 0.1, clip 1, eval every 250 over 20 batches): Strata
//    through `pretrain()` — the real path, with its token file, evaluations and checkpoints — and
//    PyTorch with the same model, optimizer and schedule. Reported: wall time of the training loop
//    (evaluations included), tokens/s of the steps, and the validation loss over the whole validation
//    span in consecutive windows of 64 (the same 1,742 windows for both, after training).
//    `--recipe-steps N` runs fewer iterations (the schedule is then compressed to N as well).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../src/formats/checkpoint.js";
import { Llama, type LlamaConfig } from "../src/nn/index.js";
import { Rng, backendInfo, noGrad, setThreads } from "../src/tensor/index.js";
import { AdamW, PRESETS, TokenDataset, clipGradNorm, defaultDecay, pretrain, resolveSettings, type TrainSettings } from "../src/train/index.js";
import { commandLine, describeMachine, fmt, loadNow, machineInfo, note, now, printTable, ratio, repoRoot, writeJson } from "./lib.js";

const { values } = parseArgs({
  options: {
    "recipe-steps": { type: "string", default: "2000" },
    "skip-recipe": { type: "boolean", default: false },
    "skip-throughput": { type: "boolean", default: false },
    threads: { type: "string" },
  },
});

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(repoRoot(), "bench", "train_reference.py");
const DATA = join(repoRoot(), "..", "shared", "data", "tinyshakespeare", "input.txt");

function torchJob(job: unknown): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-train-"));
  try {
    writeFileSync(join(dir, "job.json"), JSON.stringify(job));
    const r = spawnSync(PYTHON, [SCRIPT, join(dir, "job.json")], { encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`PyTorch reference failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Strata: the training step of src/train/pretrain.ts (model.loss, backward, clip, AdamW), random ids. */
function strataThroughput(config: LlamaConfig, s: TrainSettings, warmup: number, steps: number, threads: number): { tokensPerSecond: number; seconds: number } {
  setThreads(threads);
  const model = new Llama(config, { seed: 1337 });
  const opt = new AdamW(model.namedParameters().map(([name, tensor]) => ({ name, tensor, decay: defaultDecay(name, tensor) })), { lr: s.lr, beta1: s.beta1, beta2: s.beta2, weightDecay: s.weightDecay });
  const rng = new Rng(1);
  const B = s.batchSize;
  const T = s.blockSize;
  const batches = Array.from({ length: warmup + steps }, () => [Int32Array.from({ length: B * T }, () => rng.int(config.vocab)), Int32Array.from({ length: B * T }, () => rng.int(config.vocab))] as const);
  const step = (i: number): void => {
    const [x, y] = batches[i]!;
    opt.zeroGrad();
    model.loss(x, y, [B, T]).loss.backward();
    clipGradNorm(model.parameters(), s.gradClip);
    opt.step(s.lr);
  };
  for (let i = 0; i < warmup; i++) step(i);
  const t0 = now();
  for (let i = 0; i < steps; i++) step(warmup + i);
  const seconds = (now() - t0) / 1000;
  return { tokensPerSecond: (steps * B * T) / seconds, seconds };
}

const machine = machineInfo();
note(`machine: ${describeMachine(machine)}`);
note(`backend: ${JSON.stringify(backendInfo())}`);
const torchProbe = spawnSync(PYTHON, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
if (torchProbe.status !== 0) {
  process.stderr.write(`error: PyTorch is not importable from ${PYTHON}\nhint: apt-get install -y python3-torch\n`);
  process.exit(1);
}
const torchVersion = torchProbe.stdout.trim();
const out: Record<string, unknown> = { command: commandLine(), machine, torch: torchVersion, backend: backendInfo() };
const markdown: string[] = [];

// ---------------------------------------------------------------- 1. throughput
let fasterThreads = 2;
if (!values["skip-throughput"]) {
  const configs: Array<{ name: string; config: LlamaConfig; settings: TrainSettings; warmup: number; steps: number }> = [
    { name: "tiny (nanoGPT CPU recipe)", config: { ...PRESETS.tiny.model, vocab: 261 }, settings: resolveSettings(PRESETS.tiny.train, 64), warmup: 3, steps: 20 },
    { name: "small", config: { ...PRESETS.small.model, vocab: 1024 }, settings: resolveSettings(PRESETS.small.train, 128), warmup: 2, steps: 6 },
  ];
  const rows: string[][] = [];
  const results: unknown[] = [];
  for (const c of configs) {
    const params = new Llama(c.config, { seed: 1 }).numParameters();
    const tokens = c.settings.batchSize * c.settings.blockSize;
    const measured: Record<string, number> = {};
    for (const threads of [1, 2]) {
      note(`throughput: ${c.name}, Strata ${threads} thread(s)…`);
      measured[`strata-${threads}t`] = strataThroughput(c.config, c.settings, c.warmup, c.steps, threads).tokensPerSecond;
    }
    for (const threads of [1, 2]) {
      note(`throughput: ${c.name}, PyTorch ${threads} thread(s)…`);
      const r = torchJob({ mode: "throughput", threads, model: c.config, train: c.settings, warmup: c.warmup, steps: c.steps });
      if (r.parameters !== params) throw new Error(`parameter counts differ: Strata ${params}, PyTorch ${String(r.parameters)}`);
      measured[`torch-${threads}t`] = r.tokensPerSecond as number;
    }
    const bestOurs = Math.max(measured["strata-1t"]!, measured["strata-2t"]!);
    const bestTorch = Math.max(measured["torch-1t"]!, measured["torch-2t"]!);
    if (c.name.startsWith("tiny")) fasterThreads = measured["strata-1t"]! >= measured["strata-2t"]! ? 1 : 2;
    rows.push([
      c.name,
      fmt(params),
      `${c.settings.batchSize}×${c.settings.blockSize} (${tokens})`,
      fmt(measured["strata-1t"]!),
      fmt(measured["strata-2t"]!),
      fmt(measured["torch-1t"]!),
      fmt(measured["torch-2t"]!),
      ratio(bestOurs, bestTorch),
    ]);
    results.push({ name: c.name, parameters: params, tokensPerStep: tokens, steps: c.steps, warmup: c.warmup, ...measured, ratioBest: bestOurs / bestTorch });
  }
  markdown.push(printTable(["configuration", "parameters", "batch × block (tokens/step)", "Strata 1t tok/s", "Strata 2t tok/s", "torch 1t tok/s", "torch 2t tok/s", "best vs best"], rows));
  out.throughput = results;
}

// ---------------------------------------------------------------- 2. nanoGPT's CPU recipe
if (!values["skip-recipe"]) {
  const steps = Number(values["recipe-steps"]);
  const threads = values.threads ? Number(values.threads) : fasterThreads;
  const settings = resolveSettings({ ...PRESETS.tiny.train, steps, decaySteps: steps }, 64);
  const config: LlamaConfig = { ...PRESETS.tiny.model, vocab: 261 };
  note(`recipe: PyTorch, ${steps} iterations, 1 thread…`);
  const torchRes = torchJob({ mode: "recipe", threads: 1, model: config, train: settings, steps, data: DATA });
  note(`recipe: Strata, ${steps} iterations, ${threads} thread(s)…`);
  setThreads(threads);
  const runDir = mkdtempSync(join(tmpdir(), "strata-bench-recipe-"));
  try {
    const t0 = now();
    const res = await pretrain({
      runDir,
      data: [DATA],
      model: PRESETS.tiny.model,
      train: settings,
      onEvent: (e) => {
        if (e.type === "eval") note(`  step ${e.step}: train ${e.trainLoss.toFixed(4)} val ${e.valLoss.toFixed(4)}`);
      },
    });
    const wall = (now() - t0) / 1000;
    // The whole validation span in consecutive windows of 64, as the PyTorch script does.
    const ck = await readCheckpoint(runDir);
    const model = new Llama(ck.run.model, { seed: 0 });
    model.loadStateDict(ck.stateDict);
    const ds = TokenDataset.open(join(runDir, "data", "tokens.bin"));
    const { val } = ds.split(settings.valFraction);
    const T = settings.blockSize;
    const starts: number[] = [];
    for (let s = 0; s < val.length - T; s += T) starts.push(s);
    let total = 0;
    noGrad(() => {
      for (let i = 0; i < starts.length; i += 64) {
        const ix = starts.slice(i, i + 64);
        const ids = new Int32Array(ix.length * T);
        const tg = new Int32Array(ix.length * T);
        ix.forEach((s, r) => {
          const w = ds.read(val.start + s, T + 1);
          ids.set(w.subarray(0, T), r * T);
          tg.set(w.subarray(1), r * T);
        });
        total += model.loss(ids, tg, [ix.length, T]).loss.item() * ix.length;
      }
    });
    ds.close();
    const fullVal = total / starts.length;
    const lossAt = Object.fromEntries([1, 100, 500, 1000, steps].filter((k) => k <= steps).map((k) => [String(k), ck.state.history.train[k - 1]!.loss]));
    const ours = { threads, wallSeconds: wall, tokensPerSecond: res.tokensPerSecond, fullValLoss: fullVal, fullValWindows: starts.length, evals: ck.state.history.val, lossAt, lastEvalVal: res.valLoss, lastEvalTrain: res.trainLoss };
    out.recipe = { steps, settings, strata: ours, torch: torchRes };
    const tEvals = torchRes.evals as Array<{ step: number; train: number; val: number }>;
    const tLast = tEvals[tEvals.length - 1]!;
    markdown.push(
      printTable(
        ["engine", "iterations", "wall time s", "train tok/s", "val loss (whole split)", "last eval train / val (20 batches)"],
        [
          [`Strata (${threads} thread${threads > 1 ? "s" : ""})`, String(steps), fmt(wall, 1), fmt(res.tokensPerSecond), fmt(fullVal, 4), `${res.trainLoss.toFixed(4)} / ${res.valLoss.toFixed(4)}`],
          [`PyTorch ${torchVersion} (1 thread)`, String(steps), fmt(torchRes.wallSeconds as number, 1), fmt(torchRes.tokensPerSecond as number), fmt(torchRes.fullValLoss as number, 4), `${tLast.train.toFixed(4)} / ${tLast.val.toFixed(4)}`],
        ],
      ),
    );
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

out.loadAtEnd = loadNow();
const file = writeJson("train", out);
process.stdout.write(`\n${markdown.join("\n\n")}\n\nload average at end: ${out.loadAtEnd}; JSON: ${file}\n`);
