// Replacing a file so that a crash or kill -9 leaves the old file or the new one, never half of
// either: write a temporary file beside it, fsync, rename over it. Every small file Strata writes
// (run.json, checkpoint state, token manifests, tokenizers, job files, reports) goes through here;
// the streaming writers (GGUF, safetensors, token files) use `tempPathFor` and rename themselves.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { StrataError } from "./errors.js";

/** A temporary name beside `path`, unique to this process and call (same folder, so rename is atomic). */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

export interface AtomicWriteOptions {
  /** What the file is, for the error ("the tokenizer"); default: the path. */
  what?: string;
  hint?: string;
}

function writeError(path: string, e: unknown, o: AtomicWriteOptions): StrataError {
  const what = o.what ? `${o.what} to ${path}` : path;
  return new StrataError("UNREADABLE", `cannot write ${what}: ${(e as Error).message}`, o.hint ?? "check that the folder is writable and has space", { cause: e });
}

/** Writes `content` to `path` atomically (temporary file, fsync, rename). */
export async function writeFileAtomic(path: string, content: string | Uint8Array, o: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, "wx");
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw writeError(path, e, o);
  }
}

/** The synchronous form, for writers that must not interleave with other work of the same run. */
export function writeFileAtomicSync(path: string, content: string | Uint8Array, o: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, "wx");
    try {
      writeSync(fd, typeof content === "string" ? Buffer.from(content, "utf8") : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(path, e, o);
  }
}
