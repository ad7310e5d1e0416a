// Tensor data encodings: F32/F16/BF16 both ways, Q8_0 and Q4_0 quantize + dequantize (ggml's reference
// rounding), Q4_K and Q6_K dequantize. Block layouts are ggml-common.h's; every multi-byte field is
// little-endian. `count` is always a whole number of blocks (the reader checks row lengths).
import { StrataError } from "../../core/errors.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.js";
import { ggmlTypeByName, type GgmlTypeInfo, type GgmlTypeName } from "./types.js";

/** Types the writer can encode from float32 values. */
export type EncodableType = "F32" | "F16" | "BF16" | "Q8_0" | "Q4_0";
export const ENCODABLE_TYPES: readonly EncodableType[] = ["F32", "F16", "BF16", "Q8_0", "Q4_0"];
/** Types the reader can decode to float32 values. */
export const DECODABLE_TYPES: readonly GgmlTypeName[] = ["F32", "F16", "BF16", "F64", "I8", "I16", "I32", "Q8_0", "Q4_0", "Q4_K", "Q6_K"];

const QK = 32;
const QK_K = 256;

// ggml uses C's roundf: halves go away from zero.
const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function checkBlocks(values: number, blockSize: number, type: string): void {
  if (values % blockSize !== 0) {
    throw new StrataError("USAGE", `${type} stores blocks of ${blockSize} values; ${values} values do not fill whole blocks`, `pad rows to a multiple of ${blockSize} or pick F32/F16`);
  }
}

export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkBlocks(x.length, QK, "Q8_0");
  const out = new Uint8Array((x.length / QK) * 34);
  const dv = view(out);
  for (let b = 0, o = 0; b < x.length; b += QK, o += 34) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b + j]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    dv.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK; j++) dv.setInt8(o + 2 + j, roundHalfAway(Math.fround(x[b + j]! * id)));
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK, o += 34) {
    const d = f16ToF32(dv.getUint16(o, true));
    for (let j = 0; j < QK; j++) out[b + j] = d * dv.getInt8(o + 2 + j);
  }
  return out;
}

export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkBlocks(x.length, QK, "Q4_0");
  const out = new Uint8Array((x.length / QK) * 18);
  const dv = view(out);
  for (let b = 0, o = 0; b < x.length; b += QK, o += 18) {
    // The value of largest magnitude, sign kept, maps to -8: the full 4-bit range is used on that side.
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[b + j]!;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    dv.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK / 2; j++) {
      const q0 = Math.min(15, Math.trunc(Math.fround(Math.fround(x[b + j]! * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(Math.fround(x[b + j + QK / 2]! * id) + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

export function dequantizeQ4_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK, o += 18) {
    const d = f16ToF32(dv.getUint16(o, true));
    for (let j = 0; j < QK / 2; j++) {
      const q = bytes[o + 2 + j]!;
      out[b + j] = ((q & 0x0f) - 8) * d;
      out[b + j + QK / 2] = ((q >> 4) - 8) * d;
    }
  }
  return out;
}

/**
 * Q4_K super-block (144 bytes, 256 values): f16 d, f16 dmin, 12 bytes holding eight 6-bit scales and
 * eight 6-bit mins, 128 bytes of 4-bit quants. Sub-block j (32 values) is d·scale[j]·q − dmin·min[j];
 * quant bytes serve two sub-blocks: low nibbles the first, high nibbles the second.
 */
export function dequantizeQ4_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK_K, o += 144) {
    const d = f16ToF32(dv.getUint16(o, true));
    const dmin = f16ToF32(dv.getUint16(o + 2, true));
    const s = o + 4;
    for (let pair = 0; pair < 4; pair++) {
      const q = o + 16 + pair * 32;
      for (let half = 0; half < 2; half++) {
        const [scale, min] = scaleMinK4(bytes, s, pair * 2 + half);
        const dl = d * scale;
        const ml = dmin * min;
        const base = b + pair * 64 + half * 32;
        for (let l = 0; l < 32; l++) {
          const nib = half === 0 ? bytes[q + l]! & 0x0f : bytes[q + l]! >> 4;
          out[base + l] = dl * nib - ml;
        }
      }
    }
  }
  return out;
}

/** The 6-bit scale and min of sub-block j from the 12 packed bytes at `s`. */
export function scaleMinK4(bytes: Uint8Array, s: number, j: number): [scale: number, min: number] {
  if (j < 4) return [bytes[s + j]! & 63, bytes[s + j + 4]! & 63];
  const scale = (bytes[s + j + 4]! & 0x0f) | ((bytes[s + j - 4]! >> 6) << 4);
  const min = (bytes[s + j + 4]! >> 4) | ((bytes[s + j]! >> 6) << 4);
  return [scale, min];
}

/**
 * Q6_K super-block (210 bytes, 256 values): 128 bytes of low 4 bits, 64 bytes of high 2 bits,
 * sixteen int8 scales (one per 16 values), f16 d. Value = d·scale·(q − 32) with q in 0…63.
 */
export function dequantizeQ6_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK_K, o += 210) {
    const d = f16ToF32(dv.getUint16(o + 208, true));
    for (let n = 0; n < 2; n++) {
      const ql = o + n * 64;
      const qh = o + 128 + n * 32;
      const sc = o + 192 + n * 8;
      const y = b + n * 128;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = bytes[qh + l]!;
        const q1 = ((bytes[ql + l]! & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32]! & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[y + l] = d * dv.getInt8(sc + is) * q1;
        out[y + l + 32] = d * dv.getInt8(sc + is + 2) * q2;
        out[y + l + 64] = d * dv.getInt8(sc + is + 4) * q3;
        out[y + l + 96] = d * dv.getInt8(sc + is + 6) * q4;
      }
    }
  }
  return out;
}

/** Encodes float32 values as `type`'s bytes. */
export function encodeTensorData(type: EncodableType, x: Float32Array): Uint8Array {
  switch (type) {
    case "F32": {
      if (LITTLE_ENDIAN) return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
      const out = new Uint8Array(x.length * 4);
      const dv = view(out);
      for (let i = 0; i < x.length; i++) dv.setFloat32(i * 4, x[i]!, true);
      return out;
    }
    case "F16":
    case "BF16": {
      const out = new Uint8Array(x.length * 2);
      const dv = view(out);
      const conv = type === "F16" ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < x.length; i++) dv.setUint16(i * 2, conv(x[i]!), true);
      return out;
    }
    case "Q8_0":
      return quantizeQ8_0(x);
    case "Q4_0":
      return quantizeQ4_0(x);
  }
}

/** Decodes `count` values of `type` from their bytes (exactly the tensor's bytes). */
export function decodeTensorData(type: GgmlTypeInfo, bytes: Uint8Array, count: number): Float32Array {
  const dv = view(bytes);
  const plain = (size: number, get: (offset: number) => number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = get(i * size);
    return out;
  };
  switch (type.name) {
    case "F32":
      return plain(4, (o) => dv.getFloat32(o, true));
    case "F16":
      return plain(2, (o) => f16ToF32(dv.getUint16(o, true)));
    case "BF16":
      return plain(2, (o) => bf16ToF32(dv.getUint16(o, true)));
    case "F64":
      return plain(8, (o) => dv.getFloat64(o, true));
    case "I8":
      return plain(1, (o) => dv.getInt8(o));
    case "I16":
      return plain(2, (o) => dv.getInt16(o, true));
    case "I32":
      return plain(4, (o) => dv.getInt32(o, true));
    case "Q8_0":
      return dequantizeQ8_0(bytes, count);
    case "Q4_0":
      return dequantizeQ4_0(bytes, count);
    case "Q4_K":
      return dequantizeQ4_K(bytes, count);
    case "Q6_K":
      return dequantizeQ6_K(bytes, count);
    default:
      throw new StrataError("UNSUPPORTED_TYPE", `tensors of type ${type.name} cannot be dequantized by Strata yet`, `supported: ${DECODABLE_TYPES.join(", ")}; read the raw bytes with readTensorBytes instead`);
  }
}

/** Bytes `count` values of `type` take (count must fill whole blocks). */
export function tensorByteSize(typeName: GgmlTypeName, count: number): number {
  const t = ggmlTypeByName(typeName);
  return (count / t.blockSize) * t.typeSize;
}
