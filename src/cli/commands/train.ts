// `strata train tokenizer` and `strata train pretrain`: read flags and config files, turn them into
// library options (src/tokenizer, src/train), draw progress on stderr, print the result.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import type { ProgressEvent } from "../../core/events.js";
import { modelShapeFileSchema, shapeWithDefaults } from "../../nn/index.js";
import { parseDevice, setThreads } from "../../tensor/index.js";
import { type Tokenizer, loadTokenizer, saveTokenizer, trainTokenizer } from "../../tokenizer/index.js";
import {
  type ModelShape, type Preset, type TrainEvent, type TrainSettings, PRESETS, getPreset, isPresetName, presetParameters, pretrain,
} from "../../train/index.js";
import { usageError } from "../errors.js";
import { parseByteSize, parsePositiveInt } from "../options.js";
import { progressDisplay } from "../progress.js";
import { registerTrainDiffusion } from "./train-diffusion.js";
import { type CommandContext, withCommand } from "../run.js";
import { registerFinetune } from "./train-finetune.js";
import { eventLog, formatDuration, intFlag, parseNumber, parseSeed, trainDisplay } from "./train-common.js";

export { parseSeed } from "./train-common.js";

interface TokenizerFlags {
  data?: string[];
  vocab?: string;
  out?: string;
  minPairCount?: string;
  json?: boolean;
}

interface PretrainFlags {
  data?: string[];
  config?: string;
  out?: string;
  steps?: string;
  resume?: boolean;
  tokenizer?: string;
  vocab?: string;
  seed?: string;
  device?: string;
  threads?: string;
  batch?: string;
  block?: string;
  gradAccum?: string;
  lr?: string;
  evalEvery?: string;
  checkpointEvery?: string;
  memoryLimit?: string;
  events?: string;
  json?: boolean;
}

const MAX_VOCAB = 1 << 20;

// ---------------------------------------------------------------- config files

const ConfigFile = z
  .object({
    model: modelShapeFileSchema,
    train: z.record(z.string(), z.number()).optional(),
    tokenizer: z.union([z.object({ kind: z.literal("bytes") }).strict(), z.object({ kind: z.literal("bpe"), vocab: z.number().int().positive() }).strict()]).optional(),
  })
  .strict();
const TRAIN_KEYS = new Set<string>(["steps", "batchSize", "blockSize", "gradAccum", "lr", "minLr", "warmupSteps", "decaySteps", "weightDecay", "beta1", "beta2", "eps", "gradClip", "evalInterval", "evalBatches", "checkpointInterval", "valFraction", "seed"]);

/** A preset name or a JSON file {model: {...}, train?: {...}, tokenizer?: {...}}. */
function loadConfig(ref: string): Preset & { vocab?: number } {
  if (isPresetName(ref)) return getPreset(ref);
  if (!ref.endsWith(".json")) throw usageError(`--config must be a preset (${Object.keys(PRESETS).join(", ")}) or a .json file, got "${ref}"`, "e.g. --config tiny");
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(ref, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `config file ${ref} does not exist`, "check the path, or use a preset: --config tiny");
    throw new StrataError("INVALID_CONFIG", `config file ${ref} is not valid JSON: ${(e as Error).message}`, "fix the JSON");
  }
  const parsed = ConfigFile.safeParse(data);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new StrataError("INVALID_CONFIG", `config file ${ref}: ${i.path.join(".") || "(top level)"}: ${i.message}`, 'write {"model": {"dim", "layers", "heads", "ffnDim", "maxSeq", …}, "train": {"steps", "batchSize", "blockSize", "lr", …}}');
  }
  const c = parsed.data;
  for (const k of Object.keys(c.train ?? {})) {
    if (!TRAIN_KEYS.has(k)) throw new StrataError("INVALID_CONFIG", `config file ${ref}: unknown training setting "${k}"`, `known settings: ${[...TRAIN_KEYS].join(", ")}`);
  }
  const { vocab, ...shape } = c.model;
  const model: ModelShape = shapeWithDefaults(shape);
  return { name: ref, description: `from ${ref}`, model, train: (c.train ?? {}) as Partial<TrainSettings>, tokenizer: c.tokenizer ?? { kind: "bytes" }, ...(vocab !== undefined ? { vocab } : {}) };
}

export function registerTrain(program: Command): void {
  const train = program
    .command("train")
    .description("train a tokenizer, pretrain a language model on text files, fine-tune one (sft, dpo), or train an image model (diffusion)")
    .addHelpText("after", "\nExamples:\n  strata train tokenizer --data input.txt --vocab 1024 --out tok.json\n  strata train pretrain --data input.txt --config tiny --out runs/tiny\n  strata train sft --base builtin:runs/tiny --data chat.jsonl --method lora --out runs/tiny-sft\n  strata train diffusion --out runs/fashion");

  train
    .command("tokenizer")
    .description("train a byte-level BPE tokenizer on UTF-8 text files")
    .option("--data <files...>", "UTF-8 text files")
    .option("--vocab <n>", "vocabulary size: 256 bytes + learned tokens + 5 special tokens")
    .option("--out <file.json>", "where to write the tokenizer")
    .option("--min-pair-count <n>", "merge only pairs seen at least this often (default 2)")
    .option("--json", "print one JSON document: {out, vocabSize, merges, learnedTokens, bytes, warnings}")
    .addHelpText("after", "\nExample:\n  strata train tokenizer --data ../shared/data/tinyshakespeare/input.txt --vocab 1024 --out tok.json")
    .action(withCommand(async (flags: TokenizerFlags, ctx: CommandContext) => {
      if (!flags.data?.length) throw usageError("--data <files...> is required", "name one or more UTF-8 text files");
      if (flags.vocab === undefined) throw usageError("--vocab <n> is required", "e.g. --vocab 1024");
      if (!flags.out) throw usageError("--out <file.json> is required", "e.g. --out tok.json");
      const vocabSize = parsePositiveInt("--vocab", flags.vocab, 1024, MAX_VOCAB);
      const minPairCount = flags.minPairCount === undefined ? undefined : parsePositiveInt("--min-pair-count", flags.minPairCount, 2, 1 << 30);
      const progress = progressDisplay();
      const { tokenizer, stats, warnings } = await trainTokenizer(flags.data, { vocabSize, ...(minPairCount ? { minPairCount } : {}), signal: ctx.signal, onProgress: progress.listener });
      progress.stop();
      await saveTokenizer(tokenizer, flags.out);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const result = { out: flags.out, vocabSize: tokenizer.vocabSize, merges: stats.merges, learnedTokens: stats.learnedTokens, bytes: stats.bytes, warnings };
      if (flags.json) ctx.printJson(result);
      else process.stdout.write(`tokenizer: ${flags.out} (${tokenizer.vocabSize} tokens: 256 bytes + ${stats.learnedTokens} learned + ${tokenizer.vocabSize - tokenizer.normalVocabSize} special; ${stats.bytes.toLocaleString("en-US")} bytes read)\n`);
      return 0;
    }));

  const presetLines = (Object.keys(PRESETS) as Array<keyof typeof PRESETS>).map((name) => {
    const p = PRESETS[name];
    const vocab = p.tokenizer.kind === "bytes" ? 261 : p.tokenizer.vocab;
    return `  ${name.padEnd(6)} ${p.description}; ${presetParameters(name, vocab).toLocaleString("en-US")} parameters with vocab ${vocab}`;
  });
  train
    .command("pretrain")
    .description("pretrain a llama-architecture model on UTF-8 text (next-token prediction); checkpoints and loss.html go to --out")
    .option("--data <files...>", "UTF-8 text files (required for a new run; a resumed run reuses its token file)")
    .option("--config <preset|file.json>", `a preset (${Object.keys(PRESETS).join(", ")}) or a JSON file {"model": {...}, "train": {...}, "tokenizer": {...}}`)
    .option("--out <dir>", "the run directory")
    .option("--steps <n>", "optimizer steps to reach (a resumed run continues to this count)")
    .option("--resume", "continue the run in --out from its latest checkpoint")
    .option("--tokenizer <file.json>", "a tokenizer from `strata train tokenizer` (default: the config's, e.g. raw bytes for tiny)")
    .option("--vocab <n>", "train a BPE tokenizer of this size on --data first (instead of --tokenizer)")
    .option("--seed <n>", "seeds the weights and the batch order (default 1337)")
    .option("--device <name>", "where to train: cpu (default) or gpu (WebGPU: Vulkan on Linux, Metal on macOS; see docs/gpu.md)", "cpu")
    .option("--threads <n>", "CPU threads for the math kernels (default: all cores)")
    .option("--batch <n>", "sequences per micro-batch")
    .option("--block <n>", "tokens per sequence")
    .option("--grad-accum <n>", "micro-batches per optimizer step")
    .option("--lr <x>", "peak learning rate")
    .option("--eval-every <n>", "evaluate every N steps (and at the end)")
    .option("--checkpoint-every <n>", "save a checkpoint every N steps (and at the end, and on Ctrl-C)")
    .option("--memory-limit <size>", "refuse configurations estimated above this (default: 90% of RAM), e.g. 4GB")
    .option("--events <file.jsonl>", "also append each event (dataset, start, step, eval, checkpoint, progress) to this file as one JSON line, for programs following the run")
    .option("--json", "print one JSON document: {steps, trainLoss, valLoss, valPerplexity, tokensPerSecond, checkpoint, chart, …}")
    .addHelpText(
      "after",
      `\nPresets:\n${presetLines.join("\n")}\n\nExamples:\n  strata train pretrain --data ../shared/data/tinyshakespeare/input.txt --config tiny --out runs/tiny\n  strata train pretrain --out runs/tiny --resume --steps 3000\n  strata train pretrain --data book.txt --config small --vocab 2048 --out runs/book --json\n\nCtrl-C saves a checkpoint and stops; --resume continues exactly where it stopped.`,
    )
    .action(withCommand(async (flags: PretrainFlags, ctx: CommandContext) => {
      if (!flags.out) throw usageError("--out <dir> is required", "name the run directory, e.g. --out runs/tiny");
      const device = parseDevice(flags.device ?? "cpu");
      if (flags.tokenizer && flags.vocab) throw usageError("--tokenizer and --vocab exclude each other", "give a trained tokenizer, or a size to train one");
      if (flags.resume && (flags.tokenizer || flags.vocab)) throw usageError("a resumed run keeps its tokenizer", "leave out --tokenizer and --vocab with --resume");
      if (!flags.resume && !flags.config) throw usageError("--config <preset|file.json> is required for a new run", "e.g. --config tiny");
      if (!flags.resume && !flags.data?.length) throw usageError("--data <files...> is required for a new run", "name one or more UTF-8 text files");
      const threads = intFlag("--threads", flags.threads, 256);
      if (threads) setThreads(threads);
      const preset = flags.config ? loadConfig(flags.config) : undefined;
      const overrides: Partial<TrainSettings> = {
        steps: intFlag("--steps", flags.steps, 1e9),
        seed: flags.seed === undefined ? undefined : parseSeed(flags.seed),
        batchSize: intFlag("--batch", flags.batch, 1e6),
        blockSize: intFlag("--block", flags.block, 1e6),
        gradAccum: intFlag("--grad-accum", flags.gradAccum, 1e6),
        lr: parseNumber("--lr", flags.lr, 0, 10, "1e-3"),
        evalInterval: intFlag("--eval-every", flags.evalEvery, 1e9),
        checkpointInterval: intFlag("--checkpoint-every", flags.checkpointEvery, 1e9),
      };
      const memoryLimitBytes = flags.memoryLimit === undefined ? undefined : parseByteSize("--memory-limit", flags.memoryLimit, 0);
      if (memoryLimitBytes === 0) throw usageError("--memory-limit must be above 0", "e.g. --memory-limit 4GB");

      const shown = trainDisplay();
      const log = flags.events ? eventLog(flags.events) : undefined;
      const display = {
        onEvent: (e: TrainEvent) => {
          log?.onEvent(e);
          shown.onEvent(e);
        },
        onProgress: (p: ProgressEvent) => {
          log?.onProgress(p);
          shown.onProgress(p);
        },
        stop: () => shown.stop(),
      };
      try {
        let tokenizer: Tokenizer | undefined;
        if (!flags.resume) {
          if (flags.tokenizer) tokenizer = await loadTokenizer(flags.tokenizer);
          else {
            const vocab = flags.vocab !== undefined ? parsePositiveInt("--vocab", flags.vocab, 1024, MAX_VOCAB) : preset!.tokenizer.kind === "bpe" ? preset!.tokenizer.vocab : undefined;
            if (vocab !== undefined) {
              process.stderr.write(`tokenizer: training a BPE vocabulary of ${vocab} on the data\n`);
              tokenizer = (await trainTokenizer(flags.data!, { vocabSize: vocab, signal: ctx.signal, onProgress: display.onProgress })).tokenizer;
            }
          }
          if (preset?.vocab !== undefined && tokenizer && tokenizer.vocabSize !== preset.vocab) {
            throw new StrataError("INVALID_CONFIG", `the config's model.vocab is ${preset.vocab} but the tokenizer has ${tokenizer.vocabSize} tokens`, "leave model.vocab out of the config; it is taken from the tokenizer");
          }
        }
        // On resume only explicit flags travel (the run keeps its settings); a new run starts from the preset's.
        const trainSettings = flags.resume ? overrides : { ...preset!.train, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
        const result = await pretrain({
          runDir: flags.out,
          ...(flags.data?.length ? { data: flags.data } : {}),
          ...(preset ? { model: preset.model } : {}),
          ...(tokenizer ? { tokenizer } : {}),
          train: trainSettings,
          resume: Boolean(flags.resume),
          ...(memoryLimitBytes !== undefined ? { memoryLimitBytes } : {}),
          device,
          gpu: { env: process.env },
          signal: ctx.signal,
          onEvent: display.onEvent,
          onProgress: display.onProgress,
        });
        display.stop();
        const summary = {
          steps: result.steps,
          trainLoss: result.trainLoss,
          valLoss: result.valLoss,
          valPerplexity: result.valPerplexity,
          tokensPerSecond: result.tokensPerSecond,
          checkpoint: result.checkpoint,
          chart: result.chart,
          runDir: result.runDir,
          startStep: result.startStep,
          parameters: result.parameters,
          elapsedSeconds: result.elapsedMs / 1000,
        };
        if (flags.json) ctx.printJson(summary);
        else {
          process.stdout.write(
            `trained ${result.runDir}: step ${result.steps} (${result.parameters.toLocaleString("en-US")} parameters)\n` +
              `  train loss ${result.trainLoss.toFixed(4)}  val loss ${result.valLoss.toFixed(4)}  val perplexity ${result.valPerplexity.toFixed(2)}\n` +
              `  ${Math.round(result.tokensPerSecond).toLocaleString("en-US")} tokens/s, ${formatDuration(result.elapsedMs / 1000)}\n` +
              `  checkpoint ${result.checkpoint}\n` +
              (result.chart ? `  chart ${result.chart}\n` : ""),
          );
        }
        return 0;
      } finally {
        display.stop();
        log?.close();
      }
    }));
  registerFinetune(train);
  registerTrainDiffusion(train);
}
