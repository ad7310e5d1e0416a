// Where tests find things: the repository root (tests run from TS source and compiled under
// dist/test/), the shared datasets beside it, and fresh temporary folders.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the test");
    dir = up;
  }
  return dir;
}

/** ../shared/data beside the repository, or undefined when this checkout has none. */
export function sharedData(...parts: string[]): string | undefined {
  const p = resolve(repoRoot(), "..", "shared", "data", ...parts);
  return existsSync(p) ? p : undefined;
}

export function tempDir(prefix = "strata-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The built CLI entry point. */
export function cliPath(): string {
  return join(repoRoot(), "dist", "src", "cli", "main.js");
}
