#!/usr/bin/env node
// Runs the compiled tests under dist/test/ by listing their files: Node 20's `node --test` takes
// folders but not globs, Node 22+ takes globs but no longer folders, so `npm test` names every file.
// `--unit` (npm run test:unit, the quick loop) leaves out the end-to-end tests (test/e2e/: the real
// CLI, server processes, Chromium), so no web build and no browser are needed. Other arguments go to
// `node --test` (e.g. --test-name-pattern=…).
//
//   node scripts/run-tests.mjs [--unit] [node --test options]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tests = join(root, "dist", "test");
const args = process.argv.slice(2);
const unit = args.includes("--unit");
const skip = new Set(unit ? [join(tests, "e2e")] : []);

function find(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!skip.has(p)) out.push(...find(p));
    } else if (e.name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

if (!existsSync(tests)) {
  process.stderr.write("error: dist/test is missing\nhint: build first: npx tsc -p tsconfig.json\n");
  process.exit(1);
}
const files = find(tests).sort().map((f) => relative(root, f));
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...args.filter((a) => a !== "--unit"), ...files], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
