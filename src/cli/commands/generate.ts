// `strata generate`: text from a model, streamed to stdout as it is made. By default the prompt is
// continued as raw text — what a pretrained model does — by Strata's engine for builtin: and by
// llama.cpp for gguf:, the same token ids in both (llama.cpp adds BOS when the file says
// add_bos_token, as the engine does), so a model exported from a run gives the same greedy text in
// both. `--chat` sends the prompt as a user message through the model's chat template instead, and
// works with every provider. A raw continuation may run past the model's context: the engine then
// slides its window (the last 3/4 of the context, re-run) and llama.cpp shifts its context its own
// way, so the two agree up to the context length and not necessarily after it. A chat ends at the
// end of the context.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { StrataError } from "../../core/errors.js";
import { parseModelRef } from "../../model/ref.js";
import { parseDevice } from "../../tensor/device.js";
import { createLanguageModel } from "../../model/registry.js";
import type { ChatMessage, FinishReason, GenerateResult, LanguageModel, SamplingOptions, StreamEvent } from "../../model/types.js";
import { EXIT, usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { type CommandContext, withCommand } from "../run.js";
import { registerGenerateImage } from "./generate-image.js";

interface GenerateFlags {
  model?: string;
  chat?: boolean;
  system?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  repetitionPenalty?: string;
  seed?: string;
  maxTokens?: string;
  stop: string[];
  device?: string;
  json?: boolean;
}

const HELP = `
The prompt is continued as raw text unless --chat is given; "-" reads it from stdin. The text streams
to stdout; a summary (finish reason, tokens, speed) goes to stderr. Sampling is greedy unless
--temperature is above 0; a --seed makes sampled text repeatable (default seed 0).

Examples:
  strata generate --model builtin:./runs/tiny "ROMEO:" --max-tokens 200
  strata generate --model gguf:./tiny-q8_0.gguf "ROMEO:" --temperature 0.8 --top-k 40 --seed 7
  strata generate --model gguf:./chat.gguf --chat --system "Be brief." "What is RoPE?"
  strata generate --model builtin:./runs/tiny "To be" --stop '\\n\\n' --json`;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** "\n", "\t" and "\\" in --stop values, so a newline can be typed. */
export function unescapeStop(s: string): string {
  return s.replace(/\\(n|t|r|\\)/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r", "\\": "\\" })[c]!);
}

function num(name: string, value: string | undefined, check: (n: number) => boolean, rule: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || !check(n)) throw usageError(`${name} ${rule}, got "${value}"`, `e.g. ${name} ${name === "--top-p" ? "0.9" : name === "--temperature" ? "0.8" : "40"}`);
  return n;
}

export function samplingFromFlags(flags: GenerateFlags): SamplingOptions {
  const int = (n: number) => Number.isInteger(n);
  return {
    temperature: num("--temperature", flags.temperature, (n) => n >= 0 && n <= 100, "must be a number from 0 (greedy) to 100"),
    topK: num("--top-k", flags.topK, (n) => int(n) && n >= 0, "must be a whole number ≥ 0 (0 = off)"),
    topP: num("--top-p", flags.topP, (n) => n > 0 && n <= 1, "must be a number in (0, 1]"),
    repetitionPenalty: num("--repetition-penalty", flags.repetitionPenalty, (n) => n > 0, "must be a number > 0 (1 = off)"),
    seed: num("--seed", flags.seed, (n) => int(n) && n >= 0 && n <= 0xffffffff, "must be a whole number from 0 to 4294967295"),
    maxTokens: num("--max-tokens", flags.maxTokens, (n) => int(n) && n >= 1 && n <= 1 << 20, "must be a whole number ≥ 1") ?? 128,
    stop: flags.stop.length > 0 ? flags.stop.map(unescapeStop) : undefined,
  };
}

function readPrompt(prompt: string): string {
  if (prompt !== "-") return prompt;
  try {
    return readFileSync(0, "utf8");
  } catch (e) {
    throw new StrataError("UNREADABLE", `cannot read the prompt from stdin: ${(e as Error).message}`, "pipe the prompt in, or pass it as an argument");
  }
}

export function registerGenerate(program: Command): void {
  const generate = program
    .command("generate")
    .description("generate text with a model: continue a prompt (default) or answer it as a chat message (--chat)")
    .argument("<prompt>", 'the text to continue (or the user message with --chat); "-" reads stdin')
    .option("--model <ref>", "builtin:<run dir or .gguf> (Strata's engine), gguf:<file> (llama.cpp), or openai:<url>#<model> (--chat only)")
    .option("--chat", "send the prompt as a user message through the model's chat template")
    .option("--system <text>", "a system message (with --chat)")
    .option("--temperature <t>", "0 = greedy (default); higher is more random")
    .option("--top-k <k>", "sample among the k most likely tokens (0 = off)")
    .option("--top-p <p>", "sample among the most likely tokens holding p of the probability (1 = off)")
    .option("--repetition-penalty <r>", "penalise tokens of the last 64 (1 = off, e.g. 1.1)")
    .option("--seed <n>", "seed for sampling (default 0)")
    .option("--max-tokens <n>", "most tokens to generate (default 128)")
    .option("--stop <text>", "stop before this text (repeatable; \\n for a newline)", collect, [])
    .option("--device <name>", "where builtin: models run: cpu (default) or gpu (WebGPU, KV cache on the GPU; see docs/gpu.md)", "cpu")
    .option("--json", "print one JSON document at the end: {model, prompt, text, finishReason, usage, latencyMs, tokensPerSecond}")
    .addHelpText("after", HELP)
    .action(withCommand(async (promptArg: string, flags: GenerateFlags, ctx: CommandContext) => {
      if (!flags.model) throw usageError("--model <ref> is required", "e.g. --model builtin:./runs/tiny or --model gguf:./model.gguf");
      if (flags.system !== undefined && !flags.chat) throw usageError("--system needs --chat", "add --chat to use a chat template with a system message");
      const sampling = samplingFromFlags(flags);
      const prompt = readPrompt(promptArg);
      const ref = parseModelRef(flags.model);
      const device = parseDevice(flags.device ?? "cpu");
      if (device === "gpu" && ref.scheme !== "builtin") throw usageError(`--device gpu runs Strata's own engine, for builtin: models; ${ref.scheme}: models use their own backend`, "use --model builtin:<run dir or .gguf>, or leave out --device");
      // builtin: models are created here when placed on the GPU (the registry knows no devices).
      const open = async (): Promise<LanguageModel> => {
        if (device === "cpu") return createLanguageModel(flags.model!, providerOptions());
        const { createBuiltinLanguageModel } = await import("../../model/providers/builtin/index.js");
        return createBuiltinLanguageModel(flags.model!, providerOptions(), { device, env: process.env });
      };
      const streamOut = !flags.json;
      let events: AsyncIterable<StreamEvent>;
      let close: () => Promise<void>;
      if (flags.chat) {
        const model = await open();
        close = () => model.close();
        const messages: ChatMessage[] = [...(flags.system !== undefined ? [{ role: "system" as const, content: flags.system }] : []), { role: "user", content: prompt }];
        events = model.stream({ messages, ...sampling, signal: ctx.signal });
      } else if (ref.scheme === "builtin") {
        const model = await open();
        close = () => model.close();
        events = completionOf(model, prompt, sampling, ctx.signal);
      } else if (ref.scheme === "gguf") {
        const run = await llamaCppCompletion(flags.model, prompt, sampling, ctx.signal);
        close = run.close;
        events = run.events;
      } else {
        throw usageError(`raw-text generation needs a local model (builtin: or gguf:), not ${ref.scheme}:`, "add --chat to send the prompt as a chat message");
      }
      let result: GenerateResult | undefined;
      let last = "";
      try {
        for await (const e of events) {
          if (e.type === "text-delta" && streamOut) {
            process.stdout.write(e.text);
            last = e.text;
          } else if (e.type === "finish") result = e.result;
        }
      } finally {
        await close();
      }
      if (!result) throw new StrataError("INTERNAL", "the model ended without a result", "run again with --debug and report it");
      const seconds = result.latencyMs / 1000;
      const tokensPerSecond = seconds > 0 ? Math.round((result.usage.outputTokens / seconds) * 10) / 10 : 0;
      if (flags.json) {
        ctx.printJson({ model: flags.model, prompt, text: result.text, finishReason: result.finishReason, usage: result.usage, latencyMs: Math.round(result.latencyMs), tokensPerSecond });
      } else {
        if (!last.endsWith("\n")) process.stdout.write("\n");
        process.stderr.write(`[${describeFinish(result.finishReason)} · ${result.usage.inputTokens} prompt + ${result.usage.outputTokens} generated tokens · ${seconds.toFixed(2)} s, ${tokensPerSecond} tokens/s]\n`);
      }
      if (result.finishReason === "aborted") {
        process.stderr.write("error: generation cancelled\n");
        return EXIT.error;
      }
      return EXIT.ok;
    }));
  registerGenerateImage(generate);
}

function describeFinish(f: FinishReason): string {
  return f === "length" ? "stopped at --max-tokens (or the context)" : f === "stop" ? "finished" : f;
}

/** Raw-text continuation on the builtin engine. */
function completionOf(model: LanguageModel, prompt: string, sampling: SamplingOptions, signal: AbortSignal): AsyncIterable<StreamEvent> {
  const m = model as LanguageModel & { streamCompletion?: (r: SamplingOptions & { prompt: string; signal?: AbortSignal }) => AsyncIterable<StreamEvent> };
  if (typeof m.streamCompletion !== "function") throw new StrataError("INTERNAL", `${model.id} has no raw-text completion`, "add --chat");
  return m.streamCompletion({ prompt, ...sampling, signal });
}

/**
 * Raw-text continuation in llama.cpp (node-llama-cpp's LlamaCompletion) with the llama.cpp
 * provider's file checks, loader and sampling mapping; llama.cpp's own sampler picks the tokens.
 */
async function llamaCppCompletion(refString: string, prompt: string, sampling: SamplingOptions, signal: AbortSignal): Promise<{ events: AsyncIterable<StreamEvent>; close: () => Promise<void> }> {
  const [{ resolveSettings, contextSizeFor, contextOptions }, { checkModelFile }, { loadLlamaModel, withLoadLog }, { toLlamaSampling }, { nodeLlamaCpp }, { AsyncQueue }] = await Promise.all([
    import("../../model/providers/llamacpp/options.js"),
    import("../../model/providers/llamacpp/preflight.js"),
    import("../../model/providers/llamacpp/loader.js"),
    import("../../model/providers/llamacpp/sampling.js"),
    import("../../model/providers/llamacpp/runtime.js"),
    import("../../model/providers/llamacpp/async-queue.js"),
  ]);
  const settings = resolveSettings(refString, providerOptions());
  const facts = await checkModelFile(settings.modelPath);
  const s = toLlamaSampling(sampling);
  const mod = await nodeLlamaCpp();
  const { model } = await loadLlamaModel(settings);
  const contextSize = contextSizeFor(settings, facts.trainedContext);
  const context = await withLoadLog(`llama.cpp could not create a ${contextSize}-token context`, () => model.createContext({ contextSize, ...contextOptions(settings, facts.header), sequences: 1 }), "ask for a smaller context (#ctx=…) or free memory");
  const close = async (): Promise<void> => {
    await context.dispose();
    await model.dispose();
  };
  const sequence = context.getSequence();
  const completion = new mod.LlamaCompletion({ contextSequence: sequence });
  const inputIds = model.tokenize(prompt, false, model.tokens.shouldPrependBosToken ? "trimLeadingSpace" : undefined).length + (model.tokens.shouldPrependBosToken ? 1 : 0);
  const queue = new AsyncQueue<StreamEvent>();
  const started = performance.now();
  const before = sequence.tokenMeter.getState().usedOutputTokens;
  completion
    .generateCompletionWithMeta(prompt, {
      signal,
      stopOnAbortSignal: true,
      maxTokens: sampling.maxTokens ?? contextSize,
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      seed: s.seed ?? 0,
      repeatPenalty: s.repeatPenalty,
      customStopTriggers: s.customStopTriggers,
      onTextChunk: (text) => text && queue.push({ type: "text-delta", text }),
    })
    .then(
      ({ response, metadata }) => {
        const stop = metadata.stopReason;
        const finishReason: FinishReason = stop === "maxTokens" ? "length" : stop === "abort" ? "aborted" : "stop";
        const outputTokens = sequence.tokenMeter.getState().usedOutputTokens - before;
        queue.push({ type: "finish", result: { text: response, toolCalls: [], finishReason, usage: { inputTokens: inputIds, outputTokens }, model: facts.name ?? settings.modelPath, latencyMs: performance.now() - started } });
        queue.end();
      },
      (e: unknown) => queue.fail(new StrataError("INTERNAL", `llama.cpp failed while generating: ${e instanceof Error ? e.message : String(e)}`, "run again with --debug and report it", { cause: e })),
    );
  return { events: queue, close: async () => {
    completion.dispose({ disposeSequence: false });
    await close();
  } };
}
