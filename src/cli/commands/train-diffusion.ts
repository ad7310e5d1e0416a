// `strata train diffusion`: train the image model (a small diffusion transformer) on Fashion-MNIST;
// flags become library options (src/train/diffusion), progress goes to stderr, the summary to stdout.
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { FASHION_MNIST_DIR } from "../../formats/idx.js";
import { setThreads } from "../../tensor/index.js";
import { DIFFUSION_PRESETS, type DiffusionEvent, type DiffusionSettings, isDiffusionPreset, trainDiffusion } from "../../train/diffusion/index.js";
import { usageError } from "../errors.js";
import { parsePositiveInt } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface Flags {
  data?: string;
  config?: string;
  out?: string;
  steps?: string;
  resume?: boolean;
  seed?: string;
  threads?: string;
  batch?: string;
  lr?: string;
  evalEvery?: string;
  checkpointEvery?: string;
  json?: boolean;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** One line every few seconds (and at every evaluation and checkpoint) on stderr. */
function display(): (e: DiffusionEvent) => void {
  let last = 0;
  let start = 0;
  let startStep = 0;
  return (e) => {
    const w = (line: string): boolean => process.stderr.write(line + "\n");
    switch (e.type) {
      case "dataset":
        w(`data: ${e.train.toLocaleString("en-US")} training and ${e.test.toLocaleString("en-US")} test images from ${e.dir}`);
        break;
      case "start":
        start = performance.now();
        startStep = e.step;
        w(`${e.resumedFrom !== null ? `resuming at step ${e.resumedFrom}` : "training"}: ${e.parameters.toLocaleString("en-US")} parameters, ${e.imagesPerStep} images/step, ${e.steps} steps`);
        break;
      case "step": {
        const now = performance.now();
        if (now - last >= 5000 || e.step === e.steps || e.step === startStep + 1) {
          last = now;
          const eta = ((e.steps - e.step) * (now - start)) / 1000 / Math.max(1, e.step - startStep);
          w(`step ${e.step}/${e.steps}: loss ${e.loss.toFixed(4)}, lr ${e.lr.toExponential(2)}, ${e.imagesPerSecond.toFixed(1)} images/s, eta ${duration(eta)}`);
        }
        break;
      }
      case "eval":
        w(`eval at step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, test loss ${e.valLoss.toFixed(4)}`);
        break;
      case "checkpoint":
        w(`checkpoint: ${e.dir}${e.samples ? ` (samples: ${e.samples})` : ""}`);
        break;
    }
  };
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 10) throw usageError(`${name} must be a number above 0 and at most 10, got "${v}"`, `e.g. ${name} 1e-3`);
  return n;
}

export function registerTrainDiffusion(train: Command): void {
  const presets = Object.entries(DIFFUSION_PRESETS).map(([k, p]) => `  ${k.padEnd(8)} ${p.description}`).join("\n");
  train
    .command("diffusion")
    .description("train a text-conditioned diffusion transformer on Fashion-MNIST (images from prompts such as \"an ankle boot\"); checkpoints, loss.html and sample grids go to --out")
    .option("--data <folder>", `the Fashion-MNIST folder with the four *-ubyte.gz files (default ${FASHION_MNIST_DIR}, from apt-get install dataset-fashion-mnist)`)
    .option("--config <preset>", `a preset: ${Object.keys(DIFFUSION_PRESETS).join(", ")} (default fashion)`)
    .option("--out <dir>", "the run directory")
    .option("--steps <n>", "optimizer steps to reach (a resumed run continues to this count)")
    .option("--resume", "continue the run in --out from its latest checkpoint")
    .option("--seed <n>", "seeds the weights and the batches (default 1337)")
    .option("--threads <n>", "CPU threads for the math kernels (default: all cores)")
    .option("--batch <n>", "images per step")
    .option("--lr <x>", "peak learning rate")
    .option("--eval-every <n>", "evaluate every N steps (and at the end)")
    .option("--checkpoint-every <n>", "save a checkpoint and a sample grid every N steps (and at the end, and on Ctrl-C)")
    .option("--json", "print one JSON document: {steps, trainLoss, valLoss, imagesPerSecond, checkpoint, chart, samples, …}")
    .addHelpText("after", `\nPresets:\n${presets}\n\nExamples:\n  strata train diffusion --out runs/fashion\n  strata train diffusion --out runs/fashion --resume --steps 4000\n  strata generate image "an ankle boot" --model builtin:runs/fashion --steps 50 --guidance 3 --seed 1 --out boot.png\n\nCtrl-C saves a checkpoint and stops; --resume continues exactly where it stopped.`)
    .action(withCommand(async (flags: Flags, ctx: CommandContext) => {
      if (!flags.out) throw usageError("--out <dir> is required", "name the run directory, e.g. --out runs/fashion");
      const name = flags.config ?? "fashion";
      if (!isDiffusionPreset(name)) throw usageError(`--config must be one of ${Object.keys(DIFFUSION_PRESETS).join(", ")}, got "${name}"`, "e.g. --config fashion");
      if (flags.resume && flags.config) throw usageError("a resumed run keeps its model", "leave out --config with --resume");
      const int = (n: string, v: string | undefined) => (v === undefined ? undefined : parsePositiveInt(n, v, 1, 1e9));
      const threads = int("--threads", flags.threads);
      if (threads) setThreads(threads);
      const preset = DIFFUSION_PRESETS[name];
      const overrides: Partial<DiffusionSettings> = {
        steps: int("--steps", flags.steps),
        seed: flags.seed === undefined ? undefined : parsePositiveInt("--seed", flags.seed, 0, 2 ** 32 - 1),
        batchSize: int("--batch", flags.batch),
        lr: num("--lr", flags.lr),
        evalInterval: int("--eval-every", flags.evalEvery),
        checkpointInterval: int("--checkpoint-every", flags.checkpointEvery),
      };
      const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<DiffusionSettings>;
      const result = await trainDiffusion({
        runDir: flags.out,
        ...(flags.data ? { dataDir: flags.data } : {}),
        ...(flags.resume ? {} : { model: preset.model }),
        train: flags.resume ? defined : { ...preset.train, ...defined },
        resume: Boolean(flags.resume),
        signal: ctx.signal,
        onEvent: display(),
      });
      if (flags.json) ctx.printJson({ ...result, elapsedSeconds: result.elapsedMs / 1000 });
      else {
        process.stdout.write(
          `trained ${result.runDir}: step ${result.steps} (${result.parameters.toLocaleString("en-US")} parameters)\n` +
            `  train loss ${result.trainLoss.toFixed(4)}  test loss ${result.valLoss.toFixed(4)}  (noise-prediction MSE)\n` +
            `  ${result.imagesPerSecond.toFixed(1)} images/s, ${duration(result.elapsedMs / 1000)}\n  checkpoint ${result.checkpoint}\n  chart ${result.chart}\n` +
            (result.samples ? `  samples ${result.samples}\n` : ""),
        );
      }
      return 0;
    }));
}
