// Writing safetensors: tensors in the order given, each F32 (default), F16 or BF16; the JSON header
// padded with spaces so the data starts on an 8-byte boundary (as Hugging Face's writer does).
// `writeSafetensors` streams tensor by tensor to a temporary file, syncs it and renames it into
// place, so a crash leaves either the old file or the new one.

import { open, rename, rm } from "node:fs/promises";
import { endianness } from "node:os";
import { StrataError } from "../../core/errors.js";
import { f32ToBf16, f32ToF16 } from "../gguf/half.js";
import { SAFETENSORS_DTYPE_BYTES, type WritableDtype } from "./header.js";

export interface SafetensorsTensorInput {
  shape: readonly number[];
  data: Float32Array;
  /** Stored type (default F32). */
  dtype?: WritableDtype;
}

export interface SafetensorsWriteOptions {
  /** The `__metadata__` strings. */
  metadata?: Record<string, string>;
}

const LITTLE = endianness() === "LE";

interface Planned {
  name: string;
  tensor: SafetensorsTensorInput;
  dtype: WritableDtype;
  bytes: number;
}

function plan(tensors: Record<string, SafetensorsTensorInput>, options: SafetensorsWriteOptions): { header: Uint8Array; items: Planned[]; dataBytes: number } {
  const json: Record<string, unknown> = {};
  if (options.metadata && Object.keys(options.metadata).length > 0) json.__metadata__ = options.metadata;
  const items: Planned[] = [];
  let at = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === "__metadata__") throw new StrataError("USAGE", "a tensor cannot be named __metadata__", "rename the tensor");
    const dtype = tensor.dtype ?? "F32";
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== tensor.data.length) {
      throw new StrataError("SHAPE_MISMATCH", `tensor ${name}: shape [${tensor.shape.join(", ")}] does not hold its ${tensor.data.length} values`, "pass the tensor's real shape");
    }
    const bytes = count * SAFETENSORS_DTYPE_BYTES[dtype];
    json[name] = { dtype, shape: [...tensor.shape], data_offsets: [at, at + bytes] };
    items.push({ name, tensor, dtype, bytes });
    at += bytes;
  }
  let text = JSON.stringify(json);
  text += " ".repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8);
  const body = Buffer.from(text, "utf8");
  const header = new Uint8Array(8 + body.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.length), true);
  header.set(body, 8);
  return { header, items, dataBytes: at };
}

/** The stored bytes of one tensor (a view of the tensor's own storage for F32 on little-endian machines). */
function encodeData(p: Planned): Uint8Array {
  const { data } = p.tensor;
  if (p.dtype === "F32") {
    if (LITTLE) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const out = new Uint8Array(p.bytes);
    const v = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i]!, true);
    return out;
  }
  const out = new Uint8Array(p.bytes);
  const v = new DataView(out.buffer);
  const conv = p.dtype === "F16" ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < data.length; i++) v.setUint16(2 * i, conv(data[i]!), true);
  return out;
}

/** The whole file in memory. */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensorInput>, options: SafetensorsWriteOptions = {}): Uint8Array {
  const { header, items, dataBytes } = plan(tensors, options);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  let at = header.length;
  for (const p of items) {
    out.set(encodeData(p), at);
    at += p.bytes;
  }
  return out;
}

/** Writes a safetensors file atomically (temporary file, fsync, rename). Returns its size in bytes. */
export async function writeSafetensors(path: string, tensors: Record<string, SafetensorsTensorInput>, options: SafetensorsWriteOptions = {}): Promise<number> {
  const { header, items, dataBytes } = plan(tensors, options);
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    const fh = await open(tmp, "wx");
    try {
      await fh.write(header);
      for (const p of items) {
        const bytes = encodeData(p);
        for (let off = 0; off < bytes.length; ) {
          const { bytesWritten } = await fh.write(bytes, off, Math.min(bytes.length - off, 1 << 26));
          off += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new StrataError("UNREADABLE", `cannot write ${path}: ${(e as Error).message}`, "check that the folder exists, is writable and has space", { cause: e });
  }
  return header.length + dataBytes;
}
