// Fine-tuning speed and memory: full fine-tuning against LoRA (r 16, alpha 32, every projection) of
// the same model, batch and steps, in one script. Each method runs in its own child process so its
// peak RSS is its own.
//
//   npm run build && node dist/bench/finetune.js [--steps 6] [--shapes tiny,small] [--threads N]
//
// A step is what the trainer does: forward, backward, clip, AdamW, with answer-masked targets (half
// of each row scored, as SFT has) through train/finetune-steppers.ts's SftStepper. Tokens/s counts
// every position of the batch. Random token ids; weights as initialised (speed does not depend on them).
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { Llama, type LlamaConfig, LORA_TARGETS, attachLora } from "../src/nn/index.js";
import { Rng, setThreads } from "../src/tensor/index.js";
import { AdamW, PRESETS, SftStepper, defaultDecay } from "../src/train/index.js";
import { commandLine, describeMachine, fmt, loadNow, machineInfo, note, printTable, ratio, writeJson } from "./lib.js";

const { values } = parseArgs({ options: { steps: { type: "string", default: "6" }, shapes: { type: "string", default: "tiny,small" }, threads: { type: "string" }, child: { type: "string" } } });

interface Shape {
  name: string;
  config: LlamaConfig;
  batch: number;
  block: number;
}

function shape(name: string): Shape {
  if (name === "tiny") return { name, config: { ...PRESETS.tiny.model, vocab: 261 }, batch: 12, block: 64 };
  if (name === "small") return { name, config: { ...PRESETS.small.model, vocab: 1024 }, batch: 16, block: 128 };
  if (name === "medium") return { name, config: { dim: 384, layers: 8, heads: 6, kvHeads: 6, ffnDim: 1024, maxSeq: 128, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false, vocab: 1024 }, batch: 8, block: 128 };
  throw new Error(`unknown shape ${name}`);
}

/** In a child: `--child <method>:<shape>` → one JSON line {tokensPerSecond, trainable, maxRssMB}. */
async function child(spec: string): Promise<void> {
  const [method, name] = spec.split(":") as ["full" | "lora", string];
  if (values.threads) setThreads(Number(values.threads));
  const s = shape(name);
  const model = new Llama(s.config, { seed: 1 });
  const lora = method === "lora" ? attachLora(model, { rank: 16, alpha: 32, dropout: 0, targets: LORA_TARGETS, seed: 1 }) : null;
  const named = lora ? lora.namedParameters() : model.namedParameters();
  const opt = new AdamW(named.map(([n, t]) => ({ name: n, tensor: t, decay: lora ? true : defaultDecay(n, t) })), { lr: 1e-4, weightDecay: 0 });
  const stepper = new SftStepper(model, opt, 1, lora);
  const rng = new Rng(3);
  const T = s.block;
  const batch = (): { ids: Int32Array; targets: Int32Array; shape: [number, number] } => {
    const ids = Int32Array.from({ length: s.batch * T }, () => rng.int(s.config.vocab));
    const targets = Int32Array.from({ length: s.batch * T }, (_, i) => (i % T < T / 2 ? -100 : rng.int(s.config.vocab)));
    return { ids, targets, shape: [s.batch, T] };
  };
  const steps = Number(values.steps);
  await stepper.accumulate([batch()]); // warm-up
  stepper.update(1e-4);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    await stepper.accumulate([batch()]);
    stepper.update(1e-4);
  }
  const secs = (performance.now() - t0) / 1000;
  const trainable = named.reduce((n, [, t]) => n + t.size, 0);
  process.stdout.write(JSON.stringify({ tokensPerSecond: (steps * s.batch * T) / secs, trainable, parameters: model.numParameters(), maxRssMB: process.resourceUsage().maxRSS / 1024 }) + "\n");
}

async function main(): Promise<void> {
  if (values.child) return child(values.child);
  const machine = machineInfo();
  note(`fine-tuning throughput, ${values.steps} steps each; ${describeMachine(machine)}; load ${loadNow().toFixed(1)}`);
  const rows: string[][] = [];
  const results: unknown[] = [];
  for (const name of values.shapes!.split(",")) {
    const got: Record<string, { tokensPerSecond: number; trainable: number; parameters: number; maxRssMB: number }> = {};
    for (const method of ["full", "lora"]) {
      const args = [process.argv[1]!, "--child", `${method}:${name}`, "--steps", values.steps!, ...(values.threads ? ["--threads", values.threads] : [])];
      const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`${method}:${name} failed: ${r.stderr}`);
      got[method] = JSON.parse(r.stdout.trim().split("\n").pop()!);
    }
    const f = got.full!;
    const l = got.lora!;
    rows.push([name, fmt(f.parameters), fmt(l.trainable), fmt(f.tokensPerSecond), fmt(l.tokensPerSecond), ratio(l.tokensPerSecond, f.tokensPerSecond), fmt(f.maxRssMB), fmt(l.maxRssMB), ratio(l.maxRssMB, f.maxRssMB)]);
    results.push({ shape: name, full: f, lora: l });
  }
  printTable(["shape", "params", "LoRA trainable", "full tok/s", "LoRA tok/s", "LoRA/full", "full peak RSS MB", "LoRA peak RSS MB", "LoRA/full RSS"], rows);
  writeJson("finetune", { command: commandLine(), machine, load: loadNow(), steps: Number(values.steps), results });
}

await main();
