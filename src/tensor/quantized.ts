// A weight's quantized twin: the GGUF blocks (Q8_0 or Q4_0) a float32 weight was dequantized from,
// kept beside it so inference can multiply by the blocks directly (`linear` does, when no gradient
// is recorded): a decoding step reads ~1 byte per weight instead of 4, as llama.cpp does. The
// float32 tensor stays the source of truth — training, export and the GPU read it — so the twin is
// dropped as soon as the weight may change: when `linear` records a gradient for it, or when a
// spot check finds values that the blocks no longer describe (a loadStateDict over it).

import { StrataError } from "../core/errors.js";
import { QK, QUANT_BLOCK_BYTES, type QuantType, halfToFloat } from "./kernels/quant.js";

export type { QuantType } from "./kernels/quant.js";

export interface QuantizedWeight {
  type: QuantType;
  /** out·in/32 blocks, row by row of the [out, in] weight. */
  bytes: Uint8Array;
}

/** What a twin needs of its float32 weight (a Tensor; declared here so ops.ts → this file → tensor.ts is no cycle). */
interface Weight {
  readonly data: Float32Array;
  readonly offset: number;
  readonly size: number;
  readonly ndim: number;
  readonly shape: readonly number[];
  isContiguous(): boolean;
}
type Tensor = Weight;

/** Each twin with the elements its per-use spot check reads and the values the blocks give there. */
const twins = new WeakMap<Tensor, { q: QuantizedWeight; at: number[]; want: Float32Array }>();

/** The float value the blocks hold at element i of the row-major [out, in] matrix. */
function valueAt(q: QuantizedWeight, i: number): number {
  const b = Math.floor(i / QK);
  const j = i % QK;
  const o = b * QUANT_BLOCK_BYTES[q.type];
  const d = halfToFloat(q.bytes[o]! | (q.bytes[o + 1]! << 8));
  if (q.type === "Q8_0") return Math.fround(d * ((q.bytes[o + 2 + j]! << 24) >> 24));
  const nib = j < QK / 2 ? q.bytes[o + 2 + j]! & 0x0f : q.bytes[o + 2 + j - QK / 2]! >> 4;
  return Math.fround((nib - 8) * d);
}

/** Element indices the spot check reads: spread over the matrix, first and last included. */
function probes(size: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(Math.min(size - 1, Math.floor(((size - 1) * k) / Math.max(1, n - 1)) + (k * 7) % QK));
  return out;
}

function agrees(w: Tensor, q: QuantizedWeight, n: number): boolean {
  const d = w.data;
  for (const i of probes(w.size, n)) if (d[w.offset + i] !== valueAt(q, i)) return false;
  return true;
}

/**
 * Keeps `q` as the quantized form of the [out, in] weight `w`, whose values must be exactly the
 * blocks' (as the GGUF importer dequantizes them); a spot check of 64 values refuses anything else.
 */
export function attachQuantized(w: Tensor, q: QuantizedWeight): void {
  const [outF, inF] = w.shape as [number, number];
  if (w.ndim !== 2 || !w.isContiguous() || inF % QK !== 0) {
    throw new StrataError("USAGE", `a ${q.type} twin needs a contiguous [out, in] weight with in a multiple of ${QK}, got shape [${w.shape.join(", ")}]`, "keep such weights in float32");
  }
  const need = ((outF * inF) / QK) * QUANT_BLOCK_BYTES[q.type];
  if (q.bytes.length !== need) throw new StrataError("USAGE", `a ${outF}×${inF} ${q.type} matrix takes ${need} bytes, got ${q.bytes.length}`, "pass the tensor's own GGUF bytes");
  if (w.size > 0 && !agrees(w, q, 64)) throw new StrataError("USAGE", `the ${q.type} blocks do not hold the weight's values`, "attach the blocks the weight was dequantized from");
  const at = w.size > 0 ? probes(w.size, 3) : [];
  twins.set(w, { q, at, want: Float32Array.from(at, (i) => valueAt(q, i)) });
}

/** The quantized twin of `w`, if it has one that still describes its values. */
export function quantizedTwin(w: Tensor): QuantizedWeight | undefined {
  const t = twins.get(w);
  if (!t) return undefined;
  for (let k = 0; k < t.at.length; k++) {
    if (w.data[w.offset + t.at[k]!] !== t.want[k]) {
      twins.delete(w);
      return undefined;
    }
  }
  return t.q;
}

/** Forgets the twin of `w` (its values are about to change). */
export function detachQuantized(w: Tensor): void {
  twins.delete(w);
}
