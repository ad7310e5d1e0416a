// Reading a source file's bytes safely: the size limit is checked from stat before any byte is
// read, so a 200 MB file costs nothing; devices and FIFOs are refused instead of blocking.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { StrataError } from "../../core/errors.js";
import { fsError } from "./fs-errors.js";
import { emptyFile } from "./sniff.js";

export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

export function tooLarge(size: number, max: number): StrataError {
  return new StrataError("FILE_TOO_LARGE", `file is ${mib(size)}, over the ${mib(max)} limit`, "raise the size limit (CLI: --max-file-size 500MB; library: maxBytes) or split the file");
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function checkMaxBytes(max: number): number {
  if (!(max > 0)) throw new StrataError("USAGE", `the size limit must be a positive number of bytes, got ${max}`, "e.g. --max-file-size 50MB");
  return max;
}

/** Files up to this size are read with four blocking calls instead of five asynchronous ones. */
const SMALL_FILE = 256 * 1024;

/**
 * A small regular file's bytes, read on the calling thread (tens of microseconds from the page
 * cache; the promise round trips cost more); undefined for anything else. Opened non-blocking, so
 * a FIFO cannot hang the thread, and checked by fstat on the open descriptor.
 */
function readSmallFile(path: string, max: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined; // the asynchronous path reports the error
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0 || st.size > Math.min(max, SMALL_FILE)) return undefined;
    const out = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < st.size) {
      const r = readSync(fd, out, n, st.size - n, null);
      if (r === 0) break;
      n += r;
    }
    // It shrank or grew after the fstat: let the careful path deal with it.
    if (n !== st.size || readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0) return undefined;
    return out;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The bytes of a regular file no larger than maxBytes. */
export async function readSourceBytes(path: string, maxBytes = DEFAULT_MAX_BYTES, signal?: AbortSignal): Promise<Uint8Array> {
  const max = checkMaxBytes(maxBytes);
  if (signal?.aborted) throw new StrataError("ABORTED", "the operation was cancelled", "run it again to finish; finished work is kept");
  const small = readSmallFile(path, max);
  if (small) return small;
  const st = await stat(path).catch((e: unknown) => {
    throw fsError(e);
  });
  if (st.isDirectory()) throw new StrataError("UNSUPPORTED_TYPE", "path is a directory, not a file", "pass the folder as a source to ingest it recursively");
  if (!st.isFile()) throw new StrataError("UNSUPPORTED_TYPE", "not a regular file (device, FIFO or socket)", "pass regular files or folders only");
  if (st.size > max) throw tooLarge(st.size, max);
  if (st.size === 0) throw emptyFile();
  const bytes = await readFile(path, { signal }).catch((e: unknown) => {
    throw (e as Error).name === "AbortError" ? new StrataError("ABORTED", "the operation was cancelled", "run it again to finish; finished work is kept") : fsError(e);
  });
  if (bytes.length > max) throw tooLarge(bytes.length, max); // it grew after the stat
  return bytes;
}
