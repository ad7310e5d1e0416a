// `strata train sft` and `strata train dpo`: flags → src/train/finetune.ts options, progress on
// stderr (the pretrain display), the summary on stdout or as one JSON document.
import type { Command } from "commander";
import type { ProgressEvent } from "../../core/events.js";
import { DEFAULT_LORA, parseLoraTargets } from "../../nn/index.js";
import { setThreads } from "../../tensor/index.js";
import { type FinetuneEvent, type FinetuneObjective, type FinetuneResult, type TrainEvent, type TrainSettings, finetune } from "../../train/index.js";
import { usageError } from "../errors.js";
import { type CommandContext, withCommand } from "../run.js";
import { eventLog, formatDuration, intFlag, parseNumber, parseSeed, trainDisplay } from "./train-common.js";

interface FinetuneFlags {
  base?: string;
  data?: string;
  out?: string;
  method?: string;
  rank?: string;
  alpha?: string;
  dropout?: string;
  targets?: string;
  lr?: string;
  epochs?: string;
  steps?: string;
  batch?: string;
  block?: string;
  gradAccum?: string;
  valFraction?: string;
  overlong?: string;
  pack?: boolean;
  beta?: string;
  earlyStop?: string;
  evalEvery?: string;
  checkpointEvery?: string;
  seed?: string;
  threads?: string;
  resume?: boolean;
  events?: string;
  json?: boolean;
}

function summaryOf(r: FinetuneResult): Record<string, unknown> {
  return {
    objective: r.objective, method: r.method, runDir: r.runDir, steps: r.steps, startStep: r.startStep, trainLoss: r.trainLoss, valLoss: r.valLoss,
    ...(r.metrics ? { metrics: r.metrics } : {}), stoppedEarly: r.stoppedEarly ?? false, examples: r.examples, trainable: r.trainable, parameters: r.parameters,
    tokensPerSecond: r.tokensPerSecond, checkpoint: r.checkpoint, chart: r.chart, elapsedSeconds: r.elapsedMs / 1000,
  };
}

function register(train: Command, objective: FinetuneObjective): void {
  const isDpo = objective === "dpo";
  const cmd = train
    .command(objective)
    .description(isDpo
      ? "preference-tune a model on {prompt, chosen, rejected} pairs (DPO); the reference is the base (the LoRA switched off)"
      : "supervised fine-tuning on chat, prompt/completion or Alpaca records; the loss is on the answers only")
    .option("--base <ref>", "the model to start from: builtin:<run dir> or gguf:<file.gguf> (a GGUF Strata exported)")
    .option("--data <file>", "JSONL (one record a line) or a JSON array of records")
    .option("--out <dir>", "the run directory")
    .option("--method <m>", "full (every weight) or lora (an adapter on the frozen base)", "lora")
    .option("--rank <r>", `LoRA rank (default ${DEFAULT_LORA.rank})`)
    .option("--alpha <a>", `LoRA alpha; the update is scaled by alpha/rank (default ${DEFAULT_LORA.alpha})`)
    .option("--dropout <p>", `LoRA dropout on the adapter input (default ${DEFAULT_LORA.dropout})`)
    .option("--targets <list>", "LoRA targets: wq,wk,wv,wo,w1,w2,w3 (or q_proj…, attention, ffn, all; default all)")
    .option("--lr <x>", "peak learning rate (default 2e-4 with LoRA, 2e-5 full)")
    .option("--epochs <n>", "passes over the training examples (default 3; sets the steps)")
    .option("--steps <n>", "optimizer steps instead of epochs")
    .option("--batch <n>", `${isDpo ? "pairs" : "examples"} per micro-batch (default 4)`)
    .option("--block <n>", "tokens per example (default min(256, the model's context))")
    .option("--grad-accum <n>", "micro-batches per optimizer step (default 1)")
    .option("--val-fraction <x>", "share of examples held out for validation (default 0.1)")
    .option("--overlong <mode>", "examples longer than the block: truncate (default) or drop; both counted", "truncate")
    .option("--early-stop <n>", "stop after N evaluations without a better validation loss")
    .option("--eval-every <n>", "evaluate every N steps (default: 10 times per run)")
    .option("--checkpoint-every <n>", "save a checkpoint every N steps (and at the end, and on Ctrl-C)")
    .option("--seed <n>", "seeds the adapter, dropout, split and order (default 1337)")
    .option("--threads <n>", "CPU threads for the math kernels")
    .option("--resume", "continue the run in --out from its latest checkpoint")
    .option("--events <file.jsonl>", "also append each event to this file as one JSON line")
    .option("--json", "print one JSON document: {steps, trainLoss, valLoss, metrics, examples, trainable, checkpoint, chart, …}");
  if (isDpo) cmd.option("--beta <b>", "DPO temperature β (default 0.1)");
  else cmd.option("--pack", "lay examples end to end in each block instead of padding one per row");
  cmd.addHelpText(
    "after",
    isDpo
      ? `\nExamples:\n  strata train dpo --base builtin:runs/tiny-sft --data pairs.jsonl --out runs/tiny-dpo --beta 0.1\n  strata train dpo --out runs/tiny-dpo --resume\n\nThe summary and loss.html report the held-out reward margin and preference accuracy.`
      : `\nExamples:\n  strata train sft --base builtin:runs/tiny --data ../shared/data/instructions/alpaca_data_1k.json --method lora --out runs/tiny-sft\n  strata train sft --base gguf:model.gguf --data chat.jsonl --method full --lr 1e-5 --epochs 1 --out runs/full --json\n  strata export lora runs/tiny-sft --out adapter.gguf      # for llama.cpp: gguf:model.gguf#lora=adapter.gguf`,
  );
  cmd.action(withCommand(async (flags: FinetuneFlags, ctx: CommandContext) => {
    if (!flags.out) throw usageError("--out <dir> is required", "name the run directory, e.g. --out runs/sft");
    if (!flags.resume && !flags.base) throw usageError("--base <ref> is required for a new run", "e.g. --base builtin:runs/tiny or --base gguf:model.gguf");
    if (!flags.resume && !flags.data) throw usageError("--data <file> is required for a new run", "a .jsonl file of records");
    const method = flags.method ?? "lora";
    if (method !== "full" && method !== "lora") throw usageError(`--method must be full or lora, got "${method}"`, "QLoRA is not available yet; use --method lora");
    const overlong = flags.overlong ?? "truncate";
    if (overlong !== "truncate" && overlong !== "drop") throw usageError(`--overlong must be truncate or drop, got "${overlong}"`, "e.g. --overlong drop");
    const threads = intFlag("--threads", flags.threads, 256);
    if (threads) setThreads(threads);
    const train: Partial<TrainSettings> = Object.fromEntries(Object.entries({
      steps: intFlag("--steps", flags.steps, 1e9),
      batchSize: intFlag("--batch", flags.batch, 1e6),
      blockSize: intFlag("--block", flags.block, 1e6),
      gradAccum: intFlag("--grad-accum", flags.gradAccum, 1e6),
      lr: parseNumber("--lr", flags.lr, 0, 10, "2e-4"),
      evalInterval: intFlag("--eval-every", flags.evalEvery, 1e9),
      checkpointInterval: intFlag("--checkpoint-every", flags.checkpointEvery, 1e9),
      valFraction: parseNumber("--val-fraction", flags.valFraction, 0, 0.9, "0.1"),
      seed: flags.seed === undefined ? undefined : parseSeed(flags.seed),
    }).filter(([, v]) => v !== undefined));
    if (train.lr !== undefined) train.minLr = train.lr / 10;
    const lora = {
      ...(flags.rank !== undefined ? { rank: intFlag("--rank", flags.rank, 1 << 16)! } : {}),
      ...(flags.alpha !== undefined ? { alpha: parseNumber("--alpha", flags.alpha, 0, 1e6, "32")! } : {}),
      ...(flags.dropout !== undefined ? { dropout: parseNumber("--dropout", flags.dropout, -1e-9, 0.99, "0.05")! } : {}),
      ...(flags.targets !== undefined ? { targets: parseLoraTargets(flags.targets) } : {}),
    };
    const shown = trainDisplay();
    const log = flags.events ? eventLog(flags.events) : undefined;
    try {
      const result = await finetune({
        runDir: flags.out, objective, method, resume: Boolean(flags.resume), train, lora, overlong, pack: Boolean(flags.pack),
        ...(flags.base ? { base: flags.base } : {}), ...(flags.data ? { data: flags.data } : {}),
        ...(flags.epochs !== undefined ? { epochs: parseNumber("--epochs", flags.epochs, 0, 1e6, "3")! } : {}),
        ...(flags.beta !== undefined ? { beta: parseNumber("--beta", flags.beta, 0, 1e3, "0.1")! } : {}),
        ...(flags.earlyStop !== undefined ? { earlyStopPatience: intFlag("--early-stop", flags.earlyStop, 1e6)! } : {}),
        signal: ctx.signal,
        onProgress: (p: ProgressEvent) => {
          log?.onProgress(p);
          shown.onProgress(p);
        },
        onEvent: (e: FinetuneEvent) => {
          log?.onEvent(e as TrainEvent);
          if (e.type === "examples") {
            const s = e.summary;
            process.stderr.write(`examples: ${s.train} train, ${s.val} validation of ${s.records} records; ${s.truncated} truncated, ${s.droppedOverlong} dropped as over-long, ${s.droppedEmpty} with no answer left; ${e.trainable.toLocaleString("en-US")} of ${e.total.toLocaleString("en-US")} parameters trained\n`);
          } else shown.onEvent(e);
        },
      });
      shown.stop();
      if (flags.json) ctx.printJson(summaryOf(result));
      else {
        const m = result.metrics ? `  ${Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join("  ")}\n` : "";
        process.stdout.write(
          `${objective} (${result.method}) ${result.runDir}: step ${result.steps}${result.stoppedEarly ? " (stopped early)" : ""}; ${result.trainable.toLocaleString("en-US")} of ${result.parameters.toLocaleString("en-US")} parameters trained\n` +
            `  train loss ${result.trainLoss.toFixed(4)}  val loss ${result.valLoss.toFixed(4)}\n${m}` +
            `  examples: ${result.examples.train} train, ${result.examples.val} validation, ${result.examples.truncated} truncated, ${result.examples.droppedOverlong + result.examples.droppedEmpty} dropped\n` +
            `  ${Math.round(result.tokensPerSecond).toLocaleString("en-US")} tokens/s, ${formatDuration(result.elapsedMs / 1000)}\n  checkpoint ${result.checkpoint}\n` +
            (result.chart ? `  chart ${result.chart}\n` : ""),
        );
      }
      return 0;
    } finally {
      shown.stop();
      log?.close();
    }
  }));
}

export function registerFinetune(train: Command): void {
  register(train, "sft");
  register(train, "dpo");
}
