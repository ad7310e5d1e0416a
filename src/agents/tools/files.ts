// read_file: a file's text from inside one allowed directory. The path is resolved against that
// directory and refused when it leaves it — through "..", an absolute path, or a symbolic link
// that points outside (the real path is checked) — or when it is not a regular text file.
import { open, realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { defineTool, type Tool } from "./tool.js";

export interface ReadFileOptions {
  /** The only directory files are read from. */
  root: string;
  /** Most bytes read of one file (default 64 KiB); longer files are cut and say so. */
  maxBytes?: number;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.split(sep).includes(".."));
}

/** The real path of `requested` under `root`, or FORBIDDEN / NOT_FOUND. */
export async function resolveInside(root: string, requested: string): Promise<string> {
  if (requested.includes("\0")) throw new StrataError("FORBIDDEN", "the path contains a NUL byte", "give a plain relative path");
  const realRoot = await realpath(root).catch(() => {
    throw new StrataError("NOT_FOUND", `the allowed directory ${root} does not exist`, "create it or allow another directory");
  });
  const wanted = resolve(realRoot, requested);
  if (!inside(realRoot, wanted)) throw new StrataError("FORBIDDEN", `"${requested}" is outside the allowed directory`, "give a path relative to the allowed directory, without ..");
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw new StrataError("NOT_FOUND", `no file "${requested}" in the allowed directory`, "list what exists or check the spelling");
  }
  if (!inside(realRoot, real)) throw new StrataError("FORBIDDEN", `"${requested}" leads outside the allowed directory (through a link)`, "read files that are inside the allowed directory");
  return real;
}

export function readFileTool(o: ReadFileOptions): Tool {
  const maxBytes = o.maxBytes ?? 64 * 1024;
  const root = resolve(o.root);
  return defineTool({
    name: "read_file",
    description: `Reads a UTF-8 text file from the allowed directory (paths are relative to it; at most ${maxBytes} bytes are returned).`,
    input: z.object({ path: z.string().min(1).max(1024).describe('a path relative to the allowed directory, e.g. "notes/plan.md"') }),
    risk: "read",
    timeoutMs: 10_000,
    maxResultChars: maxBytes + 200,
    run: async ({ path }) => {
      const real = await resolveInside(root, path);
      const info = await stat(real);
      if (!info.isFile()) throw new StrataError("FORBIDDEN", `"${path}" is not a regular file`, "read a file, not a directory or device");
      const handle = await open(real, "r");
      try {
        const buf = Buffer.alloc(Math.min(info.size, maxBytes));
        const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
        const bytes = buf.subarray(0, bytesRead);
        if (bytes.includes(0)) throw new StrataError("BINARY_FILE", `"${path}" is a binary file`, "read text files only");
        const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
        return { path, bytes: info.size, truncated: info.size > maxBytes, text };
      } finally {
        await handle.close();
      }
    },
  });
}
