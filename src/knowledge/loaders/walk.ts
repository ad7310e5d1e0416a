// Expands the sources a user names (files and folders) into the files to load. A bad path or a
// looping link becomes a problem for that source and the rest of the walk goes on, so one broken
// entry never stops an ingest run; the caller reports problems and exits "partial success".

import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { escapeName, unsafeNameError } from "./file-names.js";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import { fsError } from "./fs-errors.js";
import { isSupported, SUPPORTED_EXTENSIONS } from "./index.js";

export interface WalkOptions {
  /** Globs matched against the path relative to the walked folder, and against the basename. */
  include?: string[];
  exclude?: string[];
  signal?: AbortSignal;
}
export interface SourceProblem {
  source: string;
  error: StrataError;
}
/** A file found in a walked folder and left out on purpose, with why: reported, never silent. */
export interface SkippedSource {
  source: string;
  reason: string;
}
export interface SourceList {
  files: string[];
  problems: SourceProblem[];
  skipped: SkippedSource[];
}

/** Folders never walked into: dependencies. Hidden entries (".git", ".cache") are skipped as well. */
const SKIPPED_DIRS = new Set(["node_modules"]);

type Matcher = (p: string) => boolean;

/** Expands paths (files and folders, recursively) into absolute file paths of supported types, sorted, deduplicated. */
export async function collectSources(paths: string[], opts: WalkOptions = {}): Promise<SourceList> {
  const include = opts.include?.length ? picomatch(opts.include, { dot: true }) : undefined;
  const exclude = opts.exclude?.length ? picomatch(opts.exclude, { dot: true }) : undefined;
  const wanted = (rel: string): boolean => (!include || matches(include, rel)) && !(exclude && matches(exclude, rel));

  const problems: SourceProblem[] = [];
  const skipped: SkippedSource[] = [];
  // Real path → the path it was found under, so a file reached through two links is loaded once.
  const found = new Map<string, string>();
  const walkedDirs = new Set<string>();

  const addFile = async (file: string): Promise<void> => {
    const unsafe = unsafeNameError(file);
    if (unsafe) return void problems.push({ source: escapeName(file), error: unsafe });
    const real = await realpath(file).catch(() => file);
    const seen = found.get(real);
    if (seen === undefined || file < seen) found.set(real, file);
  };

  /** `stack` holds the real paths of the folders being walked: meeting one again is a loop. */
  const walkDir = async (dir: string, root: string, stack: string[]): Promise<void> => {
    throwIfAborted(opts.signal);
    let real: string;
    try {
      real = await realpath(dir);
    } catch (e) {
      problems.push({ source: dir, error: fsError(e) });
      return;
    }
    if (stack.includes(real)) {
      problems.push({ source: dir, error: new StrataError("SYMLINK_LOOP", `symbolic link loops back to its ancestor ${real}`, "remove the link or point it outside the folder; the rest of the folder was read") });
      return;
    }
    if (walkedDirs.has(real)) return; // reached again through another link; its files are in already
    walkedDirs.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ source: dir, error: fsError(e) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const file = path.join(dir, entry.name);
      const rel = path.relative(root, file).split(path.sep).join("/");
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (!isDir && !isFile) {
        // A link (or a file system without types in readdir): ask what it points to.
        try {
          const st = await stat(file);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch (e) {
          if (isSupported(file)) problems.push({ source: file, error: brokenLink(e) });
          continue;
        }
      }
      if (isDir) {
        if (SKIPPED_DIRS.has(entry.name) || (exclude && matches(exclude, rel))) continue;
        await walkDir(file, root, [...stack, real]);
      } else if (isFile && isSupported(file) && wanted(rel)) {
        await addFile(file);
      } else if (isFile && !isSupported(file) && wanted(rel)) {
        skipped.push({ source: file, reason: unsupportedReason(file) });
      }
    }
  };

  for (const p of paths) {
    throwIfAborted(opts.signal);
    const abs = path.resolve(p);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      problems.push({ source: abs, error: fsError(e) });
      continue;
    }
    if (st.isDirectory()) {
      await walkDir(abs, abs, []);
    } else if (!st.isFile()) {
      problems.push({ source: abs, error: new StrataError("UNSUPPORTED_TYPE", "not a regular file (device, FIFO or socket)", "pass regular files or folders only") });
    } else if (!isSupported(abs)) {
      const ext = path.extname(abs).toLowerCase();
      problems.push({ source: abs, error: new StrataError("UNSUPPORTED_TYPE", ext ? `"${ext}" files are not supported` : "files without an extension are not supported", `supported: ${SUPPORTED_EXTENSIONS.join(" ")}`) });
    } else if (wanted(p.split(path.sep).join("/"))) {
      // A file named explicitly still obeys the filters (matched on its basename and the path as given).
      await addFile(abs);
    }
  }

  const files = [...found.values()].sort();
  return { files, problems, skipped };
}

function unsupportedReason(file: string): string {
  const ext = path.extname(file).toLowerCase();
  return `${ext ? `"${ext}" files are` : "files without an extension are"} not supported (supported: ${SUPPORTED_EXTENSIONS.join(" ")})`;
}

function matches(m: Matcher, rel: string): boolean {
  return m(rel) || m(path.posix.basename(rel));
}

function brokenLink(e: unknown): StrataError {
  const err = fsError(e);
  if (err.code !== "NOT_FOUND") return err;
  return new StrataError("NOT_FOUND", "broken symbolic link: its target does not exist", "fix the link or remove it", { cause: e });
}
