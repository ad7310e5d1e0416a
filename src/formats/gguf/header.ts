// Parses a GGUF header (everything before the tensor data) from the bytes of a file's prefix. Every
// length and count is checked against the bytes the file actually has before anything is allocated,
// so a hostile file fails fast with GGUF_INVALID. When the prefix is too short but the file is long
// enough, parsing stops with NeedMoreBytes and the caller reads a longer prefix.
import { ggufInvalid } from "./errors.js";
import {
  GGML_MAX_DIMS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  SCALAR_SIZE,
  ggmlTypeInfo,
  valueTypeName,
  type GgufArray,
  type GgufBigIntTypeName,
  type GgufMetadata,
  type GgufNumberTypeName,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueTypeName,
} from "./types.js";

export interface GgufLimits {
  /** Largest header (metadata + tensor infos) accepted. */
  maxHeaderBytes: number;
  /** Largest single string. */
  maxStringBytes: number;
  maxTensors: number;
  maxMetadataEntries: number;
  /** Items in one array (a 256k-token vocabulary is 262,144). */
  maxArrayLength: number;
  /** Nesting of arrays of arrays. */
  maxArrayDepth: number;
}

// Generous for real models (the largest vocabularies make headers of ~10 MB), small enough that a
// hostile header cannot make the reader allocate gigabytes.
export const DEFAULT_GGUF_LIMITS: GgufLimits = {
  maxHeaderBytes: 256 * 2 ** 20,
  maxStringBytes: 16 * 2 ** 20,
  maxTensors: 1_000_000,
  maxMetadataEntries: 1_000_000,
  maxArrayLength: 16 * 2 ** 20,
  maxArrayDepth: 8,
};

export interface GgufHeader {
  version: number;
  metadata: GgufMetadata;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Start of the tensor data section in the file. */
  dataOffset: number;
  fileSize: number;
}

/** The prefix ends before `required` bytes; the file has them. */
export class NeedMoreBytes extends Error {
  constructor(readonly required: number) {
    super(`need ${required} bytes of header`);
  }
}

/** ggml's limit on tensor names (GGML_MAX_NAME = 64 bytes with the terminating NUL). */
export const MAX_TENSOR_NAME_BYTES = 63;
/** The spec's limit on key length. */
export const MAX_KEY_BYTES = 65535;

const utf8 = new TextDecoder("utf-8");
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
// Smallest encoded size of an array element of each type, to bound counts by the bytes left.
const MIN_ITEM_BYTES = (t: GgufValueTypeName): number => (t === "string" ? 8 : t === "array" ? 12 : SCALAR_SIZE[t]);

class Cursor {
  pos = 0;
  private readonly dv: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly fileSize: number,
    private readonly source: string,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number, what: string): void {
    const end = this.pos + n;
    if (end > this.fileSize) {
      throw ggufInvalid(this.source, `truncated: ${what} at byte ${this.pos} needs ${n} bytes but the file ends at byte ${this.fileSize}`);
    }
    if (end > this.buf.length) throw new NeedMoreBytes(end);
  }

  get remaining(): number {
    return this.fileSize - this.pos;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A uint64 count or size that must be at most `max` (itself at most 2^53). */
  size(what: string, max: number, tooBig: (n: bigint) => string): number {
    const at = this.pos;
    const n = this.u64(what);
    if (n > BigInt(max)) {
      this.pos = at;
      throw ggufInvalid(this.source, `${tooBig(n)} (at byte ${at})`);
    }
    return Number(n);
  }

  scalar(type: Exclude<GgufValueTypeName, "string" | "array">, what: string): GgufValue {
    const size = SCALAR_SIZE[type];
    this.need(size, what);
    const p = this.pos;
    const dv = this.dv;
    this.pos += size;
    switch (type) {
      case "uint8":
        return { type, value: dv.getUint8(p) };
      case "int8":
        return { type, value: dv.getInt8(p) };
      case "uint16":
        return { type, value: dv.getUint16(p, true) };
      case "int16":
        return { type, value: dv.getInt16(p, true) };
      case "uint32":
        return { type, value: dv.getUint32(p, true) };
      case "int32":
        return { type, value: dv.getInt32(p, true) };
      case "float32":
        return { type, value: dv.getFloat32(p, true) };
      case "float64":
        return { type, value: dv.getFloat64(p, true) };
      case "uint64":
        return { type, value: dv.getBigUint64(p, true) };
      case "int64":
        return { type, value: dv.getBigInt64(p, true) };
      case "bool": {
        const b = dv.getUint8(p);
        if (b > 1) throw ggufInvalid(this.source, `${what} at byte ${p} is a bool holding ${b}; only 0 and 1 are valid`);
        return { type, value: b === 1 };
      }
    }
  }

  /** `n` numbers of one type, read straight from the buffer (vocabulary scores run to 100k+). */
  numbers(type: GgufNumberTypeName, n: number, what: string): number[] {
    const size = SCALAR_SIZE[type];
    this.need(n * size, what);
    const dv = this.dv;
    const out: number[] = new Array(n);
    let p = this.pos;
    for (let i = 0; i < n; i++, p += size) {
      switch (type) {
        case "uint8": out[i] = dv.getUint8(p); break;
        case "int8": out[i] = dv.getInt8(p); break;
        case "uint16": out[i] = dv.getUint16(p, true); break;
        case "int16": out[i] = dv.getInt16(p, true); break;
        case "uint32": out[i] = dv.getUint32(p, true); break;
        case "int32": out[i] = dv.getInt32(p, true); break;
        case "float32": out[i] = dv.getFloat32(p, true); break;
        case "float64": out[i] = dv.getFloat64(p, true); break;
      }
    }
    this.pos = p;
    return out;
  }

  bigints(type: GgufBigIntTypeName, n: number, what: string): bigint[] {
    this.need(n * 8, what);
    const out: bigint[] = new Array(n);
    for (let i = 0; i < n; i++, this.pos += 8) out[i] = type === "uint64" ? this.dv.getBigUint64(this.pos, true) : this.dv.getBigInt64(this.pos, true);
    return out;
  }

  stringBytes(what: string, maxBytes: number): Uint8Array {
    const len = this.size(`the length of ${what}`, Math.min(this.remaining - 8, maxBytes), (n) =>
      n > BigInt(this.remaining - 8) ? `truncated: ${what} claims ${n} bytes but only ${Math.max(0, this.remaining - 8)} remain in the file` : `${what} is ${n} bytes, over the ${maxBytes}-byte limit`,
    );
    this.need(len, what);
    const bytes = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return bytes;
  }

  string(what: string, maxBytes: number): string {
    return utf8.decode(this.stringBytes(what, maxBytes));
  }

  strictString(what: string, maxBytes: number): string {
    const at = this.pos;
    const bytes = this.stringBytes(what, maxBytes);
    try {
      return utf8Strict.decode(bytes);
    } catch {
      throw ggufInvalid(this.source, `${what} at byte ${at} is not valid UTF-8`);
    }
  }
}

export function parseGgufHeader(buf: Uint8Array, fileSize: number, source: string, limits: GgufLimits = DEFAULT_GGUF_LIMITS): GgufHeader {
  const c = new Cursor(buf, fileSize, source);
  if (fileSize < 4) throw ggufInvalid(source, `not a GGUF file: only ${fileSize} bytes`, "pass a .gguf model file");
  const magic = c.u32("the magic number");
  if (magic !== GGUF_MAGIC) {
    const shown = Array.from(buf.subarray(0, 4), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "\\x" + b.toString(16).padStart(2, "0"))).join("");
    throw ggufInvalid(source, `not a GGUF file: it starts with "${shown}" instead of "GGUF"`, "pass a .gguf model file (safetensors, .bin and GGML files need converting first)");
  }
  const version = c.u32("the version");
  if (version !== GGUF_VERSION && version !== 2) {
    const hint = "convert it again with a current llama.cpp (gguf version 3)";
    if (version === 1) throw ggufInvalid(source, "GGUF version 1 is no longer supported", hint);
    if ((version & 0xffff) === 0 && version >>> 24 <= GGUF_VERSION) throw ggufInvalid(source, "big-endian GGUF files are not supported", "use a little-endian build of the model");
    throw ggufInvalid(source, `unsupported GGUF version ${version} (this reader knows versions 2 and 3)`, hint);
  }
  // Every tensor info takes at least 24 bytes, every key-value at least 13: bound the counts by the file.
  const tensorCount = c.size("the tensor count", Math.min(limits.maxTensors, Math.floor(c.remaining / 24)), (n) => `truncated or corrupt: the header claims ${n} tensors, more than the ${fileSize}-byte file could hold`);
  const kvCount = c.size("the metadata count", Math.min(limits.maxMetadataEntries, Math.floor(c.remaining / 13)), (n) => `truncated or corrupt: the header claims ${n} metadata entries, more than the ${fileSize}-byte file could hold`);

  const metadata: GgufMetadata = new Map();
  for (let i = 0; i < kvCount; i++) {
    const keyAt = c.pos;
    const key = c.strictString(`metadata key ${i}`, MAX_KEY_BYTES);
    if (key.length === 0) throw ggufInvalid(source, `metadata key ${i} at byte ${keyAt} is empty`);
    if (metadata.has(key)) throw ggufInvalid(source, `metadata key "${key}" appears twice (second at byte ${keyAt})`);
    const what = `the value of "${key}"`;
    const typeAt = c.pos;
    const type = valueTypeName(c.u32(`the type of ${what}`));
    if (!type) throw ggufInvalid(source, `${what} has unknown value type ${readU32(buf, typeAt)} at byte ${typeAt}`);
    metadata.set(key, readValue(c, type, what, limits, 0, source));
    if (c.pos > limits.maxHeaderBytes) throw headerTooLarge(source, limits);
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignValue = metadata.get("general.alignment");
  if (alignValue) {
    if (alignValue.type !== "uint32") throw ggufInvalid(source, `general.alignment must be a uint32, not ${alignValue.type}`);
    alignment = alignValue.value;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw ggufInvalid(source, `general.alignment is ${alignment}; it must be a power of two`);
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = c.pos;
    const name = c.strictString(`the name of tensor ${i}`, MAX_TENSOR_NAME_BYTES);
    if (names.has(name)) throw ggufInvalid(source, `tensor "${name}" appears twice (second at byte ${at})`);
    names.add(name);
    const nDims = c.u32(`the dimension count of tensor "${name}"`);
    if (nDims < 1 || nDims > GGML_MAX_DIMS) throw ggufInvalid(source, `tensor "${name}" has ${nDims} dimensions; ggml allows 1 to ${GGML_MAX_DIMS}`);
    const dims: number[] = [];
    let elementCount = 1;
    for (let d = 0; d < nDims; d++) {
      const n = c.size(`dimension ${d} of tensor "${name}"`, Number.MAX_SAFE_INTEGER, (v) => `dimension ${d} of tensor "${name}" is ${v}, impossibly large`);
      dims.push(n);
      elementCount *= n;
      if (elementCount > Number.MAX_SAFE_INTEGER) throw ggufInvalid(source, `tensor "${name}" has shape [${dims.join(", ")}…], impossibly many elements`);
    }
    const typeAt = c.pos;
    const typeId = c.u32(`the type of tensor "${name}"`);
    const type = ggmlTypeInfo(typeId);
    if (!type) throw ggufInvalid(source, `tensor "${name}" has unknown ggml type id ${typeId} (at byte ${typeAt})`, "the file needs a newer reader, or it is damaged");
    if (dims[0]! % type.blockSize !== 0) {
      throw ggufInvalid(source, `tensor "${name}" is ${type.name} with rows of ${dims[0]} values, not a multiple of its block size ${type.blockSize}`);
    }
    const offsetAt = c.pos;
    const offset = c.size(`the data offset of tensor "${name}"`, Number.MAX_SAFE_INTEGER, (v) => `tensor "${name}" has data offset ${v}, beyond any file`);
    if (offset % alignment !== 0) throw ggufInvalid(source, `tensor "${name}" has data offset ${offset} (at byte ${offsetAt}), not a multiple of the alignment ${alignment}`);
    const byteSize = (elementCount / type.blockSize) * type.typeSize;
    tensors.push({ name, dims, type, offset, fileOffset: 0, elementCount, byteSize });
    if (c.pos > limits.maxHeaderBytes) throw headerTooLarge(source, limits);
  }

  const dataOffset = alignUp(c.pos, alignment);
  const dataBytes = fileSize - dataOffset;
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  let prevEnd = 0;
  let prevName = "";
  for (const t of byOffset) {
    t.fileOffset = dataOffset + t.offset;
    if (t.byteSize > 0 && t.offset + t.byteSize > dataBytes) {
      throw ggufInvalid(source, `truncated: tensor "${t.name}" needs bytes ${t.fileOffset}…${t.fileOffset + t.byteSize} but the file ends at byte ${fileSize}`);
    }
    if (t.offset < prevEnd) throw ggufInvalid(source, `tensor "${t.name}" overlaps tensor "${prevName}" in the data section`);
    if (t.byteSize > 0) {
      prevEnd = t.offset + t.byteSize;
      prevName = t.name;
    }
  }
  return { version, metadata, tensors, alignment, dataOffset, fileSize };
}

function readValue(c: Cursor, type: GgufValueTypeName, what: string, limits: GgufLimits, depth: number, source: string): GgufValue {
  if (type === "string") return { type, value: c.string(what, limits.maxStringBytes) };
  if (type !== "array") return c.scalar(type, what);
  return readArray(c, what, limits, depth, source);
}

function readArray(c: Cursor, what: string, limits: GgufLimits, depth: number, source: string): GgufArray {
  if (depth >= limits.maxArrayDepth) throw ggufInvalid(source, `${what} nests arrays deeper than ${limits.maxArrayDepth} levels`);
  const typeAt = c.pos;
  const itemTypeId = c.u32(`the item type of ${what}`);
  const itemType = valueTypeName(itemTypeId);
  if (!itemType) throw ggufInvalid(source, `${what} is an array of unknown value type ${itemTypeId} (at byte ${typeAt})`);
  const minItem = MIN_ITEM_BYTES(itemType);
  const room = Math.max(0, Math.floor((c.remaining - 8) / minItem));
  const n = c.size(`the length of ${what}`, Math.min(room, limits.maxArrayLength), (v) =>
    v > BigInt(room) ? `truncated: ${what} claims ${v} items but the file has room for at most ${room}` : `${what} has ${v} items, over the limit of ${limits.maxArrayLength}`,
  );
  // Items are pushed as they are read, never preallocated: a lying count fails at the file's end.
  switch (itemType) {
    case "string": {
      const value: string[] = [];
      for (let i = 0; i < n; i++) value.push(c.string(`item ${i} of ${what}`, limits.maxStringBytes));
      return { type: "array", itemType, value };
    }
    case "array": {
      const value: GgufArray[] = [];
      for (let i = 0; i < n; i++) value.push(readArray(c, `item ${i} of ${what}`, limits, depth + 1, source));
      return { type: "array", itemType, value };
    }
    case "uint64":
    case "int64":
      return { type: "array", itemType, value: c.bigints(itemType, n, what) };
    case "bool": {
      c.need(n, what);
      const value: boolean[] = [];
      for (let i = 0; i < n; i++) value.push(c.scalar(itemType, `item ${i} of ${what}`).value as boolean);
      return { type: "array", itemType, value };
    }
    default:
      return { type: "array", itemType, value: c.numbers(itemType, n, what) };
  }
}

function readU32(buf: Uint8Array, at: number): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(at, true);
}

function headerTooLarge(source: string, limits: GgufLimits): Error {
  return ggufInvalid(source, `the header is larger than ${limits.maxHeaderBytes} bytes`, "this is not a model header Strata can read; check the file");
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
