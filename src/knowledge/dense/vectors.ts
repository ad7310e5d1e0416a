// Vectors as the store keeps them: Float32, little-endian, L2-normalised on write, so cosine
// similarity is a plain dot product at query time.
import { StrataError } from "../../core/errors.js";

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A unit-length copy of `v`; a zero vector stays zero (it matches nothing). */
export function normalize(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The BLOB form: 4 bytes per dimension, little-endian whatever the host. */
export function encodeVector(v: Float32Array): Buffer {
  if (HOST_LE) return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf;
}

/** Reads a BLOB back; a view without copying when the host is little-endian and the bytes aligned. */
export function decodeVector(buf: Uint8Array): Float32Array {
  if (buf.byteLength % 4 !== 0) throw new StrataError("STORE_CORRUPT", `a stored vector has ${buf.byteLength} bytes, not a multiple of 4`, "re-embed with `strata embed --rebuild`");
  const n = buf.byteLength / 4;
  if (HOST_LE && buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, n);
  const out = new Float32Array(n);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Checks a model's output before it is stored or compared: one finite vector per text, one width. */
export function checkEmbeddings(vectors: Float32Array[], texts: number, modelId: string): number {
  const bad = (what: string): StrataError =>
    new StrataError("MODEL_OUTPUT_INVALID", `embedding model ${modelId} returned ${what}`, "check that the model reference names an embedding model and that its server works");
  if (vectors.length !== texts) throw bad(`${vectors.length} vectors for ${texts} texts`);
  const dims = vectors[0]?.length ?? 0;
  for (const v of vectors) {
    if (v.length !== dims || v.length === 0) throw bad(`vectors of ${dims} and ${v.length} dimensions in one batch`);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw bad("a vector with a non-finite value");
  }
  return dims;
}

/** The store holds vectors of one width per model id; a model that changed width needs a rebuild. */
export function dimensionMismatch(modelId: string, stored: number, got: number): StrataError {
  return new StrataError(
    "EMBEDDING_MISMATCH",
    `the knowledge base holds ${stored}-dim vectors for ${modelId}, the model now returns ${got}`,
    "re-embed everything with `strata embed --kb <dir> --model <ref> --rebuild`, or give the new model a different id",
  );
}
