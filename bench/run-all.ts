// Runs every benchmark, one after another (never two at once: they time themselves), each in its own
// Node process so one's heap and caches do not colour the next.
//
//   npm run bench                                  (builds, then: node dist/bench/run-all.js)
//   node --import tsx bench/run-all.ts [--scale-chunks 1000000]
//
// The scale run defaults to 100,000 chunks here (about two minutes on 2 cores); pass
// --scale-chunks 1000000 for the full run (bounded by its own --max-minutes, 15 by default).

import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { "scale-chunks": { type: "string", default: "100000" } } });
const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const runs: [string, string[]][] = [
  ["scifact-vs-minisearch", []],
  ["ingest-and-latency", []],
  ["scale", ["--chunks", values["scale-chunks"] ?? "100000"]],
];
let failed = 0;
for (const [name, args] of runs) {
  process.stdout.write(`\n=== ${name} ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [...process.execArgv, join(here, name + ext), ...args], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`${name} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
