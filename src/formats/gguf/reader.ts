// Reading GGUF files: the header (metadata + tensor infos) first, tensor data only when asked for,
// straight from the file handle, so a multi-GB model costs only its header until a tensor is read.
import { open, type FileHandle } from "node:fs/promises";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import { ggufInvalid } from "./errors.js";
import { DEFAULT_GGUF_LIMITS, NeedMoreBytes, parseGgufHeader, type GgufHeader, type GgufLimits } from "./header.js";
import { decodeTensorData } from "./quant.js";
import type { GgufTensorInfo } from "./types.js";

export interface GgufReader extends GgufHeader {
  /** The path, or a label for in-memory files; used in error messages. */
  source: string;
  tensor(name: string): GgufTensorInfo | undefined;
  /** The tensor's bytes exactly as stored. */
  readTensorBytes(tensor: string | GgufTensorInfo, opts?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** The tensor's values as float32 (dequantized where needed), in ggml order: dims[0] varies fastest. */
  readTensor(tensor: string | GgufTensorInfo, opts?: { signal?: AbortSignal }): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface OpenGgufOptions {
  signal?: AbortSignal;
  limits?: Partial<GgufLimits>;
}

const FIRST_READ = 1 << 20;

/** Opens a GGUF file and reads its header; call `close()` when done. */
export async function openGguf(path: string, opts: OpenGgufOptions = {}): Promise<GgufReader> {
  throwIfAborted(opts.signal);
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw fileError(path, e);
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new StrataError("UNREADABLE", `${path} is not a file`, "pass the path of a .gguf file");
    const header = await readHeader(fh, stat.size, path, { ...DEFAULT_GGUF_LIMITS, ...opts.limits }, opts.signal);
    return makeReader(header, path, async (t) => {
      const out = new Uint8Array(t.byteSize);
      if (!(await readAt(fh, out, 0, t.fileOffset))) throw ggufInvalid(path, `truncated: tensor "${t.name}" ends past the end of the file (it changed since it was opened?)`);
      return out;
    }, () => fh.close());
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Reads a GGUF held in memory (small files, tests). */
export function readGgufBuffer(bytes: Uint8Array, source = "GGUF buffer", limits: Partial<GgufLimits> = {}): GgufReader {
  const header = parseGgufHeader(bytes, bytes.length, source, { ...DEFAULT_GGUF_LIMITS, ...limits });
  return makeReader(header, source, async (t) => bytes.slice(t.fileOffset, t.fileOffset + t.byteSize), async () => {});
}

/** Just the header of a file (metadata and tensor infos), with the file closed again. */
export async function readGgufHeader(path: string, opts: OpenGgufOptions = {}): Promise<GgufHeader> {
  const r = await openGguf(path, opts);
  await r.close();
  const { version, metadata, tensors, alignment, dataOffset, fileSize } = r;
  return { version, metadata, tensors, alignment, dataOffset, fileSize };
}

async function readHeader(fh: FileHandle, fileSize: number, source: string, limits: GgufLimits, signal?: AbortSignal): Promise<GgufHeader> {
  let buf = new Uint8Array(Math.min(fileSize, FIRST_READ));
  if (!(await readAt(fh, buf, 0, 0))) throw changedWhileReading(source);
  for (;;) {
    throwIfAborted(signal);
    try {
      return parseGgufHeader(buf, fileSize, source, limits);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      if (e.required > limits.maxHeaderBytes) {
        throw ggufInvalid(source, `the header is larger than ${limits.maxHeaderBytes} bytes`, "this is not a model header Strata can read; check the file");
      }
      // Grow geometrically so a long header costs a few reads, never one per string.
      const size = Math.min(fileSize, Math.max(e.required, buf.length * 2));
      const next = new Uint8Array(size);
      next.set(buf);
      if (!(await readAt(fh, next, buf.length, buf.length))) throw changedWhileReading(source);
      buf = next;
    }
  }
}

/** Fills buf[from…] from the file at `position`, in chunks (one read is capped at 2 GiB); false when the file ends first. */
async function readAt(fh: FileHandle, buf: Uint8Array, from: number, position: number): Promise<boolean> {
  const CHUNK = 1 << 30;
  for (let at = from, pos = position; at < buf.length; ) {
    const { bytesRead } = await fh.read(buf, at, Math.min(CHUNK, buf.length - at), pos);
    if (bytesRead === 0) return false;
    at += bytesRead;
    pos += bytesRead;
  }
  return true;
}

function changedWhileReading(source: string): StrataError {
  return new StrataError("UNREADABLE", `${source} ended while its header was read (is it still being written?)`, "wait until the file is complete and try again");
}

function makeReader(
  header: GgufHeader,
  source: string,
  readBytes: (t: GgufTensorInfo) => Promise<Uint8Array>,
  close: () => Promise<void>,
): GgufReader {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  let closed = false;
  const resolve = (tensor: string | GgufTensorInfo): GgufTensorInfo => {
    if (closed) throw new StrataError("USAGE", `${source} is closed`, "read tensors before calling close()");
    if (typeof tensor !== "string") return tensor;
    const t = byName.get(tensor);
    if (!t) throw new StrataError("NOT_FOUND", `${source} has no tensor "${tensor}"`, `it has ${header.tensors.length} tensors, e.g. ${header.tensors.slice(0, 3).map((x) => x.name).join(", ") || "none"}`);
    return t;
  };
  const readTensorBytes = async (tensor: string | GgufTensorInfo, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array> => {
    throwIfAborted(opts.signal);
    return readBytes(resolve(tensor));
  };
  return {
    ...header,
    source,
    tensor: (name) => byName.get(name),
    readTensorBytes,
    async readTensor(tensor, opts = {}) {
      const t = resolve(tensor);
      const bytes = await readTensorBytes(t, opts);
      try {
        return decodeTensorData(t.type, bytes, t.elementCount);
      } catch (e) {
        if (e instanceof StrataError) throw new StrataError(e.code, `${source}: tensor "${t.name}": ${e.message}`, e.hint);
        throw e;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

function fileError(path: string, e: unknown): StrataError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new StrataError("NOT_FOUND", `${path} does not exist`, "check the path of the model file");
  if (code === "EISDIR") return new StrataError("UNREADABLE", `${path} is a folder, not a GGUF file`, "pass the path of a .gguf file");
  if (code === "EACCES" || code === "EPERM") return new StrataError("UNREADABLE", `${path} cannot be read (permission denied)`, "check the file's permissions");
  return new StrataError("UNREADABLE", `${path} cannot be opened: ${(e as Error).message}`, "check the path and the file");
}
