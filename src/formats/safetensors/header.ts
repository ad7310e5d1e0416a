// The safetensors header (https://huggingface.co/docs/safetensors, "Format"): 8 bytes of little-endian
// u64 N, then N bytes of UTF-8 JSON — an object mapping each tensor name to {dtype, shape,
// data_offsets: [begin, end]} (offsets relative to the byte buffer that follows the header), plus an
// optional "__metadata__" object of string → string — then the byte buffer. The spec asks readers to
// refuse a header over 100 MB, offsets outside the buffer, overlapping tensors and holes; this module
// checks all of that, and every size against the file's real length, before anything is allocated.

import { StrataError } from "../../core/errors.js";

/** Every dtype the spec names, with its size in bytes; Strata reads F32, F16 and BF16 (and F64). */
export const SAFETENSORS_DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;
/** The float types this module reads (into Float32Array) and writes. */
export const FLOAT_DTYPES = ["F32", "F16", "BF16", "F64"] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];
export type WritableDtype = "F32" | "F16" | "BF16";

/** The spec's limit on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Dimensions per tensor accepted (the spec sets none; 8 is far beyond what a model uses). */
export const MAX_RANK = 8;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data buffer. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Tensors in file order (by begin offset). */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data buffer starts in the file (8 + header length). */
  dataStart: number;
}

const HINT = "the file is damaged or not a safetensors file: write it again";

export function safetensorsInvalid(source: string, message: string, hint = HINT): StrataError {
  return new StrataError("SAFETENSORS_INVALID", `${source}: ${message}`, hint);
}

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || first8.length < 8) throw safetensorsInvalid(source, `only ${fileSize} bytes, shorter than the 8-byte header length`, "the file is truncated or not a safetensors file");
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n) throw safetensorsInvalid(source, `header length ${n} is too small for a JSON object`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw safetensorsInvalid(source, `header length ${n} bytes exceeds the 100 MB the format allows`, "the file is not a safetensors file (or is damaged)");
  const len = Number(n);
  if (8 + len > fileSize) throw safetensorsInvalid(source, `header of ${len} bytes runs past the end of the ${fileSize}-byte file`, "the file is truncated: write it again");
  return len;
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/** Parses and checks the JSON header; `dataBytes` is the size of the data buffer in the file. */
export function parseHeader(json: Uint8Array, headerLen: number, dataBytes: number, source: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    throw safetensorsInvalid(source, "the header is not UTF-8 text");
  }
  if (!text.startsWith("{")) throw safetensorsInvalid(source, "the header does not start with '{'", "the file is not a safetensors file");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw safetensorsInvalid(source, `the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw safetensorsInvalid(source, "the header is not a JSON object");
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw safetensorsInvalid(source, "__metadata__ is not an object of strings");
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") throw safetensorsInvalid(source, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw safetensorsInvalid(source, `${what} is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== "string" || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) throw safetensorsInvalid(source, `${what} has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every(isNonNegInt)) {
      throw safetensorsInvalid(source, `${what} has an invalid shape ${JSON.stringify(shape)?.slice(0, 80)} (want up to ${MAX_RANK} non-negative integers)`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) throw safetensorsInvalid(source, `${what} has invalid data_offsets ${JSON.stringify(offsets)?.slice(0, 80)}`);
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw safetensorsInvalid(source, `${what} ends (${end}) before it begins (${begin})`);
    if (end > dataBytes) throw safetensorsInvalid(source, `${what} ends at byte ${end} of a data buffer of ${dataBytes} bytes`, "the file is truncated: write it again");
    let count = 1;
    for (const d of shape as number[]) count *= d;
    const bytes = count * SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDtype];
    if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
      throw safetensorsInvalid(source, `${what} of shape [${(shape as number[]).join(", ")}] ${dtype} needs ${bytes} bytes but data_offsets give ${end - begin}`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The buffer must be covered exactly: no overlaps, no holes (the spec's rule, which also means no
  // hidden bytes), and nothing after the last tensor.
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) throw safetensorsInvalid(source, `tensor ${JSON.stringify(e.name)} overlaps the tensor before it (bytes ${e.begin}–${e.end})`);
    if (e.begin > at) throw safetensorsInvalid(source, `bytes ${at}–${e.begin} of the data buffer belong to no tensor`);
    at = e.end;
  }
  if (at !== dataBytes) throw safetensorsInvalid(source, `the data buffer has ${dataBytes} bytes but the tensors cover ${at}`, dataBytes > at ? "the file has trailing bytes: write it again" : HINT);
  return { entries, metadata, dataStart: 8 + headerLen };
}
