// A LanguageModel over a local GGUF through llama.cpp (node-llama-cpp). The file is checked with
// Strata's GGUF reader when the model is created; the weights load on first use. One context with
// one sequence serves the requests one at a time; llama.cpp reuses the KV cache of a shared prompt
// prefix between them.
import { basename } from "node:path";
import type { ChatHistoryItem, ChatWrapper, GbnfJsonSchema, LlamaContext, LlamaContextSequence, LlamaGrammar } from "node-llama-cpp";
import { StrataError, throwIfAborted } from "../../../core/errors.js";
import { LANGUAGE_MODEL_SPEC } from "../../capabilities.js";
import type { ModelRef } from "../../ref.js";
import type { GenerateRequest, GenerateResult, LanguageModel, ProviderOptions, StreamEvent } from "../../types.js";
import { priceFor, withCost } from "../../usage.js";
import { AsyncQueue } from "./async-queue.js";
import { toChatHistory } from "./history.js";
import { loadLlamaModel, withLoadLog, type LlamaModel } from "./loader.js";
import { contextOptions, contextSizeFor, resolveSettings, type LlamaCppSettings } from "./options.js";
import { checkLoraFile, checkModelFile, type ModelFacts } from "./preflight.js";
import { firstLine, listenToLlamaLog, nodeLlamaCpp, type Llama, type NodeLlamaCpp } from "./runtime.js";
import { toFinishReason, toLlamaSampling, type LlamaSampling, type LlamaStopReason } from "./sampling.js";
import { toGrammarSchema } from "./grammar-schema.js";
import { forceFunctionCall, planTools, toToolCalls, type FunctionCallLike, type ToolPlan } from "./tools.js";

/** The parts of node-llama-cpp's LlamaChatResponse a result is built from. */
interface LlamaAnswer {
  response: string;
  functionCalls?: readonly FunctionCallLike[];
  metadata: { stopReason: LlamaStopReason };
}

interface Loaded {
  mod: NodeLlamaCpp;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  wrapper: ChatWrapper;
}

/** Creates a language model for `gguf:<path>[#ctx=…&threads=…&lora=…&loraScale=…]`. */
export async function createLlamaCppLanguageModel(ref: ModelRef | string, opts: ProviderOptions = {}): Promise<LanguageModel> {
  const settings = resolveSettings(ref, opts);
  const facts = await checkModelFile(settings.modelPath);
  if (settings.lora) await checkLoraFile(settings.lora.path, facts);
  return new LlamaCppLanguageModel(settings, facts, opts);
}

class LlamaCppLanguageModel implements LanguageModel {
  readonly id: string;
  readonly provider = "llamacpp";
  readonly specificationVersion = LANGUAGE_MODEL_SPEC;
  /** Tools through node-llama-cpp's function calling, schemas through its JSON-schema grammars. */
  readonly capabilities = { tools: true, jsonSchema: true, streaming: true, logprobs: false } as const;
  readonly contextLength: number;
  private loading?: Promise<Loaded>;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Aborts whatever is generating when the model is closed. */
  private readonly closing = new AbortController();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly stopLog?: () => void;

  constructor(
    private readonly settings: LlamaCppSettings,
    private readonly facts: ModelFacts,
    private readonly opts: ProviderOptions,
  ) {
    this.id = settings.ref.raw;
    this.contextLength = contextSizeFor(settings, facts.trainedContext);
    const onLog = opts.onLog;
    if (onLog) this.stopLog = listenToLlamaLog((level, line) => onLog(`llama.cpp ${level}: ${line}`));
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.run(request);
  }

  async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    const queue = new AsyncQueue<StreamEvent>();
    const abort = new AbortController();
    const outer = request.signal;
    const onOuterAbort = (): void => abort.abort(outer?.reason);
    if (outer?.aborted) throwIfAborted(outer);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    let finished = false;
    const running = this.run({ ...request, signal: abort.signal }, (text) => queue.push({ type: "text-delta", text })).then(
      (result) => {
        for (const call of result.toolCalls) queue.push({ type: "tool-call", call });
        queue.push({ type: "finish", result });
        queue.end();
      },
      (e: unknown) => queue.fail(e),
    );
    try {
      for await (const event of queue) {
        if (event.type === "finish") finished = true;
        yield event;
      }
    } finally {
      // A consumer that stops early (break, throw) stops the generation too.
      if (!finished) abort.abort();
      await running;
      outer?.removeEventListener("abort", onOuterAbort);
    }
  }

  async countTokens(text: string): Promise<number> {
    const { model } = await this.load();
    return model.tokenize(text, false).length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.stopLog?.();
    const loading = this.loading;
    if (!loading) return;
    await this.queue.catch(() => {});
    const loaded = await loading.catch(() => undefined);
    if (!loaded) return;
    await loaded.context.dispose();
    await loaded.model.dispose();
  }

  private load(): Promise<Loaded> {
    if (this.closed) throw new StrataError("USAGE", `${this.id} is closed`, "create the model again to use it");
    this.loading ??= this.loadNow();
    this.loading.catch(() => {
      this.loading = undefined; // let a later call try again (the file may have been fixed)
    });
    return this.loading;
  }

  private async loadNow(): Promise<Loaded> {
    const mod = await nodeLlamaCpp();
    const { llama, model } = await loadLlamaModel(this.settings);
    try {
      const lora = this.settings.lora;
      const context = await withLoadLog(
        lora ? `llama.cpp could not apply the LoRA adapter ${lora.path}` : `llama.cpp could not create a ${this.contextLength}-token context`,
        () =>
          model.createContext({
            contextSize: this.contextLength,
            ...contextOptions(this.settings, this.facts.header),
            sequences: 1,
            lora: lora ? { adapters: [{ filePath: lora.path, scale: lora.scale }] } : undefined,
          }),
        lora ? "use an adapter made for this base model" : "ask for a smaller context (#ctx=…) or free memory",
      );
      const wrapper = mod.resolveChatWrapper(model) ?? new mod.GeneralChatWrapper();
      return { mod, llama, model, context, sequence: context.getSequence(), wrapper };
    } catch (e) {
      await model.dispose();
      throw e;
    }
  }

  /** Requests run one at a time on the single sequence. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  private async run(request: GenerateRequest, onText?: (text: string) => void): Promise<GenerateResult> {
    const started = performance.now();
    throwIfAborted(request.signal);
    const sampling = toLlamaSampling(request);
    const tools = planTools(request);
    const history = toChatHistory(request.messages);
    const schema = request.responseSchema ? toGrammarSchema(request.responseSchema, "the responseSchema") : undefined;
    const loaded = await this.load();
    const grammar = schema ? await this.grammarFor(loaded.llama, schema) : undefined;
    return this.serial(async () => {
      throwIfAborted(request.signal);
      if (this.closed) throw new StrataError("USAGE", `${this.id} is closed`, "create the model again to use it");
      const { mod, sequence, model } = loaded;
      const wrapper = tools.forced ? forceFunctionCall(loaded.wrapper, mod.LlamaText) : loaded.wrapper;
      const inputTokens = this.promptTokens(wrapper, model, history, tools.functions);
      const room = this.contextLength - inputTokens;
      if (room < 1) {
        throw new StrataError("CONTEXT_OVERFLOW", `the prompt is ${inputTokens} tokens but the context holds ${this.contextLength}`, "shorten the conversation, or load the model with a larger context (#ctx=…)");
      }
      const maxTokens = Math.min(request.maxTokens ?? room, room);
      const before = sequence.tokenMeter.getState().usedOutputTokens;
      const { response, rawParams } = await this.callLlama(loaded, wrapper, history, { ...sampling, maxTokens, signal: request.signal, onText, tools, grammar });
      const outputTokens = sequence.tokenMeter.getState().usedOutputTokens - before;
      const toolCalls = toToolCalls(response?.functionCalls, rawParams);
      const stop: LlamaStopReason = response?.metadata.stopReason ?? "abort";
      const result: GenerateResult = {
        text: response?.response ?? "",
        toolCalls,
        finishReason: toFinishReason(stop, toolCalls.length > 0),
        usage: withCost({ inputTokens, outputTokens }, this.price()),
        model: this.facts.name ?? basename(this.settings.modelPath),
        latencyMs: performance.now() - started,
      };
      if (grammar && result.finishReason === "stop") result.json = parseJson(result.text, this.id);
      return result;
    });
  }

  /** One generateResponse on a fresh LlamaChat over the shared sequence; undefined when aborted before the first token. */
  private async callLlama(
    loaded: Loaded,
    wrapper: ChatWrapper,
    history: ChatHistoryItem[],
    o: LlamaSampling & { maxTokens: number; signal?: AbortSignal; onText?: (text: string) => void; tools: ToolPlan; grammar?: LlamaGrammar },
  ): Promise<{ response?: LlamaAnswer; rawParams: Map<number, string> }> {
    const chat = new loaded.mod.LlamaChat({ contextSequence: loaded.sequence, chatWrapper: wrapper });
    const rawParams = new Map<number, string>();
    // Closing the model stops whatever is generating.
    const signal = o.signal ? AbortSignal.any([o.signal, this.closing.signal]) : this.closing.signal;
    const onText = o.onText;
    const common = {
      signal,
      stopOnAbortSignal: true,
      maxTokens: o.maxTokens,
      temperature: o.temperature,
      topK: o.topK,
      topP: o.topP,
      seed: o.seed,
      repeatPenalty: o.repeatPenalty,
      customStopTriggers: o.customStopTriggers,
      onTextChunk: onText ? (t: string) => t && onText(t) : undefined,
    };
    try {
      const response = o.tools.functions
        ? await chat.generateResponse(history, {
            ...common,
            functions: o.tools.functions,
            documentFunctionParams: true,
            onFunctionCallParamsChunk: (c) => rawParams.set(c.callIndex, (rawParams.get(c.callIndex) ?? "") + c.paramsChunk),
          })
        : await chat.generateResponse(history, { ...common, grammar: o.grammar });
      return { response, rawParams };
    } catch (e) {
      if (signal.aborted) return { rawParams };
      throw this.generationError(e);
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  /** Tokens of the prompt exactly as the chat wrapper renders it (tool documentation included). */
  private promptTokens(wrapper: ChatWrapper, model: LlamaModel, history: ChatHistoryItem[], functions: GenerateRequestFunctions): number {
    const chatHistory = history.at(-1)?.type === "model" ? history : [...history, { type: "model" as const, response: [] }];
    const { contextText } = wrapper.generateContextState({ chatHistory, availableFunctions: functions, documentFunctionParams: true });
    return contextText.tokenize(model.tokenizer).length;
  }

  private grammarFor(llama: Llama, schema: GbnfJsonSchema): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      // Its static type is a literal-type generic meant for schemas written in code; ours arrive at run time.
      g = llama.createGrammarForJsonSchema(schema as never).catch((e: unknown) => {
        this.grammars.delete(key);
        throw new StrataError("USAGE", `llama.cpp cannot turn the responseSchema into a grammar: ${firstLine(e)}`, "use plain JSON Schema: object/array/string/number/integer/boolean/null, enum, const, oneOf, $ref");
      });
      if (this.grammars.size >= 32) this.grammars.delete(this.grammars.keys().next().value!);
      this.grammars.set(key, g);
    }
    return g;
  }

  private price(): ReturnType<typeof priceFor> {
    return priceFor(this.opts.prices, this.id) ?? priceFor(this.opts.prices, basename(this.settings.modelPath));
  }

  private generationError(e: unknown): StrataError {
    if (e instanceof StrataError) return e;
    const message = firstLine(e);
    if (/context shift|fit the context|context size/i.test(message)) {
      return new StrataError("CONTEXT_OVERFLOW", `the conversation does not fit the ${this.contextLength}-token context: ${message}`, "shorten the conversation, or load the model with a larger context (#ctx=…)", { cause: e });
    }
    if (/schema|grammar|gbnf/i.test(message)) {
      return new StrataError("USAGE", `llama.cpp rejected a tool's parameter schema: ${message}`, "use plain JSON Schema for tool parameters", { cause: e });
    }
    return new StrataError("INTERNAL", `llama.cpp failed while generating: ${message}`, "run again with --debug and report it if it persists", { cause: e });
  }
}

type GenerateRequestFunctions = ToolPlan["functions"];

function parseJson(text: string, id: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StrataError("PARSE_FAILED", `${id} ended its JSON answer early (a stop sequence cut it)`, "remove stop sequences that can occur inside the JSON, or raise maxTokens");
  }
}
