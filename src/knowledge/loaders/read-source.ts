// Reading a source file's bytes safely: the size limit is checked from stat before any byte is
// read, so a 200 MB file costs nothing; devices and FIFOs are refused instead of blocking.
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

/** The bytes of a regular file no larger than maxBytes. */
export async function readSourceBytes(path: string, maxBytes = DEFAULT_MAX_BYTES, signal?: AbortSignal): Promise<Uint8Array> {
  const max = checkMaxBytes(maxBytes);
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
