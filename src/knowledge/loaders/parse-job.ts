// One parse job — bytes and a name in, a checked and chunked ExtractedDocument out — done the same way on the
// calling thread (small plain files) and in a pool worker (everything else).
import { chunkDocument, type ChunkingOptions } from "../chunker.js";
import type { ExtractedDocument } from "../types.js";
import { loadBytes } from "./index.js";
import { overLimit, resolveParseLimits, type ParseLimits } from "./parse-limits.js";

export interface ParseJob {
  bytes: Uint8Array;
  /** File name; its extension picks the loader. */
  name: string;
  maxBytes?: number;
  limits?: Partial<ParseLimits>;
  chunking?: Partial<ChunkingOptions>;
  /**
   * Hand the bytes' buffer to the worker instead of copying it (a 50 MB copy holds the calling
   * thread ≈ 0.1 s); the caller's `bytes` are then empty. Only when they own their whole buffer.
   */
  transfer?: boolean;
}

export async function parseInline(job: ParseJob, signal?: AbortSignal): Promise<ExtractedDocument> {
  const limits = resolveParseLimits(job.limits);
  const document = await loadBytes(job.bytes, job.name, { maxBytes: job.maxBytes, limits, signal });
  // Chunked here too, so a worker does it off the calling thread and the chunk limit is checked
  // before anything is stored.
  const chunks = chunkDocument(document, job.chunking);
  if (chunks.length > limits.maxChunks) throw overLimit("maxChunks", chunks.length, limits.maxChunks);
  return { ...document, chunks };
}
