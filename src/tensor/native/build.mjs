#!/usr/bin/env node
// Builds the optional OpenBLAS addon (strata_native.node) with npm's bundled node-gyp, offline:
// Node's headers come from the system (`--nodedir=/usr` when /usr/include/node exists) and BLAS from
// Debian's libopenblas-dev. When the build fails, Strata still works on its plain-TS kernels, so
// this script reports the failure and exits 0 — unless `--require` is given (CI), then it exits 1.
// A binary newer than its sources is kept (so `npm run build` can call this every time); `--force`
// rebuilds anyway.
//
//   node src/tensor/native/build.mjs [--require] [--force]

import { spawnSync } from "node:child_process";
import process from "node:process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const requireBuild = process.argv.includes("--require");
const force = process.argv.includes("--force");
const built = join(here, "build", "Release", "strata_native.node");
const sources = ["binding.c", "binding-ext.c", "kernels.c", "quant.c", "optim.c", "kernels.h", "binding.gyp"].map((f) => join(here, f));

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  const prefix = join(dirname(process.execPath), "..");
  candidates.push(join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  candidates.push("/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  candidates.push("/usr/share/nodejs/node-gyp/bin/node-gyp.js");
  return candidates.find((p) => existsSync(p));
}

function fail(reason) {
  process.stderr.write(`strata: the OpenBLAS fast path was not built (${reason}); the plain-TS reference kernels will be used.\n`);
  process.stderr.write("hint: install Debian's libopenblas-dev (apt-get install -y libopenblas-dev) and run `node src/tensor/native/build.mjs` again\n");
  process.exit(requireBuild ? 1 : 0);
}

/** Loads the addon and checks one product; returns a description or throws. */
function check() {
  const addon = createRequire(import.meta.url)(built);
  const a = Float32Array.of(1, 2, 3, 4);
  const c = new Float32Array(4);
  addon.sgemm(false, false, 2, 2, 2, 1, a, 0, 2, a, 0, 2, 0, c, 0, 2);
  if (c[0] !== 7 || c[3] !== 22) throw new Error(`the addon computes wrong results (${Array.from(c).join(", ")})`);
  return `${addon.config()}, ${addon.getThreads()} threads`;
}

if (!force && existsSync(built) && sources.every((f) => statSync(f).mtimeMs <= statSync(built).mtimeMs)) {
  try {
    check();
    process.exit(0); // up to date
  } catch {
    // stale or broken: rebuild below
  }
}

const gyp = findNodeGyp();
if (!gyp) fail("npm's node-gyp was not found");
const args = [gyp, "rebuild", "--silent"];
if (existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
const res = spawnSync(process.execPath, args, { cwd: here, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
if (res.status !== 0) {
  const log = `${res.stdout ?? ""}${res.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
  if (log) process.stderr.write(log + "\n");
  fail(res.error ? res.error.message : `node-gyp exited with ${res.status}`);
}

// Load it once, so a library that links but does not load (missing libopenblas.so.0) is caught here.
try {
  process.stderr.write(`strata: built the OpenBLAS fast path (${built}; ${check()})\n`);
} catch (e) {
  fail(`the built addon does not load: ${e instanceof Error ? e.message : String(e)}`);
}
