#!/usr/bin/env node
// `npm run test:unit`: the quick loop — every compiled test under dist/test/ except the end-to-end
// ones (test/e2e/: the real CLI, server processes, Chromium), so no web build and no browser is
// needed. Extra arguments go to `node --test` (e.g. --test-name-pattern=…).
//
//   node scripts/test-unit.mjs [node --test options]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tests = join(root, "dist", "test");
const skip = new Set([join(tests, "e2e")]);

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
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...process.argv.slice(2), ...files], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
