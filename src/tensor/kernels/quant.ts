// Products with weights kept in GGUF's quantized blocks, the plain-TS reference of the native
// qmatmul (src/tensor/native/quant.c): y [rows, out] = x [rows, in] · Wᵀ for W [out, in] stored as
// in/32 blocks per row — Q8_0 (an IEEE-half scale d and 32 int8 values: d·q) or Q4_0 (d and 16 bytes
// of nibbles, low nibbles the first 16 values: d·(q − 8)). Like llama.cpp on CPUs, each row of x is
// first quantized to Q8_0 (scale amax/127 rounded to a half, values rounded to int8), so a block's
// dot product is an exact integer sum scaled once by d_w·d_x.

export type QuantType = "Q8_0" | "Q4_0";

/** ggml's type ids, what the native kernel takes. */
export const QUANT_TYPE_ID: Record<QuantType, number> = { Q8_0: 8, Q4_0: 2 };
/** Bytes of one 32-value block. */
export const QUANT_BLOCK_BYTES: Record<QuantType, number> = { Q8_0: 34, Q4_0: 18 };
export const QK = 32;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A float rounded to the nearest IEEE half (ties to even), returned as a float. */
export function roundToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const exp = (bits >>> 23) & 0xff;
  if (exp === 0xff || x === 0) return f32[0]!;
  const e = exp - 127 + 15;
  if (e >= 0x1f) return x > 0 ? Infinity : -Infinity;
  // Quantum of the half grid at this magnitude: 2^(e−25) for normals, 2^-24 for subnormals.
  const q = e <= 0 ? 2 ** -24 : 2 ** (exp - 127 - 10);
  const r = x / q;
  let n = Math.round(r);
  if (Math.abs(r - Math.trunc(r)) === 0.5) n = 2 * Math.round(r / 2); // ties to even
  return n * q;
}

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Row r of x quantized to Q8_0: per-block scales and int8 values. */
export function quantizeActivations(x: Float32Array, xOff: number, rows: number, inF: number): { d: Float32Array; q: Int8Array } {
  const nb = inF / QK;
  const d = new Float32Array(rows * nb);
  const q = new Int8Array(rows * inF);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const o = xOff + r * inF + b * QK;
      let amax = 0;
      for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[o + j]!));
      const s = Math.fround(amax / 127);
      const id = s !== 0 ? Math.fround(1 / s) : 0;
      d[r * nb + b] = roundToHalf(s);
      for (let j = 0; j < QK; j++) q[r * inF + b * QK + j] = roundHalfAway(Math.fround(x[o + j]! * id));
    }
  }
  return { d, q };
}

/** y [rows, out] = x [rows, in] (from xOff) · Wᵀ with W [out, in] in `type` blocks. */
export function qmatmulReference(type: QuantType, w: Uint8Array, outF: number, inF: number, x: Float32Array, xOff: number, rows: number): Float32Array {
  checkQmatmulArgs(type, w, outF, inF, x, xOff, rows);
  const nb = inF / QK;
  const bb = QUANT_BLOCK_BYTES[type];
  const { d, q } = quantizeActivations(x, xOff, rows, inF);
  const y = new Float32Array(rows * outF);
  const wi = new Int8Array(w.buffer, w.byteOffset, w.byteLength);
  for (let o = 0; o < outF; o++) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let b = 0; b < nb; b++) {
        const blk = o * nb * bb + b * bb;
        const dw = halfToFloat(w[blk]! | (w[blk + 1]! << 8));
        const xq = r * inF + b * QK;
        let s = 0;
        if (type === "Q8_0") {
          for (let j = 0; j < QK; j++) s += wi[blk + 2 + j]! * q[xq + j]!;
        } else {
          for (let j = 0; j < QK / 2; j++) {
            const v = w[blk + 2 + j]!;
            s += ((v & 0x0f) - 8) * q[xq + j]! + ((v >> 4) - 8) * q[xq + j + QK / 2]!;
          }
        }
        sum = Math.fround(sum + Math.fround(s * Math.fround(dw * d[r * nb + b]!)));
      }
      y[r * outF + o] = sum;
    }
  }
  return y;
}

/** Throws a RangeError unless the arrays hold what the product reads. */
export function checkQmatmulArgs(type: QuantType, w: Uint8Array, outF: number, inF: number, x: Float32Array, xOff: number, rows: number): void {
  if (inF % QK !== 0) throw new RangeError(`qmatmul: the input size ${inF} is not a multiple of ${QK}`);
  if (w.length < (outF * inF / QK) * QUANT_BLOCK_BYTES[type]) throw new RangeError(`qmatmul: ${w.length} bytes cannot hold a ${outF}×${inF} ${type} matrix`);
  if (xOff < 0 || xOff + rows * inF > x.length) throw new RangeError(`qmatmul: x (${rows}×${inF} from ${xOff}) does not fit its array of ${x.length}`);
}

/** The float32 values of a [out, in] matrix in `type` blocks (what the importer hands the f32 path). */
export function dequantizeRows(type: QuantType, w: Uint8Array, outF: number, inF: number): Float32Array {
  const out = new Float32Array(outF * inF);
  const bb = QUANT_BLOCK_BYTES[type];
  const wi = new Int8Array(w.buffer, w.byteOffset, w.byteLength);
  for (let b = 0; b < (outF * inF) / QK; b++) {
    const o = b * bb;
    const d = halfToFloat(w[o]! | (w[o + 1]! << 8));
    for (let j = 0; j < QK; j++) {
      out[b * QK + j] = type === "Q8_0" ? d * wi[o + 2 + j]! : (((j < 16 ? w[o + 2 + j]! & 0x0f : w[o + 2 + j - 16]! >> 4) - 8) * d);
    }
  }
  return out;
}
