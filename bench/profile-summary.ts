// Summarises a V8 CPU profile (from `node --cpu-prof`): where the samples' time went, by function
// (self time) and by the functions on the stack (total time), optionally only for samples whose
// stack passes through a given function.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/scifact-vs-minisearch.ts --only strata
//   node --import tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--under indexBeirCorpus] [--top 25]
//
// Native code called from JavaScript (SQLite inside better-sqlite3) has no frames of its own: its
// time is the self time of the JavaScript function that called it (e.g. `run`, `all`, `get`).

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { fmt, printTable } from "./lib.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { under: { type: "string" }, top: { type: "string", default: "25" } } });
  const top = Number(values.top);
  for (const file of positionals) {
    const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stackOf = (id: number): ProfileNode[] => {
      const s: ProfileNode[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) s.push(byId.get(cur) as ProfileNode);
      return s;
    };
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    let all = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const us = p.timeDeltas[i + 1] ?? 0;
      const stack = stackOf(p.samples[i] as number);
      if (values.under && !stack.some((n) => n.callFrame.functionName === values.under)) continue;
      all += us;
      const leaf = label(stack[0] as ProfileNode);
      self.set(leaf, (self.get(leaf) ?? 0) + us);
      for (const l of new Set(stack.map(label))) total.set(l, (total.get(l) ?? 0) + us);
    }
    process.stdout.write(`\n${file}${values.under ? ` (samples under ${values.under})` : ""}: ${fmt(all / 1000)} ms sampled\n\nself time\n`);
    const rows = (m: Map<string, number>): string[][] =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, us]) => [name, fmt(us / 1000), `${((100 * us) / Math.max(all, 1)).toFixed(1)}%`]);
    printTable(["function", "ms", "share"], rows(self));
    process.stdout.write("\ntotal time (on the stack)\n");
    printTable(["function", "ms", "share"], rows(total));
  }
}

main();
