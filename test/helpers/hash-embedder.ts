// A deterministic EmbeddingModel for tests: feature hashing of the analysed terms (weight 1) and
// their character trigrams (weight 0.5) into a few dimensions, each feature with a hashed sign,
// L2-normalised. A real if weak embedding (texts that share words or word pieces score higher),
// not a mock; it needs no weights and gives the same vectors on every machine.
import { analyze } from "../../src/knowledge/analyzer.js";
import type { EmbeddingModel } from "../../src/model/types.js";

export interface HashEmbedderOptions {
  /** Width of the vectors (default 64). */
  dimensions?: number;
  /** Model id (default "test:hash-<dimensions>"); keep the id and change the width to test mismatches. */
  id?: string;
  /** Called before each batch, e.g. to abort midway or to fail. */
  beforeBatch?: (texts: string[]) => void;
}

/** FNV-1a, 32 bits: stable across runs and platforms. */
function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function hashEmbed(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  const add = (feature: string, weight: number): void => {
    const h = fnv1a(feature);
    v[h % dimensions]! += (h & 0x80000000 ? -1 : 1) * weight;
  };
  for (const term of analyze(text)) {
    add(`w:${term}`, 1);
    const padded = `#${term}#`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, 0.5);
  }
  let sum = 0;
  for (const x of v) sum += x * x;
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  return v.map((x) => x * inv);
}

export class HashEmbedder implements EmbeddingModel {
  readonly id: string;
  readonly dimensions: number;
  /** Texts embedded so far and calls made: what resumability tests count. */
  texts = 0;
  calls = 0;
  closed = false;

  constructor(private readonly opts: HashEmbedderOptions = {}) {
    this.dimensions = opts.dimensions ?? 64;
    this.id = opts.id ?? `test:hash-${this.dimensions}`;
  }

  async embed(texts: string[], o: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    o.signal?.throwIfAborted();
    this.opts.beforeBatch?.(texts);
    this.calls++;
    this.texts += texts.length;
    return texts.map((t) => hashEmbed(t, this.dimensions));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
