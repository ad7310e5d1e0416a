// Tensor data encodings, both ways: F32/F16/BF16, the 32-value blocks Q8_0, Q4_0, Q4_1, Q5_0, Q5_1
// (ggml's reference rounding), and the K-quants Q2_K…Q6_K (quant-k.ts). Block layouts are ggml-common.h's; every multi-byte field is
// little-endian. `count` is always a whole number of blocks (the reader checks row lengths).
import { StrataError } from "../../core/errors.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.js";
import { QK_K, dequantizeQ2_K, dequantizeQ3_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K, quantizeQ2_K, quantizeQ3_K, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K } from "./quant-k.js";
import { ggmlTypeByName, type GgmlTypeInfo, type GgmlTypeName } from "./types.js";

/** Types the writer can encode from float32 values. */
export const ENCODABLE_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"] as const;
export type EncodableType = (typeof ENCODABLE_TYPES)[number];
/** Types the reader can decode to float32 values. */
export const DECODABLE_TYPES: readonly GgmlTypeName[] = ["F32", "F16", "BF16", "F64", "I8", "I16", "I32", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"];

const QK = 32;

const K_ENCODERS = { Q2_K: quantizeQ2_K, Q3_K: quantizeQ3_K, Q4_K: quantizeQ4_K, Q5_K: quantizeQ5_K, Q6_K: quantizeQ6_K } as const;

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

/** The value of largest magnitude in the block at `b`, with its sign. */
function signedMax(x: Float32Array, b: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < QK; j++) {
    const v = x[b + j]!;
    if (Math.abs(v) > amax) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkBlocks(x.length, QK, "Q4_0");
  const out = new Uint8Array((x.length / QK) * 18);
  const dv = view(out);
  for (let b = 0, o = 0; b < x.length; b += QK, o += 18) {
    // The value of largest magnitude, sign kept, maps to -8: the full 4-bit range is used on that side.
    const d = Math.fround(signedMax(x, b) / -8);
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

/** Q4_1 (20 bytes): f16 d, f16 m, 16 bytes of 4-bit quants (low nibbles the first 16 values); x = d·q + m. */
export function quantizeQ4_1(x: Float32Array): Uint8Array {
  return quantizeWithMin(x, 4);
}

/** Q5_1 (24 bytes): f16 d, f16 m, 4 bytes of fifth bits (bit j: value j), 16 bytes of low nibbles. */
export function quantizeQ5_1(x: Float32Array): Uint8Array {
  return quantizeWithMin(x, 5);
}

function quantizeWithMin(x: Float32Array, bits: 4 | 5): Uint8Array {
  const type = bits === 4 ? "Q4_1" : "Q5_1";
  checkBlocks(x.length, QK, type);
  const size = bits === 4 ? 20 : 24;
  const qs = bits === 4 ? 4 : 8;
  const out = new Uint8Array((x.length / QK) * size);
  const dv = view(out);
  for (let b = 0, o = 0; b < x.length; b += QK, o += size) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK; j++) {
      min = Math.min(min, x[b + j]!);
      max = Math.max(max, x[b + j]!);
    }
    const d = Math.fround((max - min) / ((1 << bits) - 1));
    const id = d ? Math.fround(1 / d) : 0;
    dv.setUint16(o, f32ToF16(d), true);
    dv.setUint16(o + 2, f32ToF16(min), true);
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      const q0 = Math.min((1 << bits) - 1, Math.trunc(Math.fround(Math.fround((x[b + j]! - min) * id) + 0.5)));
      const q1 = Math.min((1 << bits) - 1, Math.trunc(Math.fround(Math.fround((x[b + j + QK / 2]! - min) * id) + 0.5)));
      out[o + qs + j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + QK / 2));
    }
    if (bits === 5) dv.setUint32(o + 4, qh >>> 0, true);
  }
  return out;
}

/** Q5_0 (22 bytes): f16 d, 4 bytes of fifth bits, 16 bytes of low nibbles; x = d·(q − 16). */
export function quantizeQ5_0(x: Float32Array): Uint8Array {
  checkBlocks(x.length, QK, "Q5_0");
  const out = new Uint8Array((x.length / QK) * 22);
  const dv = view(out);
  for (let b = 0, o = 0; b < x.length; b += QK, o += 22) {
    const d = Math.fround(signedMax(x, b) / -16);
    const id = d ? Math.fround(1 / d) : 0;
    dv.setUint16(o, f32ToF16(d), true);
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      const q0 = Math.min(31, Math.trunc(Math.fround(Math.fround(x[b + j]! * id) + 16.5)));
      const q1 = Math.min(31, Math.trunc(Math.fround(Math.fround(x[b + j + QK / 2]! * id) + 16.5)));
      out[o + 6 + j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + QK / 2));
    }
    dv.setUint32(o + 2, qh >>> 0, true);
  }
  return out;
}

/** Q4_1, Q5_0 and Q5_1 back to float32 (layouts above). */
function dequantizeLegacy(bytes: Uint8Array, count: number, type: "Q4_1" | "Q5_0" | "Q5_1"): Float32Array {
  const size = type === "Q4_1" ? 20 : type === "Q5_0" ? 22 : 24;
  const hasMin = type !== "Q5_0";
  const five = type !== "Q4_1";
  const qhAt = hasMin ? 4 : 2;
  const qs = qhAt + (five ? 4 : 0);
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK, o += size) {
    const d = f16ToF32(dv.getUint16(o, true));
    const m = hasMin ? f16ToF32(dv.getUint16(o + 2, true)) : 0;
    const qh = five ? dv.getUint32(o + qhAt, true) : 0;
    const offset = hasMin ? 0 : -16;
    for (let j = 0; j < QK / 2; j++) {
      const q = bytes[o + qs + j]!;
      const q0 = (q & 0xf) | (((qh >>> j) & 1) << 4);
      const q1 = (q >> 4) | (((qh >>> (j + QK / 2)) & 1) << 4);
      out[b + j] = (q0 + offset) * d + m;
      out[b + j + QK / 2] = (q1 + offset) * d + m;
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
    case "Q4_1":
      return quantizeQ4_1(x);
    case "Q5_0":
      return quantizeQ5_0(x);
    case "Q5_1":
      return quantizeQ5_1(x);
    default:
      checkBlocks(x.length, QK_K, type);
      return K_ENCODERS[type](x);
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
    case "Q4_1":
    case "Q5_0":
    case "Q5_1":
      return dequantizeLegacy(bytes, count, type.name);
    case "Q2_K":
      return dequantizeQ2_K(bytes, count);
    case "Q3_K":
      return dequantizeQ3_K(bytes, count);
    case "Q4_K":
      return dequantizeQ4_K(bytes, count);
    case "Q5_K":
      return dequantizeQ5_K(bytes, count);
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
