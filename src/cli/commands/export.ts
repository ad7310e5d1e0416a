// `strata export gguf <run dir>`: a training run's checkpoint as a GGUF file llama.cpp runs (and
// builtin: reads back), with the tokenizer and every hyper-parameter; weights as F32, F16, Q8_0 or Q4_0.
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { readCheckpoint } from "../../formats/checkpoint.js";
import { LLAMA_GGUF_QUANTS, exportLlamaGguf, ggufValue, parseLlamaGgufQuant } from "../../formats/gguf/index.js";
import { usageError } from "../errors.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";

interface ExportGgufFlags {
  out?: string;
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
      const progress = progressDisplay({ quiet: flags.json });
      const out = resolve(flags.out);
      const result = await exportLlamaGguf(
        out,
        {
          config: ckpt.run.model,
          stateDict: ckpt.stateDict,
          tokenizer: ckpt.tokenizer,
          quant,
          name: flags.name ?? basename(dir),
          extraMetadata: [["strata.checkpoint.step", ggufValue.u32(ckpt.step)]],
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
}
