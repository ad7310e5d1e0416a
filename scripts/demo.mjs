#!/usr/bin/env node
// The README's first command: build a knowledge base from Strata's own docs/ with the embedded
// default (no model, no network), answer three questions with citations through the real CLI, and
// prepare a server data folder that serves that base, so the next command opens it in the browser.
// Everything lives in ./strata-demo/ (git-ignored); running the demo again updates the knowledge
// base in place (unchanged files stay as they are) and reuses the server folder.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const home = join(root, "strata-demo");
const kb = join(home, "kb");
const server = join(home, "server");
const KB_NAME = "strata-docs";
/** A path as the user would type it from here: ./strata-demo/server rather than an absolute path. */
const shown = (p) => {
  const r = relative(process.cwd(), p) || ".";
  return r.startsWith("..") || r.startsWith("/") || r === "." ? r : `./${r}`;
};

function strata(args, { json = true } = {}) {
  const r = spawnSync(process.execPath, [cli, ...args, ...(json ? ["--json"] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) {
    console.error(`strata ${args.slice(0, 3).join(" ")} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  return json ? JSON.parse(r.stdout) : r.stdout;
}

const questions = [
  "Which database driver does the knowledge store use?",
  "How does Strata answer when no language model is configured?",
  "What happens when an ingest is killed midway?",
];

mkdirSync(home, { recursive: true });
console.log(`Ingesting ${shown(join(root, "docs"))}/ into ${shown(kb)} …`);
const report = strata(["ingest", join(root, "docs"), "--kb", kb, "--prune"]);
console.log(`added ${report.added}, updated ${report.updated}, unchanged ${report.unchanged} documents (${report.failed.length} failed)\n`);
for (const q of questions) {
  const a = strata(["ask", q, "--kb", kb]);
  console.log(`Q: ${q}`);
  console.log(`A: ${a.answer}`);
  // Sources as the CLI and the API print them (the absolute path stored as lineage), with the document id.
  for (const c of a.citations) console.log(`   [${c.n}] ${c.docId} ${c.source} chars ${c.start}–${c.end}`);
  console.log(`   (mode: ${a.mode}, supported: ${a.supported})\n`);
}

// The server folder gets its own copy of the base (the server keeps bases under <data>/kbs/).
const served = strata(["serve", "kbs", "list", "--data", server]);
if (served.some((k) => k.name === KB_NAME)) console.log(`${shown(server)} already serves knowledge base ${KB_NAME}; reusing it.`);
else {
  const imported = strata(["serve", "kbs", "import", kb, "--name", KB_NAME, "--users", "admin", "--data", server]);
  console.log(`Prepared ${shown(server)}: knowledge base ${imported.name} (${imported.documents} documents) for the admin.`);
}

console.log(`
See it in the browser:
  npx strata serve --data ${shown(server)}
then open http://127.0.0.1:8080 and sign in with the admin key that the first start prints
(lost it? npx strata serve keys create --user admin --scopes read,ingest,admin --data ${shown(server)}).

Try it on your own files:  npx strata ingest <folder> --kb ./kb  &&  npx strata ask "<question>" --kb ./kb`);
