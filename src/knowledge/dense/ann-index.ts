// An approximate nearest-neighbour index (HNSW, usearch) over one embedding model's unit vectors,
// keyed by chunk rowid. It is a derived cache of the vectors SQLite keeps (decision 0009): saved
// next to the store with a sidecar that records what it was built from (change-log position,
// count, width) and a CRC32 of its bytes. usearch aborts the whole process on a truncated or
// garbled file, so nothing reaches its loader unless size and checksum match the sidecar.
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { Index, MetricKind, ScalarKind } from "usearch";

export const ANN_FORMAT = "strata-dense-index";
export const ANN_FORMAT_VERSION = 1;

export interface AnnParams {
  /** Graph degree (HNSW M). */
  connectivity: number;
  /** Beam width while inserting (efConstruction). */
  expansionAdd: number;
  /** Beam width while searching (ef); a search of k > ef widens to k. */
  expansionSearch: number;
}

export const DEFAULT_ANN_PARAMS: AnnParams = { connectivity: 16, expansionAdd: 128, expansionSearch: 96 };

/** What the sidecar says about the index file beside it. */
export interface AnnMeta {
  format: typeof ANN_FORMAT;
  version: number;
  modelId: string;
  dimensions: number;
  params: AnnParams;
  count: number;
  /** Position in the store's vector change log the index reflects. */
  seq: number;
  bytes: number;
  crc32: number;
}

export interface AnnMatch {
  key: number;
  /** Cosine similarity: 1 − cosine distance. */
  score: number;
}

/** CRC32 of a file, read in 8 MiB pieces so a large index never needs a second copy in memory. */
function fileCrc32(path: string): number {
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafe(8 << 20);
  let crc = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return crc;
      crc = crc32(buf.subarray(0, n), crc);
    }
  } finally {
    closeSync(fd);
  }
}

export class AnnIndex {
  private constructor(
    private readonly index: Index,
    readonly dimensions: number,
    readonly params: AnnParams,
  ) {}

  static create(dimensions: number, params: AnnParams = DEFAULT_ANN_PARAMS): AnnIndex {
    const index = new Index({
      dimensions,
      metric: MetricKind.Cos,
      quantization: ScalarKind.F32,
      connectivity: params.connectivity,
      expansion_add: params.expansionAdd,
      expansion_search: params.expansionSearch,
      multi: false,
    });
    return new AnnIndex(index, dimensions, params);
  }

  /**
   * The index saved at `path`, if its sidecar matches what the caller expects and its bytes match
   * the sidecar; otherwise why not (the caller rebuilds). Never hands a damaged file to usearch.
   */
  static load(path: string, expect: { modelId: string; dimensions: number; expansionSearch?: number }): { index: AnnIndex; meta: AnnMeta } | { problem: string } {
    const metaPath = `${path}.json`;
    if (!existsSync(path) || !existsSync(metaPath)) return { problem: "no saved index" };
    let meta: AnnMeta;
    try {
      meta = JSON.parse(readFileSync(metaPath, "utf8")) as AnnMeta;
    } catch {
      return { problem: "the index sidecar is not valid JSON" };
    }
    if (meta.format !== ANN_FORMAT || meta.version !== ANN_FORMAT_VERSION) return { problem: `the index has format ${String(meta.format)} ${String(meta.version)}` };
    if (meta.modelId !== expect.modelId) return { problem: `the index is for model ${String(meta.modelId)}` };
    if (meta.dimensions !== expect.dimensions) return { problem: `the index holds ${meta.dimensions}-dim vectors, the store ${expect.dimensions}` };
    const size = statSync(path).size;
    if (size !== meta.bytes) return { problem: `the index file has ${size} bytes, its sidecar says ${meta.bytes} (truncated or replaced)` };
    if (fileCrc32(path) !== meta.crc32) return { problem: "the index file's checksum does not match its sidecar (damaged)" };
    // The search beam is a query-time choice: today's setting, not the one saved with the graph.
    const ann = AnnIndex.create(meta.dimensions, { ...meta.params, expansionSearch: expect.expansionSearch ?? meta.params.expansionSearch });
    try {
      ann.index.load(path);
    } catch (e) {
      return { problem: `usearch could not load the index: ${(e as Error).message}` };
    }
    if (ann.size() !== meta.count) return { problem: `the index holds ${ann.size()} vectors, its sidecar says ${meta.count}` };
    return { index: ann, meta };
  }

  size(): number {
    return this.index.size();
  }

  has(key: number): boolean {
    return this.index.contains(BigInt(key)) as boolean;
  }

  /** Adds vectors (row-major, `keys.length` × dimensions); a key already present is replaced. */
  add(keys: ArrayLike<number>, vectors: Float32Array): void {
    if (keys.length === 0) return;
    if (vectors.length !== keys.length * this.dimensions) throw new RangeError(`${keys.length} keys need ${keys.length * this.dimensions} values, got ${vectors.length}`);
    const big = new BigUint64Array(keys.length);
    for (let i = 0; i < keys.length; i++) big[i] = BigInt(keys[i]!);
    // usearch corrupts its heap on a duplicate key: remove first, never rely on its error.
    const present = this.index.contains(big) as boolean[];
    const stale = big.filter((_, i) => present[i]);
    if (stale.length > 0) this.index.remove(stale);
    // One thread: usearch's concurrent inserts leave some nodes unreachable from the entry point
    // (measured: 16 of 600 exhaustive-beam queries missed a neighbour with 2 threads, 0 with one;
    // on CI a query once found one right neighbour of ten), so the graph is built serially.
    this.index.add(big, vectors, 1);
  }

  remove(key: number): void {
    const k = BigInt(key);
    if (this.index.contains(k)) this.index.remove(k);
  }

  /** The `k` nearest keys by cosine, best first. */
  search(query: Float32Array, k: number): AnnMatch[] {
    if (query.length !== this.dimensions) throw new RangeError(`query has ${query.length} dimensions, the index ${this.dimensions}`);
    const n = Math.min(k, this.size());
    if (n <= 0) return [];
    const r = this.index.search(query, n, 1);
    const out: AnnMatch[] = [];
    for (let i = 0; i < r.keys.length; i++) {
      const d = r.distances[i]!;
      if (!Number.isFinite(d)) continue;
      out.push({ key: Number(r.keys[i]!), score: 1 - d });
    }
    return out;
  }

  /** Writes the index and its sidecar beside it: temporary files renamed into place, sidecar last. */
  save(path: string, info: { modelId: string; seq: number }): AnnMeta {
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      this.index.save(tmp);
      const meta: AnnMeta = {
        format: ANN_FORMAT,
        version: ANN_FORMAT_VERSION,
        modelId: info.modelId,
        dimensions: this.dimensions,
        params: this.params,
        count: this.size(),
        seq: info.seq,
        bytes: statSync(tmp).size,
        crc32: fileCrc32(tmp),
      };
      writeFileSync(`${tmp}.json`, JSON.stringify(meta));
      // Index first, then sidecar: a crash between them leaves a sidecar that does not match, so
      // the next open rebuilds rather than trusting a mismatched pair.
      renameSync(tmp, path);
      renameSync(`${tmp}.json`, `${path}.json`);
      return meta;
    } finally {
      rmSync(tmp, { force: true });
      rmSync(`${tmp}.json`, { force: true });
    }
  }
}
