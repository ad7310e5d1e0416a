// Building metadata values with their on-disk types, and reading them back by key with a clear error
// when a key holds the wrong type.
import { ggufInvalid } from "./errors.js";
import type { GgufArray, GgufBigIntTypeName, GgufMetadata, GgufNumberTypeName, GgufValue } from "./types.js";

/** Typed metadata values: `ggufValue.u32(4096)`, `ggufValue.strings(["a", "b"])`. */
export const ggufValue = {
  u8: (value: number): GgufValue => ({ type: "uint8", value }),
  i8: (value: number): GgufValue => ({ type: "int8", value }),
  u16: (value: number): GgufValue => ({ type: "uint16", value }),
  i16: (value: number): GgufValue => ({ type: "int16", value }),
  u32: (value: number): GgufValue => ({ type: "uint32", value }),
  i32: (value: number): GgufValue => ({ type: "int32", value }),
  f32: (value: number): GgufValue => ({ type: "float32", value }),
  f64: (value: number): GgufValue => ({ type: "float64", value }),
  u64: (value: bigint | number): GgufValue => ({ type: "uint64", value: BigInt(value) }),
  i64: (value: bigint | number): GgufValue => ({ type: "int64", value: BigInt(value) }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: string[]): GgufArray => ({ type: "array", itemType: "string", value }),
  numbers: (itemType: GgufNumberTypeName, value: number[]): GgufArray => ({ type: "array", itemType, value }),
  bigints: (itemType: GgufBigIntTypeName, value: bigint[]): GgufArray => ({ type: "array", itemType, value }),
  bools: (value: boolean[]): GgufArray => ({ type: "array", itemType: "bool", value }),
  arrays: (value: GgufArray[]): GgufArray => ({ type: "array", itemType: "array", value }),
};

function wrongType(source: string, key: string, want: string, got: GgufValue): Error {
  const gotName = got.type === "array" ? `array of ${got.itemType}` : got.type;
  return ggufInvalid(source, `metadata key "${key}" should be ${want} but is ${gotName}`);
}

export function metaString(meta: GgufMetadata, key: string, source = "GGUF"): string | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== "string") throw wrongType(source, key, "a string", v);
  return v.value;
}

/** Any integer or float type; 64-bit integers must fit a double exactly. */
export function metaNumber(meta: GgufMetadata, key: string, source = "GGUF"): number | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type === "uint64" || v.type === "int64") {
    if (v.value > BigInt(Number.MAX_SAFE_INTEGER) || v.value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw ggufInvalid(source, `metadata key "${key}" holds ${v.value}, too large for this reader`);
    }
    return Number(v.value);
  }
  if (v.type === "string" || v.type === "array" || v.type === "bool") throw wrongType(source, key, "a number", v);
  return v.value as number;
}

export function metaBool(meta: GgufMetadata, key: string, source = "GGUF"): boolean | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== "bool") throw wrongType(source, key, "a bool", v);
  return v.value;
}

export function metaStringArray(meta: GgufMetadata, key: string, source = "GGUF"): string[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== "array" || v.itemType !== "string") throw wrongType(source, key, "an array of strings", v);
  return v.value;
}

export function metaNumberArray(meta: GgufMetadata, key: string, source = "GGUF"): number[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== "array" || v.itemType === "string" || v.itemType === "array" || v.itemType === "bool") {
    throw wrongType(source, key, "an array of numbers", v);
  }
  return v.itemType === "uint64" || v.itemType === "int64" ? (v.value as bigint[]).map(Number) : (v.value as number[]);
}
