#!/usr/bin/env node
// The README's first command: build a knowledge base from Strata's own docs/ with the embedded
// default (no model, no network) and answer three questions with citations, through the real CLI.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const kb = join(mkdtempSync(join(tmpdir(), "strata-demo-")), "kb");

function strata(args, { json = true } = {}) {
  const r = spawnSync(process.execPath, [cli, ...args, ...(json ? ["--json"] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) {
    console.error(`strata ${args[0]} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  return json ? JSON.parse(r.stdout) : r.stdout;
}

const questions = [
  "Which database does the knowledge base store use?",
  "How does Strata answer when no language model is configured?",
  "What happens when an ingest is killed midway?",
];

console.log(`Ingesting ${relative(process.cwd(), join(root, "docs")) || "docs"}/ into ${kb} …`);
const report = strata(["ingest", join(root, "docs"), "--kb", kb]);
console.log(`added ${report.added} documents (${report.failed.length} failed)\n`);
for (const q of questions) {
  const a = strata(["ask", q, "--kb", kb]);
  console.log(`Q: ${q}`);
  console.log(`A: ${a.answer}`);
  for (const c of a.citations) console.log(`   [${c.n}] ${relative(root, c.source)} chars ${c.start}-${c.end}`);
  console.log(`   (mode: ${a.mode}, supported: ${a.supported})\n`);
}
rmSync(dirname(kb), { recursive: true, force: true });
console.log("Try it on your own files:  npx strata ingest <folder> --kb ./kb  &&  npx strata ask \"<question>\" --kb ./kb");
