// An EmbeddingModel over a local GGUF through llama.cpp's embedding context. Vectors are returned as
// llama.cpp computes them (pooled as the model says; not re-normalized).
import type { LlamaEmbeddingContext } from "node-llama-cpp";
import { StrataError, throwIfAborted } from "../../../core/errors.js";
import type { ModelRef } from "../../ref.js";
import type { EmbeddingModel, ProviderOptions } from "../../types.js";
import { loadLlamaModel, withLoadLog, type LlamaModel } from "./loader.js";
import { contextSizeFor, resolveSettings, type LlamaCppSettings } from "./options.js";
import { checkModelFile } from "./preflight.js";
import { listenToLlamaLog } from "./runtime.js";

export async function createLlamaCppEmbeddingModel(ref: ModelRef | string, opts: ProviderOptions = {}): Promise<EmbeddingModel> {
  const settings = resolveSettings(ref, opts);
  const facts = await checkModelFile(settings.modelPath);
  if (settings.lora) throw new StrataError("USAGE", `"${settings.ref.raw}" names a LoRA adapter, which llama.cpp's embedding contexts cannot apply`, "leave lora out of embedding model references");
  if (!facts.embeddingLength) {
    throw new StrataError("GGUF_INVALID", `${settings.modelPath} has no ${facts.architecture}.embedding_length, so its vectors have no known size`, "use a complete model file");
  }
  return new LlamaCppEmbeddingModel(settings, contextSizeFor(settings, facts.trainedContext), facts.embeddingLength, opts);
}

class LlamaCppEmbeddingModel implements EmbeddingModel {
  readonly id: string;
  private loading?: Promise<{ model: LlamaModel; context: LlamaEmbeddingContext }>;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly stopLog?: () => void;

  constructor(
    private readonly settings: LlamaCppSettings,
    private readonly contextSize: number,
    readonly dimensions: number,
    opts: ProviderOptions,
  ) {
    // The vector space is the model file plus anything that changes its weights.
    this.id = settings.ref.raw;
    const onLog = opts.onLog;
    if (onLog) this.stopLog = listenToLlamaLog((level, line) => onLog(`llama.cpp ${level}: ${line}`));
  }

  async embed(texts: string[], opts: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    throwIfAborted(opts.signal);
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) throw new StrataError("USAGE", "embed() takes a list of strings", 'e.g. embed(["first text", "second text"])');
    if (texts.length === 0) return [];
    const { context } = await this.load();
    const run = async (): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (const [i, text] of texts.entries()) {
        throwIfAborted(opts.signal);
        if (this.closed) throw new StrataError("USAGE", `${this.id} is closed`, "create the model again to use it");
        // An empty text has no token to pool: give it the zero vector rather than failing the batch.
        if (text.length === 0) {
          out.push(new Float32Array(this.dimensions));
          continue;
        }
        const length = context.calculateInputLength(text);
        if (length > this.contextSize) {
          throw new StrataError("CONTEXT_OVERFLOW", `text ${i} is ${length} tokens but the embedding context holds ${this.contextSize}`, "split long texts into chunks first, or load the model with a larger context (#ctx=…)");
        }
        const { vector } = await context.getEmbeddingFor(text);
        out.push(Float32Array.from(vector));
      }
      return out;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopLog?.();
    const loading = this.loading;
    if (!loading) return;
    await this.queue.catch(() => {});
    const loaded = await loading.catch(() => undefined);
    if (!loaded) return;
    await loaded.context.dispose();
    await loaded.model.dispose();
  }

  private load(): Promise<{ model: LlamaModel; context: LlamaEmbeddingContext }> {
    if (this.closed) throw new StrataError("USAGE", `${this.id} is closed`, "create the model again to use it");
    this.loading ??= (async () => {
      const { model } = await loadLlamaModel(this.settings);
      try {
        const context = await withLoadLog(
          `llama.cpp could not create an embedding context for ${this.settings.modelPath}`,
          () => model.createEmbeddingContext({ contextSize: this.contextSize, threads: this.settings.threads }),
          "ask for a smaller context (#ctx=…) or free memory",
        );
        return { model, context };
      } catch (e) {
        await model.dispose();
        throw e;
      }
    })();
    this.loading.catch(() => {
      this.loading = undefined;
    });
    return this.loading;
  }
}
