// "Embed what is missing": chunks without a vector for a model id are embedded in batches, each
// batch stored in its own transaction. A kill loses at most the batch in flight, and re-ingesting a
// changed document drops its vectors (they cascade with its chunks), so a rerun fills exactly the gaps.
import { throwIfAborted } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import type { EmbeddingModel } from "../../model/types.js";
import type { ChunkToEmbed, KnowledgeStore } from "../store/sqlite-store.js";
import { checkEmbeddings, dimensionMismatch, normalize } from "./vectors.js";

export const DEFAULT_EMBED_BATCH = 32;

export interface EmbedOptions extends LongOperationOptions {
  /** Chunks per call to the model and per transaction (default 32). */
  batch?: number;
  /** Drop this model's vectors first and embed every chunk again (a new model behind the same id). */
  rebuild?: boolean;
}

export interface EmbedReport {
  modelId: string;
  dimensions: number;
  /** Vectors written by this run. */
  embedded: number;
  /** Vectors the store now holds for the model, and chunks in all. */
  vectors: number;
  chunks: number;
}

/**
 * The text a chunk is embedded as: its document's title, its heading path, then its text. The
 * headings carry what a chunk is about ("Prices" under "Harbour Museum") when the text alone does
 * not say it, as the title field does for BM25F. A heading equal to the title is not repeated.
 */
export function embeddingText(c: Pick<ChunkToEmbed, "title" | "headingPath" | "text">): string {
  const title = c.title.trim();
  const headings = c.headingPath.map((h) => h.trim()).filter((h, i) => h && !(i === 0 && h === title));
  return [title, headings.join(" > "), c.text].filter(Boolean).join("\n\n");
}

async function embedBatch(model: EmbeddingModel, texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
  try {
    return await model.embed(texts, { signal });
  } catch (e) {
    // A provider cancelled by our signal throws its own error; report it as the cancellation it is.
    throwIfAborted(signal);
    throw e;
  }
}

export async function embedMissingChunks(store: KnowledgeStore, model: EmbeddingModel, opts: EmbedOptions = {}): Promise<EmbedReport> {
  const size = opts.batch ?? DEFAULT_EMBED_BATCH;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`embed batch must be a whole number ≥ 1, got ${size}`);
  throwIfAborted(opts.signal);
  if (opts.rebuild) store.dropVectors(model.id);
  const known = store.embeddingModel(model.id);
  // Fail before spending any model time when the model already declares another width.
  if (known && model.dimensions > 0 && model.dimensions !== known.dimensions) throw dimensionMismatch(model.id, known.dimensions, model.dimensions);
  let dimensions = known?.dimensions ?? model.dimensions;
  const total = store.countChunksWithoutVector(model.id);
  let done = 0;
  let embedded = 0;
  let after = 0;
  opts.onProgress?.({ phase: "embed", done, total });
  for (;;) {
    throwIfAborted(opts.signal);
    const batch = store.chunksWithoutVector(model.id, after, size);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.rowid;
    const raw = await embedBatch(model, batch.map(embeddingText), opts.signal);
    dimensions = checkEmbeddings(raw, batch.length, model.id);
    embedded += store.writeVectors(
      model.id,
      dimensions,
      batch.map((c, i) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: normalize(raw[i]!) })),
    );
    done += batch.length;
    opts.onProgress?.({ phase: "embed", done, total: Math.max(total, done), item: batch[batch.length - 1]!.chunkId });
  }
  // Large collections get their approximate index now, with progress, rather than at the first search.
  store.dense.prepare(model.id, opts.onProgress);
  const info = store.embeddingModel(model.id);
  return { modelId: model.id, dimensions: info?.dimensions ?? dimensions, embedded, vectors: info?.vectors ?? 0, chunks: store.chunkCount() };
}
