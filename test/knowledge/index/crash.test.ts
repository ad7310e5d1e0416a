import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { analyze } from "../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../../../src/knowledge/bm25.js";
import { uniformSource } from "../../../src/core/random.js";
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import type { KnowledgeStore } from "../../../src/knowledge/store/sqlite-store.js";
import { tempDir } from "../../helpers/paths.js";
import { recountPostings, sqlReference } from "./reference.js";

const TRIALS = 20;
const CHILD = fileURLToPath(new URL(`./crash-child${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));
const WORDS = "river bank loan water fish money stream credit bridge current account flow deposit boat".split(" ");

/**
 * Runs the child until "ready", then SIGKILLs it after `delayMs` (unless it finished first); `ms` is
 * the time from "ready" to its exit, which tells the caller how long an unkilled run takes here.
 */
function runAndKill(args: string[], delayMs: number): Promise<{ outcome: "killed" | "finished"; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    let finished = false;
    let readyAt = performance.now();
    child.on("message", (m) => {
      if (m === "ready") {
        readyAt = performance.now();
        setTimeout(() => child.kill("SIGKILL"), delayMs).unref();
      }
      if (m === "done") finished = true;
    });
    child.on("error", reject);
    child.on("exit", () => resolve({ outcome: finished ? "finished" : "killed", ms: performance.now() - readyAt }));
  });
}

/** The store after a crash: the index agrees with a recount, every document is whole, search ranks exactly. */
function assertConsistent(store: KnowledgeStore, where: string): void {
  assert.deepEqual(store.index.check().problems, [], where);
  const dupes = store.db.prepare("SELECT doc_rowid, ordinal, count(*) AS n FROM chunks GROUP BY doc_rowid, ordinal HAVING n > 1").all();
  assert.deepEqual(dupes, [], `${where}: duplicated chunks`);
  const orphans = store.db.prepare("SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.rowid = c.doc_rowid)").pluck().get();
  assert.equal(orphans, 0, `${where}: chunks without a document`);
  const partial = store.db.prepare("SELECT count(*) FROM documents d WHERE length(d.text) > 0 AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.doc_rowid = d.rowid)").pluck().get();
  assert.equal(partial, 0, `${where}: documents without their chunks`);
  recountPostings(store.db);
  for (const q of ["river bank", "loan credit money", "boat"]) {
    const terms = analyze(q);
    const want = sqlReference(store.db, terms, { k: 10, access: OWNER, params: DEFAULT_BM25 });
    assert.deepEqual(store.lexicalSearch(terms, { k: 10, access: OWNER, params: DEFAULT_BM25 }).map((h) => h.chunkId), want.map((h) => h.chunkId), where);
  }
}

function writeFolder(folder: string, rand: () => number, trial: number): void {
  // Each trial changes a third of the files, adds some and removes some: updates, adds and prunes.
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < 120; i++) {
    if (trial > 0 && rand() > 0.33) continue;
    const file = join(folder, `f${i}.md`);
    if (trial > 0 && rand() < 0.1) {
      rmSync(file, { force: true });
      continue;
    }
    const text = Array.from({ length: 30 + Math.floor(rand() * 300) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ");
    writeFileSync(file, `# ${WORDS[i % WORDS.length]} ${trial}\n\n${text}\n`);
  }
}

test(`SIGKILL during ingest, ${TRIALS} trials: the store opens, the index equals a recount, no document is duplicated or lost, a re-run completes`, { timeout: 600_000 }, async () => {
  const root = tempDir();
  const kbDir = join(root, "kb");
  const folder = join(root, "docs");
  const rand = uniformSource(11);
  let killed = 0;
  // Kill delays are drawn below `window`, which shrinks to the length of the runs that finished first,
  // so the kills land inside the ingest on a fast machine as on a slow one.
  let window = 400;
  for (let t = 0; t < TRIALS; t++) {
    writeFolder(folder, rand, t);
    const run = await runAndKill(["ingest", kbDir, folder], Math.floor(rand() * window));
    if (run.outcome === "killed") killed++;
    else window = Math.max(5, Math.min(window, run.ms) * 0.7);
    const kb = KnowledgeBase.open(kbDir);
    assertConsistent(kb.store, `ingest trial ${t}`);
    kb.close();
  }
  assert.ok(killed >= TRIALS / 2, `only ${killed} of ${TRIALS} runs were killed before finishing`);
  // A re-run completes and leaves exactly the folder's files.
  const kb = KnowledgeBase.open(kbDir);
  const report = await kb.ingest([folder], { prune: true });
  assert.equal(report.failed.length, 0);
  assert.deepEqual(kb.store.listSources().map((s) => s.source).sort(), readdirSync(folder).map((f) => join(folder, f)).sort());
  assertConsistent(kb.store, "after the re-run");
  kb.close();
});

test(`SIGKILL during a segment merge, ${TRIALS} trials: the store opens with the segments before or after the merge, never a mix`, { timeout: 600_000 }, async () => {
  const root = tempDir();
  const kbDir = join(root, "kb");
  const rand = uniformSource(12);
  let killed = 0;
  for (let t = 0; t < TRIALS; t++) {
    // Many one-document segments (and some deletions) for the child to merge.
    const kb = KnowledgeBase.open(kbDir, { create: true });
    for (let i = 0; i < 40; i++) {
      const text = Array.from({ length: 200 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ");
      kb.store.writeDocument({ docId: `d${t}-${i}`, source: `/m/${t}/${i}`, title: "merge", mime: "text/plain", hash: `${t}-${i}`, size: text.length, text, acl: { users: [], groups: [] }, tags: [], chunks: [{ ordinal: 0, start: 0, end: text.length, text, headingPath: [] }] });
      if (rand() < 0.2) kb.remove(`d${t}-${Math.floor(rand() * i)}`);
    }
    const before = kb.store.index.listSegments().length;
    kb.close();
    if ((await runAndKill(["merge", kbDir, ""], Math.floor(rand() * 60))).outcome === "killed") killed++;
    const after = KnowledgeBase.open(kbDir);
    const segments = after.store.index.listSegments().length;
    assert.ok(segments <= before, `trial ${t}: ${segments} segments after, ${before} before`);
    assertConsistent(after.store, `merge trial ${t}`);
    after.close();
  }
  assert.ok(killed >= 1, "no merge was killed before finishing");
  const kb = KnowledgeBase.open(kbDir);
  kb.store.index.mergeDue({ all: true });
  assert.equal(kb.store.index.listSegments().length, 1);
  assertConsistent(kb.store, "after the final merge");
  kb.close();
});

test("a reader in another process keeps answering while an ingest writes segments and merges them", { timeout: 600_000 }, async () => {
  const root = tempDir();
  const kbDir = join(root, "kb");
  const folder = join(root, "docs");
  writeFolder(folder, uniformSource(13), 0);
  KnowledgeBase.open(kbDir, { create: true }).close();
  const reader = KnowledgeBase.open(kbDir);
  let searches = 0;
  let seen = 0;
  let running = true;
  const child = runAndKill(["ingest", kbDir, folder], 600_000).then((r) => {
    running = false;
    return r.outcome;
  });
  while (running) {
    const hits = await reader.search("river bank loan", { k: 10, access: OWNER });
    seen = Math.max(seen, hits.length);
    searches++;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(await child, "finished");
  assert.ok(searches > 3, `only ${searches} searches ran during the ingest`);
  // The reader catches up with everything the writer committed, and ranks it exactly.
  assertConsistent(reader.store, "reader after the ingest");
  assert.equal((await reader.search("river bank loan", { k: 10, access: OWNER })).length, 10);
  reader.close();
});
