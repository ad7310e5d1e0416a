// Reading safetensors: the header first (checked against the file's size before anything is
// allocated), tensor data on demand with positioned reads, converted to Float32Array.

import { open, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { StrataError } from "../../core/errors.js";
import { bf16ToF32, f16ToF32 } from "../gguf/half.js";
import { type SafetensorsEntry, type SafetensorsHeader, headerLength, parseHeader, safetensorsInvalid } from "./header.js";

export interface SafetensorsTensor {
  shape: number[];
  data: Float32Array;
}

const LITTLE = endianness() === "LE";

/** Bytes of one tensor (as stored) → float32 values. */
export function decodeFloats(bytes: Uint8Array, entry: SafetensorsEntry, source: string): Float32Array {
  const n = entry.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case "F32":
      if (LITTLE) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
      return out;
    case "BF16":
      for (let i = 0; i < n; i++) out[i] = bf16ToF32(view.getUint16(2 * i, true));
      return out;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    default:
      throw safetensorsInvalid(source, `tensor ${JSON.stringify(entry.name)} has dtype ${entry.dtype}; Strata reads F32, F16, BF16 and F64`, "convert the weights to a float type");
  }
}

/** An open safetensors file: the header is read; tensors are read when asked for. */
export interface SafetensorsFile {
  readonly source: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly entries: readonly SafetensorsEntry[];
  has(name: string): boolean;
  entry(name: string): SafetensorsEntry;
  /** One tensor as float32 (F16/BF16/F64 converted). */
  read(name: string): Promise<SafetensorsTensor>;
  close(): Promise<void>;
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `${path} does not exist`, "check the path");
    throw new StrataError("UNREADABLE", `${path} cannot be opened: ${(e as Error).message}`, "check the path and its permissions", { cause: e });
  }
}

async function readExactly(fh: FileHandle, length: number, position: number, source: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw safetensorsInvalid(source, `the file ends at byte ${position + got}, before the ${length} bytes expected at ${position}`, "the file is truncated: write it again");
    got += bytesRead;
  }
  return buf;
}

/** Opens a safetensors file and checks its header; read tensors with `read(name)`, then `close()`. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const fh = await openFile(path);
  try {
    const { size } = await fh.stat();
    const first = await readExactly(fh, Math.min(8, size), 0, path);
    const len = headerLength(first, size, path);
    const header = parseHeader(await readExactly(fh, len, 8, path), len, size - 8 - len, path);
    return fileFromHeader(path, header, (e) => readExactly(fh, e.end - e.begin, header.dataStart + e.begin, path), () => fh.close());
  } catch (e) {
    await fh.close();
    throw e;
  }
}

function fileFromHeader(source: string, header: SafetensorsHeader, bytesOf: (e: SafetensorsEntry) => Promise<Uint8Array>, close: () => Promise<void>): SafetensorsFile {
  const byName = new Map(header.entries.map((e) => [e.name, e]));
  const entry = (name: string): SafetensorsEntry => {
    const e = byName.get(name);
    if (!e) throw safetensorsInvalid(source, `has no tensor ${JSON.stringify(name)}`, "the file was written for another model");
    return e;
  };
  return {
    source,
    metadata: header.metadata,
    entries: header.entries,
    has: (name) => byName.has(name),
    entry,
    read: async (name) => {
      const e = entry(name);
      return { shape: [...e.shape], data: decodeFloats(await bytesOf(e), e, source) };
    },
    close,
  };
}

/** Reads every tensor of a safetensors file (file order) and its metadata. */
export async function readSafetensors(path: string): Promise<{ metadata: Record<string, string>; tensors: Record<string, SafetensorsTensor> }> {
  const f = await openSafetensors(path);
  try {
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const e of f.entries) tensors[e.name] = await f.read(e.name);
    return { metadata: { ...f.metadata }, tensors };
  } finally {
    await f.close();
  }
}

/** Parses safetensors bytes held in memory. */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): { metadata: Record<string, string>; tensors: Record<string, SafetensorsTensor> } {
  const len = headerLength(bytes.subarray(0, 8), bytes.length, source);
  const header = parseHeader(bytes.subarray(8, 8 + len), len, bytes.length - 8 - len, source);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of header.entries) {
    tensors[e.name] = { shape: [...e.shape], data: decodeFloats(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), e, source) };
  }
  return { metadata: header.metadata, tensors };
}
