// Writing GGUF v3: the header is built in memory, tensor data is encoded and streamed one tensor at a
// time into a temporary file that is renamed into place at the end, so a crash never leaves half a
// model under the final name.
import { open, rename, rm } from "node:fs/promises";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import { MAX_KEY_BYTES, MAX_TENSOR_NAME_BYTES, alignUp } from "./header.js";
import { ENCODABLE_TYPES, encodeTensorData, type EncodableType } from "./quant.js";
import {
  GGML_MAX_DIMS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_TYPE,
  GGUF_VERSION,
  SCALAR_SIZE,
  ggmlTypeByName,
  type GgmlTypeName,
  type GgufArray,
  type GgufMetadata,
  type GgufValue,
} from "./types.js";

export type TensorData = Float32Array | Uint8Array;

export interface GgufTensorInput {
  name: string;
  /** ggml order: dims[0] is the row length; a `[out][in]` row-major matrix has dims [in, out]. */
  dims: number[];
  type: GgmlTypeName;
  /** Float32 values (encoded to `type`, which must be F32/F16/BF16/Q8_0/Q4_0) or the exact encoded bytes; a function is called when the tensor is written. */
  data: TensorData | (() => TensorData | Promise<TensorData>);
}

export interface GgufWriteInput {
  metadata: GgufMetadata | Iterable<[string, GgufValue]>;
  tensors: GgufTensorInput[];
}

const utf8 = new TextEncoder();

/** Writes a GGUF v3 file; returns its size in bytes. Progress counts tensors written. */
export async function writeGguf(path: string, input: GgufWriteInput, opts: LongOperationOptions = {}): Promise<number> {
  throwIfAborted(opts.signal);
  const plan = planGguf(input);
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const fh = await open(tmp, "w");
  let ok = false;
  try {
    await fh.write(plan.header);
    let pos = plan.header.length;
    for (let i = 0; i < plan.tensors.length; i++) {
      throwIfAborted(opts.signal);
      const t = plan.tensors[i]!;
      const bytes = await encodedData(t.input, t.byteSize);
      const pad = plan.dataOffset + t.offset - pos;
      if (pad > 0) await fh.write(new Uint8Array(pad));
      await fh.write(bytes);
      pos = plan.dataOffset + t.offset + bytes.length;
      opts.onProgress?.({ phase: "write-gguf", done: i + 1, total: plan.tensors.length, item: t.input.name });
    }
    // Pad the end too, so the data section is a whole number of alignment units (as llama.cpp writes it).
    const end = alignUp(pos, plan.alignment);
    if (end > pos) await fh.write(new Uint8Array(end - pos));
    await fh.sync();
    ok = true;
    await fh.close();
    await rename(tmp, path);
    return end;
  } finally {
    if (!ok) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
    }
  }
}

/** The whole file in memory (small models, tests); tensor data must not be functions returning promises. */
export function encodeGguf(input: GgufWriteInput): Uint8Array {
  const plan = planGguf(input);
  const last = plan.tensors.at(-1);
  const size = alignUp(last ? plan.dataOffset + last.offset + last.byteSize : plan.header.length, plan.alignment);
  const out = new Uint8Array(size);
  out.set(plan.header);
  for (const t of plan.tensors) {
    const data = typeof t.input.data === "function" ? t.input.data() : t.input.data;
    if (data instanceof Promise) throw new StrataError("USAGE", `tensor "${t.input.name}" has asynchronous data`, "use writeGguf for tensors whose data is produced asynchronously");
    out.set(encode(t.input, data, t.byteSize), plan.dataOffset + t.offset);
  }
  return out;
}

interface PlannedTensor {
  input: GgufTensorInput;
  offset: number;
  byteSize: number;
}

interface Plan {
  header: Uint8Array;
  tensors: PlannedTensor[];
  alignment: number;
  dataOffset: number;
}

function planGguf(input: GgufWriteInput): Plan {
  const metadata = input.metadata instanceof Map ? input.metadata : new Map(input.metadata);
  const alignment = alignmentOf(metadata);
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(BigInt(input.tensors.length));
  sink.u64(BigInt(metadata.size));
  for (const [key, value] of metadata) {
    const keyBytes = utf8.encode(key);
    if (keyBytes.length === 0 || keyBytes.length > MAX_KEY_BYTES) throw usage(`metadata key "${key.slice(0, 40)}" must be 1 to ${MAX_KEY_BYTES} bytes`);
    sink.bytesWithLength(keyBytes);
    sink.u32(GGUF_VALUE_TYPE[value.type]);
    writeValue(sink, value, key);
  }
  const tensors: PlannedTensor[] = [];
  const names = new Set<string>();
  let offset = 0;
  for (const t of input.tensors) {
    const nameBytes = utf8.encode(t.name);
    if (nameBytes.length === 0 || nameBytes.length > MAX_TENSOR_NAME_BYTES) throw usage(`tensor name "${t.name}" must be 1 to ${MAX_TENSOR_NAME_BYTES} bytes`);
    if (names.has(t.name)) throw usage(`tensor "${t.name}" is listed twice`);
    names.add(t.name);
    const type = ggmlTypeByName(t.type);
    if (!type) throw usage(`tensor "${t.name}" has unknown type ${String(t.type)}`);
    if (t.dims.length < 1 || t.dims.length > GGML_MAX_DIMS) throw usage(`tensor "${t.name}" has ${t.dims.length} dimensions; ggml allows 1 to ${GGML_MAX_DIMS}`);
    if (!t.dims.every((d) => Number.isSafeInteger(d) && d > 0)) throw usage(`tensor "${t.name}" has dimensions [${t.dims.join(", ")}]; each must be a positive integer`);
    if (t.dims[0]! % type.blockSize !== 0) throw usage(`tensor "${t.name}" is ${t.type} with rows of ${t.dims[0]}, not a multiple of its block size ${type.blockSize}`);
    const count = t.dims.reduce((a, b) => a * b, 1);
    const byteSize = (count / type.blockSize) * type.typeSize;
    sink.bytesWithLength(nameBytes);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(BigInt(d));
    sink.u32(type.id);
    sink.u64(BigInt(offset));
    tensors.push({ input: t, offset, byteSize });
    offset = alignUp(offset + byteSize, alignment);
  }
  const dataOffset = alignUp(sink.length, alignment);
  sink.zeros(dataOffset - sink.length);
  return { header: sink.finish(), tensors, alignment, dataOffset };
}

function alignmentOf(metadata: GgufMetadata): number {
  const v = metadata.get("general.alignment");
  if (!v) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== "uint32" || v.value <= 0 || (v.value & (v.value - 1)) !== 0) {
    throw usage(`general.alignment must be a uint32 power of two`, "use ggufValue.u32(32) or leave it out (32 is the default)");
  }
  return v.value;
}

async function encodedData(t: GgufTensorInput, byteSize: number): Promise<Uint8Array> {
  const data = typeof t.data === "function" ? await t.data() : t.data;
  return encode(t, data, byteSize);
}

function encode(t: GgufTensorInput, data: TensorData, byteSize: number): Uint8Array {
  if (data instanceof Float32Array) {
    if (!ENCODABLE_TYPES.includes(t.type as EncodableType)) {
      throw usage(`tensor "${t.name}" is ${t.type}, which Strata cannot quantize`, `pass its encoded bytes as a Uint8Array, or use one of ${ENCODABLE_TYPES.join(", ")}`);
    }
    const count = byteSize / ggmlTypeByName(t.type).typeSize * ggmlTypeByName(t.type).blockSize;
    if (data.length !== count) throw usage(`tensor "${t.name}" has shape [${t.dims.join(", ")}] (${count} values) but ${data.length} values were given`);
    return encodeTensorData(t.type as EncodableType, data);
  }
  if (data.length !== byteSize) throw usage(`tensor "${t.name}" needs ${byteSize} bytes of ${t.type} data but ${data.length} were given`);
  return data;
}

const INT_RANGES: Record<string, [number, number]> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

function writeValue(sink: ByteSink, v: GgufValue, key: string): void {
  if (v.type === "array") return writeArray(sink, v, key);
  if (v.type === "string") return sink.bytesWithLength(utf8.encode(v.value));
  writeScalar(sink, v.type, v.value, key);
}

function writeArray(sink: ByteSink, v: GgufArray, key: string): void {
  sink.u32(GGUF_VALUE_TYPE[v.itemType]);
  sink.u64(BigInt(v.value.length));
  if (v.itemType === "array") for (const item of v.value) writeArray(sink, item, key);
  else if (v.itemType === "string") for (const item of v.value) sink.bytesWithLength(utf8.encode(item));
  else for (const item of v.value) writeScalar(sink, v.itemType, item, key);
}

function writeScalar(sink: ByteSink, type: Exclude<GgufValue["type"], "string" | "array">, value: number | bigint | boolean, key: string): void {
  const range = INT_RANGES[type];
  if (range && (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw usage(`metadata "${key}": ${String(value)} is not a ${type}`);
  }
  if ((type === "uint64" || type === "int64") && typeof value !== "bigint") throw usage(`metadata "${key}": ${type} values must be bigints`);
  if (type === "uint64" && ((value as bigint) < 0n || (value as bigint) >= 1n << 64n)) throw usage(`metadata "${key}": ${String(value)} is not a uint64`);
  if (type === "int64" && ((value as bigint) < -(1n << 63n) || (value as bigint) >= 1n << 63n)) throw usage(`metadata "${key}": ${String(value)} is not an int64`);
  const dv = sink.reserve(SCALAR_SIZE[type]);
  switch (type) {
    case "uint8":
      return dv.setUint8(0, value as number);
    case "int8":
      return dv.setInt8(0, value as number);
    case "uint16":
      return dv.setUint16(0, value as number, true);
    case "int16":
      return dv.setInt16(0, value as number, true);
    case "uint32":
      return dv.setUint32(0, value as number, true);
    case "int32":
      return dv.setInt32(0, value as number, true);
    case "float32":
      return dv.setFloat32(0, value as number, true);
    case "float64":
      return dv.setFloat64(0, value as number, true);
    case "uint64":
      return dv.setBigUint64(0, value as bigint, true);
    case "int64":
      return dv.setBigInt64(0, value as bigint, true);
    case "bool":
      return dv.setUint8(0, value ? 1 : 0);
  }
}

function usage(message: string, hint = "fix the tensor or metadata passed to writeGguf"): StrataError {
  return new StrataError("USAGE", message, hint);
}

/** A growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  reserve(n: number): DataView {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    const dv = new DataView(this.buf.buffer, this.length, n);
    this.length += n;
    return dv;
  }

  u32(v: number): void {
    this.reserve(4).setUint32(0, v, true);
  }

  u64(v: bigint): void {
    this.reserve(8).setBigUint64(0, v, true);
  }

  bytesWithLength(bytes: Uint8Array): void {
    this.u64(BigInt(bytes.length));
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length - bytes.length);
  }

  zeros(n: number): void {
    this.reserve(n);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
