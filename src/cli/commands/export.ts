// `strata export gguf <run dir>`: a training run's checkpoint as a GGUF file llama.cpp runs (and
// builtin: reads back), with the tokenizer and every hyper-parameter; weights as F32, F16, Q8_0 or Q4_0.
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { readCheckpoint } from "../../formats/checkpoint.js";
import { type GgufValue, LLAMA_GGUF_QUANTS, exportLlamaGguf, exportLoraGguf, ggufValue, parseLlamaGgufQuant } from "../../formats/gguf/index.js";
import { StrataError } from "../../core/errors.js";
import { Llama, type LlamaConfig, type StateDict, loadLora } from "../../nn/index.js";
import { usageError } from "../errors.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";

interface ExportGgufFlags {
  out?: string;
  merge?: boolean;
  quant?: string;
  step?: string;
  name?: string;
  json?: boolean;
}

const HELP = `
Norms stay F32; every weight matrix takes the --quant type, except that Q8_0/Q4_0 matrices whose rows
are not a multiple of 32 long are written as F16 (listed in the output). Tied embeddings write no
output.weight. The file is written to a temporary name and renamed, so --out never holds half a model.

Examples:
  strata export gguf ./runs/tiny --quant f32 --out tiny.gguf
  strata export gguf ./runs/tiny --quant q8_0 --step 1000 --out tiny-q8_0.gguf --json
  strata generate --model gguf:tiny.gguf "ROMEO:"      # run it in llama.cpp`;

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function mergedWeights(config: LlamaConfig, base: StateDict, adapter: StateDict, alpha: number): StateDict {
  const model = new Llama(config, { seed: 0 });
  model.loadStateDict(base);
  return loadLora(model, adapter, alpha).mergedStateDict(base);
}

function parseStep(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const step = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(step)) throw usageError(`--step must be a whole number, got "${value}"`, "e.g. --step 1000");
  return step;
}

export function registerExport(program: Command): void {
  const exportCmd = program
    .command("export")
    .description("write a trained model in another format")
    .addHelpText("after", "\nExample:\n  strata export gguf ./runs/tiny --quant q8_0 --out tiny-q8_0.gguf");
  exportCmd
    .command("gguf")
    .description("a run's checkpoint as a GGUF file for llama.cpp (weights, tokenizer, hyper-parameters)")
    .argument("<run dir>", "the training run folder (strata train pretrain --out)")
    .option("--out <file>", "the GGUF file to write")
    .option("--quant <type>", `weight type: ${LLAMA_GGUF_QUANTS.join(", ")} (default f32)`, "f32")
    .option("--step <n>", "the checkpoint to export (default: the newest)")
    .option("--name <name>", "general.name in the file (default: the run folder's name)")
    .option("--merge", "for a LoRA run: fold the adapter into the base weights (W + alpha/r · B A)")
    .option("--json", "print one JSON document: {path, run, step, quant, bytes, tensors, fallbacks}")
    .addHelpText("after", HELP)
    .action(withCommand(async (runDir: string, flags: ExportGgufFlags, ctx: CommandContext) => {
      if (!flags.out) throw usageError("--out <file> is required", `e.g. --out ${basename(resolve(runDir))}-${flags.quant ?? "f32"}.gguf`);
      const quant = parseLlamaGgufQuant(flags.quant ?? "f32");
      let step: number | undefined;
      if (flags.step !== undefined) {
        step = Number(flags.step);
        if (!/^\d+$/.test(flags.step) || !Number.isSafeInteger(step)) throw usageError(`--step must be a whole number, got "${flags.step}"`, "e.g. --step 1000");
      }
      const dir = resolve(runDir);
      const ckpt = await readCheckpoint(dir, step === undefined ? {} : { step });
      if (ckpt.adapter && !flags.merge) throw new StrataError("USAGE", `${dir} is a LoRA run: its checkpoint holds the frozen base and an adapter`, "add --merge to write the merged model, or write the adapter alone with `strata export lora`");
      if (flags.merge && !ckpt.adapter) throw new StrataError("USAGE", `${dir} has no LoRA adapter to merge`, "leave --merge out for runs that train every weight");
      const stateDict = ckpt.adapter ? mergedWeights(ckpt.run.model, ckpt.stateDict, ckpt.adapter.tensors, Number(ckpt.adapter.metadata["lora.alpha"])) : ckpt.stateDict;
      const progress = progressDisplay({ quiet: flags.json });
      const out = resolve(flags.out);
      const result = await exportLlamaGguf(
        out,
        {
          config: ckpt.run.model,
          stateDict,
          tokenizer: ckpt.tokenizer,
          quant,
          name: flags.name ?? basename(dir),
          extraMetadata: [["strata.checkpoint.step", ggufValue.u32(ckpt.step)], ...(ckpt.adapter ? [["strata.lora.merged", ggufValue.bool(true)] as [string, GgufValue]] : [])],
        },
        { signal: ctx.signal, onProgress: progress.listener },
      );
      progress.stop();
      if (flags.json) {
        ctx.printJson({ path: result.path, run: dir, step: ckpt.step, quant, bytes: result.bytes, tensors: result.tensors, fallbacks: result.fallbacks });
      } else {
        process.stdout.write(`wrote ${result.path} (${quant}, ${formatBytes(result.bytes)}, ${result.tensors.length} tensors, step ${ckpt.step})\n`);
        if (result.fallbacks.length > 0) process.stdout.write(`  written as F16 (rows not a multiple of 32): ${result.fallbacks.join(", ")}\n`);
      }
      return 0;
    }));
  exportCmd
    .command("lora")
    .description("a LoRA run's adapter as llama.cpp's LoRA GGUF (load it beside the base: gguf:base.gguf#lora=adapter.gguf)")
    .argument("<run dir>", "the fine-tuning run folder (strata train sft|dpo --method lora --out)")
    .option("--out <file>", "the adapter GGUF to write")
    .option("--step <n>", "the checkpoint to export (default: the newest)")
    .option("--name <name>", "general.name in the file (default: the run folder's name)")
    .option("--json", "print one JSON document: {path, run, step, bytes, tensors, alpha, rank}")
    .addHelpText("after", `
The base the adapter goes with is the one the run started from; export it with
\`strata export gguf <base run>\` if it is a Strata run. Tensors are F32.

Example:
  strata export lora runs/tiny-sft --out tiny-sft.lora.gguf
  strata generate --model "gguf:tiny.gguf#lora=tiny-sft.lora.gguf" "Hello"`)
    .action(withCommand(async (runDir: string, flags: { out?: string; step?: string; name?: string; json?: boolean }, ctx: CommandContext) => {
      if (!flags.out) throw usageError("--out <file> is required", `e.g. --out ${basename(resolve(runDir))}.lora.gguf`);
      const step = parseStep(flags.step);
      const dir = resolve(runDir);
      const ckpt = await readCheckpoint(dir, step === undefined ? {} : { step });
      if (!ckpt.adapter) throw new StrataError("USAGE", `${dir} has no LoRA adapter (it trains every weight)`, "export the whole model with `strata export gguf`");
      const alpha = Number(ckpt.adapter.metadata["lora.alpha"]);
      const result = await exportLoraGguf(resolve(flags.out), { config: ckpt.run.model, adapter: ckpt.adapter.tensors, alpha, name: flags.name ?? basename(dir), extraMetadata: [["strata.checkpoint.step", ggufValue.u32(ckpt.step)]] }, { signal: ctx.signal });
      const rank = Number(ckpt.adapter.metadata["lora.rank"]);
      if (flags.json) ctx.printJson({ path: result.path, run: dir, step: ckpt.step, bytes: result.bytes, tensors: result.tensors, alpha, rank });
      else process.stdout.write(`wrote ${result.path} (LoRA r${rank}, alpha ${alpha}, ${result.tensors} tensors, ${formatBytes(result.bytes)}, step ${ckpt.step})\n`);
      return 0;
    }));
}
