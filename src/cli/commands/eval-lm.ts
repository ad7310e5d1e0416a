// `strata eval lm`: how well a language model predicts a text — the mean next-token cross-entropy
// (nats per token) and its perplexity exp(loss). The text becomes the model's own token ids (BOS
// first when the model adds it), cut into windows of --window positions that do not overlap; every
// token after the first is predicted once, from the tokens before it in its window. builtin: runs
// Strata's engine; gguf: reads llama.cpp's logits for every position. The same model in both forms
// gives the same figures.
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import type { Token } from "node-llama-cpp";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { ProgressListener } from "../../core/events.js";
import { sha256 } from "../../core/hash.js";
import { lmReportInput, publishReport } from "../../eval/published-reports.js";
import { storeFinishedRun } from "../../eval/run-store.js";
import { parseModelRef } from "../../model/ref.js";
import { createLanguageModel } from "../../model/registry.js";
import { type DeviceName, parseDevice } from "../../tensor/device.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parsePositiveInt } from "../options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";
import { codeVersion } from "./eval-qa.js";

interface EvalLmFlags {
  model?: string;
  data?: string;
  window?: string;
  maxTokens?: string;
  publish?: string;
  runs: string;
  device?: string;
  json?: boolean;
}

interface LossTotals {
  tokens: number;
  nll: number;
}

/** The mean loss of one window, for the published report's chart (when the backend gives it). */
interface WindowLoss {
  index: number;
  tokens: number;
  loss: number;
}

const DEFAULT_WINDOW = 1024;

const HELP = `
Loss is in nats per token; perplexity = exp(loss). Tokens are the model's own, so figures compare
models that share a tokenizer (a run and its GGUF export), not models with different vocabularies.

Examples:
  strata eval lm --model builtin:./runs/tiny --data ../shared/data/tinyshakespeare/input.txt --max-tokens 20000
  strata eval lm --model gguf:./tiny-q8_0.gguf --data valid.txt --window 256 --json
  strata eval lm --model gguf:./tiny-q8_0.gguf --data valid.txt --publish ./strata-data

--publish stores the result in a server's data folder for the web UI's Eval reports page; with a
gguf: model it includes the loss of every window, with builtin: the totals only.`;

function readText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `data file ${path} does not exist`, "check the path after --data");
    throw new StrataError("UNREADABLE", `data file ${path} cannot be read: ${(e as Error).message}`, "check the path and its permissions");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new StrataError("INVALID_UTF8", `data file ${path} is not UTF-8 text`, "convert it to UTF-8 (e.g. with iconv)");
  }
  if (text.trim() === "") throw new StrataError("EMPTY_FILE", `data file ${path} holds no text`, "point --data at a text file");
  return text;
}

export function registerEvalLm(evalCmd: Command): void {
  evalCmd
    .command("lm")
    .description("language-model loss and perplexity on a text file: {tokens, loss, perplexity}")
    .option("--model <ref>", "builtin:<run dir or .gguf> (Strata's engine) or gguf:<file> (llama.cpp)")
    .option("--data <file>", "a UTF-8 text file")
    .option("--window <n>", `positions per window (default: the model's context, at most ${DEFAULT_WINDOW})`)
    .option("--max-tokens <n>", "score only the first n tokens of the text")
    .option("--publish <data-dir>", "also publish the result into a server's data folder (strata serve --data <dir>)")
    .option("--runs <dir>", "where the run is stored, for `strata eval compare`", "eval-runs")
    .option("--device <name>", "where builtin: models run: cpu (default) or gpu (WebGPU; see docs/gpu.md)", "cpu")
    .option("--json", "print one JSON document: {model, data, tokens, loss, perplexity, window, seconds}")
    .addHelpText("after", HELP)
    .action(withCommand(async (flags: EvalLmFlags, ctx: CommandContext) => {
      if (!flags.model) throw usageError("--model <ref> is required", "e.g. --model builtin:./runs/tiny or --model gguf:./model.gguf");
      if (!flags.data) throw usageError("--data <file> is required", "e.g. --data valid.txt");
      const window = flags.window === undefined ? undefined : parsePositiveInt("--window", flags.window, DEFAULT_WINDOW, 1 << 20);
      const maxTokens = flags.maxTokens === undefined ? undefined : parsePositiveInt("--max-tokens", flags.maxTokens, 1, Number.MAX_SAFE_INTEGER);
      const ref = parseModelRef(flags.model);
      if (ref.scheme !== "builtin" && ref.scheme !== "gguf") throw usageError(`eval lm needs the model's logits: use a builtin: or gguf: model, not ${ref.scheme}:`, "e.g. --model gguf:./model.gguf");
      const device = parseDevice(flags.device ?? "cpu");
      if (device === "gpu" && ref.scheme !== "builtin") throw usageError("--device gpu runs Strata's own engine, for builtin: models; gguf: models run in llama.cpp", "use --model builtin:<run dir or .gguf>, or leave out --device");
      const text = readText(resolve(flags.data));
      const progress = progressDisplay({ quiet: flags.json });
      const started = performance.now();
      const run = ref.scheme === "builtin" ? builtinLoss : llamaCppLoss;
      const { totals, window: used, windows } = await run(flags.model, text, { window, maxTokens, device, signal: ctx.signal, onProgress: progress.listener });
      progress.stop();
      if (totals.tokens === 0) throw new StrataError("EMPTY_FILE", `data file ${flags.data} makes fewer than two tokens`, "use a longer text");
      const loss = totals.nll / totals.tokens;
      const result = { model: flags.model, data: resolve(flags.data), tokens: totals.tokens, loss, perplexity: Math.exp(loss), window: used, seconds: Math.round(performance.now() - started) / 1000 };
      // Windows as items when the backend gives them (llama.cpp), else the text as one item.
      const items = (windows ?? [{ index: 0, tokens: totals.tokens, loss }]).map((w) => ({ id: `window-${w.index}`, metrics: { loss: w.loss, tokens: w.tokens }, detail: {} }));
      const runId = storeFinishedRun(
        flags.runs,
        { kind: "lm", config: { window: used, maxTokens: maxTokens ?? null, device }, dataset: { name: basename(flags.data), path: resolve(flags.data), hash: sha256(text), items: items.length }, codeVersion: codeVersion(), modelRef: flags.model },
        items,
        { tokens: result.tokens, loss: Number(loss.toFixed(6)), perplexity: Number(result.perplexity.toFixed(4)), seconds: result.seconds },
      );
      let publishedReport: string | undefined;
      if (flags.publish) {
        const command = `strata ${process.argv.slice(2).join(" ")}`;
        publishedReport = publishReport(flags.publish, lmReportInput(result, { command, ...(windows ? { windows } : {}) })).id;
        process.stderr.write(`published: report ${publishedReport} in ${flags.publish} (Eval reports in the web UI of \`strata serve --data ${flags.publish}\`)\n`);
      }
      if (flags.json) ctx.printJson({ run: runId, ...result, ...(publishedReport ? { publishedReport } : {}) });
      else process.stdout.write(`${result.tokens} tokens  loss ${loss.toFixed(4)} nats/token  perplexity ${result.perplexity.toFixed(3)}  (window ${used}, ${result.seconds} s)\nstored as run ${runId}\n`);
      return 0;
    }));
}

interface LossOptions {
  window?: number;
  maxTokens?: number;
  device: DeviceName;
  signal: AbortSignal;
  onProgress: ProgressListener;
}

async function builtinLoss(refString: string, text: string, o: LossOptions): Promise<{ totals: LossTotals; window: number; windows?: WindowLoss[] }> {
  const { BuiltinLanguageModel, createBuiltinLanguageModel } = await import("../../model/providers/builtin/index.js");
  const model = o.device === "gpu" ? await createBuiltinLanguageModel(refString, providerOptions(), { device: "gpu", env: process.env }) : await createLanguageModel(refString, providerOptions());
  try {
    if (!(model instanceof BuiltinLanguageModel)) throw new StrataError("INTERNAL", "builtin: did not give the engine's model", "report this");
    const { window, ...totals } = await model.lossOf(text, { window: o.window ?? DEFAULT_WINDOW, maxTokens: o.maxTokens, signal: o.signal, onProgress: o.onProgress });
    return { totals, window };
  } finally {
    await model.close();
  }
}

/**
 * The same windows in llama.cpp: logits for every position, one window per fresh sequence. Keys and
 * values are cached as F32 (llama.cpp's default F16 cache alone moves the loss by ≈ 5e-4), and the
 * context has one position to spare: a window that fills it exactly makes node-llama-cpp shift the
 * context, and the logits go wrong by ≈ 0.1.
 */
async function llamaCppLoss(refString: string, text: string, o: LossOptions): Promise<{ totals: LossTotals; window: number; windows?: WindowLoss[] }> {
  const [{ resolveSettings }, { checkModelFile }, { loadLlamaModel, withLoadLog }] = await Promise.all([
    import("../../model/providers/llamacpp/options.js"),
    import("../../model/providers/llamacpp/preflight.js"),
    import("../../model/providers/llamacpp/loader.js"),
  ]);
  const settings = resolveSettings(refString, providerOptions());
  const facts = await checkModelFile(settings.modelPath);
  const window = Math.min(o.window ?? DEFAULT_WINDOW, facts.trainedContext ?? DEFAULT_WINDOW);
  const { model } = await loadLlamaModel(settings);
  try {
    const context = await withLoadLog(`llama.cpp could not create a ${window}-token context`, () => model.createContext({ contextSize: window + 1, batchSize: window, threads: settings.threads, sequences: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" }), "use a smaller --window or free memory");
    try {
      const sequence = context.getSequence();
      const bos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos as number] : [];
      const all = [...bos, ...Array.from(model.tokenize(text, false, bos.length > 0 ? "trimLeadingSpace" : undefined), Number)];
      const ids = o.maxTokens === undefined ? all : all.slice(0, o.maxTokens);
      const total = Math.max(0, ids.length - 1);
      let nll = 0;
      let done = 0;
      const windows: WindowLoss[] = [];
      for (let start = 0; start < total; start += window) {
        throwIfAborted(o.signal);
        const end = Math.min(start + window, total);
        await sequence.clearHistory();
        const items = ids.slice(start, end).map((t): [Token, { generateNext: { logits: true } }] => [t as Token, { generateNext: { logits: true } }]);
        const results = await sequence.controlledEvaluate(items);
        const before = nll;
        results.forEach((r, i) => {
          const logits = r?.next.logits;
          if (!logits) throw new StrataError("INTERNAL", `llama.cpp gave no logits at position ${start + i}`, "report this");
          let max = -Infinity;
          for (const v of logits.values()) max = Math.max(max, v);
          let sum = 0;
          for (const v of logits.values()) sum += Math.exp(v - max);
          nll += max + Math.log(sum) - (logits.get(ids[start + i + 1]! as Token) ?? -Infinity);
        });
        done += end - start;
        windows.push({ index: windows.length, tokens: end - start, loss: (nll - before) / (end - start) });
        o.onProgress({ phase: "eval-lm", done, total });
      }
      return { totals: { tokens: done, nll }, window, windows };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}
