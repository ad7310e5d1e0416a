// Finds NaN or infinity in a GGUF tensor from its stored bytes, without dequantizing: float tensors
// are checked value by value (an all-ones exponent is NaN or ±Inf), quantized ones through their
// float16 scale fields, the only place a block-quantized tensor can hold a non-finite value (its
// quants are integers). So a multi-gigabyte model is checked at the speed of reading it.
import type { GgmlTypeName, GgufTensorInfo } from "./types.js";

/** Byte offsets of the float16 fields (d, and dmin or m where present) inside one block (ggml-common.h). */
const HALF_FIELDS: Partial<Record<GgmlTypeName, number[]>> = {
  Q4_0: [0],
  Q4_1: [0, 2],
  Q5_0: [0],
  Q5_1: [0, 2],
  Q8_0: [0],
  Q8_1: [0, 2],
  Q2_K: [80, 82],
  Q3_K: [108],
  Q4_K: [0, 2],
  Q5_K: [0, 2],
  Q6_K: [208],
  IQ4_NL: [0],
};

const F16_EXP = 0x7c00;
const F32_EXP = 0x7f800000;

/** Whether this tensor type can be scanned (float types, and the block types with known scale fields). */
export function canScanFinite(typeName: GgmlTypeName): boolean {
  return typeName === "F32" || typeName === "F16" || typeName === "BF16" || HALF_FIELDS[typeName] !== undefined;
}

/** Index of the first non-finite element (for quantized types: the first element of the bad block), or -1. */
export function firstNonFiniteStored(info: GgufTensorInfo, bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const name = info.type.name;
  if (name === "F32") {
    for (let i = 0; i + 4 <= bytes.length; i += 4) if ((view.getUint32(i, true) & F32_EXP) === F32_EXP) return i / 4;
    return -1;
  }
  if (name === "BF16") {
    for (let i = 0; i + 2 <= bytes.length; i += 2) if ((view.getUint16(i, true) & 0x7f80) === 0x7f80) return i / 2;
    return -1;
  }
  if (name === "F16") {
    for (let i = 0; i + 2 <= bytes.length; i += 2) if ((view.getUint16(i, true) & F16_EXP) === F16_EXP) return i / 2;
    return -1;
  }
  const fields = HALF_FIELDS[name];
  if (!fields) return -1;
  const { typeSize, blockSize } = info.type;
  for (let block = 0; (block + 1) * typeSize <= bytes.length; block++) {
    for (const f of fields) if ((view.getUint16(block * typeSize + f, true) & F16_EXP) === F16_EXP) return block * blockSize;
  }
  return -1;
}
