// An EmbeddingModel over POST {base}/embeddings: texts go in batches, vectors come back as
// Float32Array in input order, and every vector must have the dimensions the first one had.
import { StrataError, type ErrorCode } from "../../../core/errors.js";
import type { LongOperationOptions } from "../../../core/events.js";
import type { EmbeddingModel } from "../../types.js";
import { displayUrl, resolveOpenAiConfig, type OpenAiConfig, type OpenAiProviderOptions } from "./config.js";
import { postJson, readJson } from "./http.js";
import { abortedError } from "./http-errors.js";
import { embeddingsSchema, firstIssue } from "./wire.js";

/** An EmbeddingModel whose embed() also reports progress per batch (phase "embed", unit: texts). */
export interface OpenAiEmbeddingModel extends EmbeddingModel {
  embed(texts: string[], opts?: LongOperationOptions): Promise<Float32Array[]>;
}

function badOutput(url: string, problem: string, hint = "check that the base URL points at an OpenAI-compatible API and that the model is an embedding model", code: ErrorCode = "MODEL_OUTPUT_INVALID"): StrataError {
  return new StrataError(code, `POST ${displayUrl(url)} answered with unusable embeddings: ${problem}`, hint);
}

class OpenAiEmbeddings implements OpenAiEmbeddingModel {
  readonly id: string;
  private dims = 0;

  constructor(private readonly cfg: OpenAiConfig) {
    this.id = cfg.ref;
  }

  /** Learned from the server's first answer: 0 until embed() has returned once. */
  get dimensions(): number {
    return this.dims;
  }

  async embed(texts: string[], opts: LongOperationOptions = {}): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.cfg.batchSize) {
      if (opts.signal?.aborted) throw abortedError();
      const batch = texts.slice(start, start + this.cfg.batchSize);
      out.push(...(await this.embedBatch(batch, opts.signal)));
      opts.onProgress?.({ phase: "embed", done: out.length, total: texts.length });
    }
    return out;
  }

  private async embedBatch(batch: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const call = await postJson(this.cfg, "/embeddings", { model: this.cfg.model, input: batch, encoding_format: "float" }, signal);
    const parsed = embeddingsSchema.safeParse(await readJson(call));
    if (!parsed.success) throw badOutput(call.url, firstIssue(parsed.error));
    const data = parsed.data.data;
    if (data.length !== batch.length) throw badOutput(call.url, `${data.length} vectors for ${batch.length} texts`, undefined, "EMBEDDING_MISMATCH");
    // Servers may answer out of order; `index` says which input each vector belongs to.
    const vectors = new Array<Float32Array | undefined>(batch.length);
    data.forEach((item, position) => {
      const index = item.index ?? position;
      if (index >= batch.length || vectors[index]) throw badOutput(call.url, `vector index ${index} is out of range or repeated`);
      vectors[index] = this.checked(call.url, item.embedding);
    });
    return vectors as Float32Array[];
  }

  private checked(url: string, embedding: number[]): Float32Array {
    if (embedding.length === 0) throw badOutput(url, "an empty vector");
    if (this.dims === 0) this.dims = embedding.length;
    else if (embedding.length !== this.dims) {
      throw badOutput(url, `a ${embedding.length}-dimensional vector after ${this.dims}-dimensional ones`, "the model behind this reference changed; vectors of different models must not be mixed — re-create the model and re-embed", "EMBEDDING_MISMATCH");
    }
    return Float32Array.from(embedding);
  }

  async close(): Promise<void> {
    // Nothing is held between requests.
  }
}

/** An embedding model for `openai:<base URL>#<model>`; `dimensions` is known after the first embed(). */
export async function createOpenAiEmbeddingModel(ref: string, opts: OpenAiProviderOptions = {}): Promise<OpenAiEmbeddingModel> {
  return new OpenAiEmbeddings(resolveOpenAiConfig(ref, opts));
}
