#!/usr/bin/env node
// Builds the web UI (web/ → web/dist) only when its inputs changed since the last build: a hash of
// every file under web/ (but dist/) and of the lock file is kept in web/dist/.inputs-hash. A hash
// rather than mtimes, so that a checkout or a copy that touches files without changing them does
// not rebuild. `--force` rebuilds anyway.
//
//   node scripts/build-web.mjs [--force]
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const dist = join(web, "dist");
const stamp = join(dist, ".inputs-hash");

function inputs(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== dist && e.name !== "node_modules") out.push(...inputs(p));
    } else out.push(p);
  }
  return out;
}

const hash = createHash("sha256");
for (const f of [...inputs(web), join(root, "package-lock.json")].sort()) {
  if (!existsSync(f)) continue;
  hash.update(relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
}
const digest = hash.digest("hex");

if (!process.argv.includes("--force") && existsSync(join(dist, "index.html")) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === digest) {
  process.stderr.write("web UI up to date (web/ unchanged since the last build)\n");
  process.exit(0);
}

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const bin = (name) => join(root, "node_modules", ".bin", name);
run(bin("tsc"), ["-p", "web/tsconfig.json"]);
run(bin("vite"), ["build", "web", "--logLevel", "warn"]);
writeFileSync(stamp, digest + "\n");
