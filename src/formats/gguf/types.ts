// GGUF v3 vocabulary (ggml's docs/gguf.md): metadata value types, ggml tensor types with their block
// layouts, and the shapes the reader returns and the writer takes. All integers are little-endian.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml tensors have at most 4 dimensions. */
export const GGML_MAX_DIMS = 4;

/** Metadata value type ids, as stored in the file. */
export const GGUF_VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufValueTypeName = keyof typeof GGUF_VALUE_TYPE;
export type GgufNumberTypeName = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";
export type GgufBigIntTypeName = "uint64" | "int64";

const VALUE_TYPE_NAMES = new Map<number, GgufValueTypeName>(
  Object.entries(GGUF_VALUE_TYPE).map(([name, id]) => [id, name as GgufValueTypeName]),
);

export function valueTypeName(id: number): GgufValueTypeName | undefined {
  return VALUE_TYPE_NAMES.get(id);
}

/** Bytes a scalar of this type takes on disk (strings and arrays vary). */
export const SCALAR_SIZE: Record<Exclude<GgufValueTypeName, "string" | "array">, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/** A metadata value with its on-disk type, so a file read and written again keeps every type. */
export type GgufValue =
  | { type: GgufNumberTypeName; value: number }
  | { type: GgufBigIntTypeName; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | GgufArray;

/** Arrays hold one element type; arrays of arrays nest. */
export type GgufArray =
  | { type: "array"; itemType: GgufNumberTypeName; value: number[] }
  | { type: "array"; itemType: GgufBigIntTypeName; value: bigint[] }
  | { type: "array"; itemType: "bool"; value: boolean[] }
  | { type: "array"; itemType: "string"; value: string[] }
  | { type: "array"; itemType: "array"; value: GgufArray[] };

/** Metadata in file order. */
export type GgufMetadata = Map<string, GgufValue>;

/** ggml tensor type ids (ggml.h `enum ggml_type`); gaps are ids ggml removed. */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;

export type GgmlTypeName = keyof typeof GGML_TYPE;

export interface GgmlTypeInfo {
  id: number;
  name: GgmlTypeName;
  /** Elements per block (1 for plain element types). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

// Block sizes and bytes per block from ggml's type traits (ggml-common.h structs).
const TYPE_LAYOUT: Record<GgmlTypeName, [blockSize: number, typeSize: number]> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 18],
  Q4_1: [32, 20],
  Q5_0: [32, 22],
  Q5_1: [32, 24],
  Q8_0: [32, 34],
  Q8_1: [32, 36],
  Q2_K: [256, 84],
  Q3_K: [256, 110],
  Q4_K: [256, 144],
  Q5_K: [256, 176],
  Q6_K: [256, 210],
  Q8_K: [256, 292],
  IQ2_XXS: [256, 66],
  IQ2_XS: [256, 74],
  IQ3_XXS: [256, 98],
  IQ1_S: [256, 50],
  IQ4_NL: [32, 18],
  IQ3_S: [256, 110],
  IQ2_S: [256, 82],
  IQ4_XS: [256, 136],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [256, 56],
  BF16: [1, 2],
  TQ1_0: [256, 54],
  TQ2_0: [256, 66],
  MXFP4: [32, 17],
};

const TYPE_INFO_BY_ID = new Map<number, GgmlTypeInfo>(
  (Object.keys(GGML_TYPE) as GgmlTypeName[]).map((name) => {
    const [blockSize, typeSize] = TYPE_LAYOUT[name];
    return [GGML_TYPE[name], { id: GGML_TYPE[name], name, blockSize, typeSize }];
  }),
);

export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return TYPE_INFO_BY_ID.get(id);
}

export function ggmlTypeByName(name: GgmlTypeName): GgmlTypeInfo {
  return TYPE_INFO_BY_ID.get(GGML_TYPE[name])!;
}

/** A tensor as listed in the file's header. */
export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the fastest-varying (the row length); a `[out][in]` matrix has dims [in, out]. */
  dims: number[];
  type: GgmlTypeInfo;
  /** Offset of the data from the start of the data section (a multiple of the alignment). */
  offset: number;
  /** Offset of the data from the start of the file. */
  fileOffset: number;
  elementCount: number;
  byteSize: number;
}
