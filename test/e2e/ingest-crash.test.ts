// kill -9 in the middle of an ingest: the store still opens, is consistent (every document has its
// chunks, the index matches them), and a rerun completes the job.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jsonOf, strata, strataAsync } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";

const FILES = 1500;

function documentCount(dbFile: string): number {
  if (!existsSync(dbFile)) return 0;
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM documents").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
}

test("SIGKILL midway leaves a consistent store and a rerun completes it", async () => {
  const root = tempDir();
  const docs = join(root, "docs");
  mkdirSync(docs);
  for (let i = 0; i < FILES; i++) {
    const body = Array.from({ length: 30 }, (_, j) => `Paragraph ${j} of note ${i} mentions topic${(i * 31 + j) % 97} and item${i}.`).join("\n\n");
    writeFileSync(join(docs, `note-${String(i).padStart(4, "0")}.md`), `# Note ${i}\n\n${body}\n`);
  }
  const kb = join(root, "kb");
  const dbFile = join(kb, "strata.db");
  const child = strataAsync(["ingest", docs, "--kb", kb, "--json"]);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  const t0 = Date.now();
  while (documentCount(dbFile) < 50 && Date.now() - t0 < 60_000) await sleep(50);
  child.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL");
  const before = documentCount(dbFile);
  assert.ok(before >= 50 && before < FILES, `killed midway (${before} of ${FILES} stored)`);

  const db = new Database(dbFile);
  assert.equal((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
  const orphans = db.prepare("SELECT count(*) AS n FROM documents d WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.doc_rowid = d.rowid)").get() as { n: number };
  assert.equal(orphans.n, 0, "every stored document has its chunks");
  const stats = db.prepare("SELECT chunks, sum_len_body FROM stats").get() as { chunks: number; sum_len_body: number };
  const actual = db.prepare("SELECT count(*) AS chunks, coalesce(sum(len_body), 0) AS sum_len_body FROM chunks").get() as { chunks: number; sum_len_body: number };
  assert.deepEqual(stats, actual, "index statistics match the chunks");
  db.close();
  // The lexical index agrees with a full recount from the chunks.
  const check = strata(["index", "check", "--kb", kb, "--json"]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.deepEqual(jsonOf<{ problems: string[] }>(check).problems, []);

  const rerun = strata(["ingest", docs, "--kb", kb, "--json"], { timeoutMs: 300_000 });
  assert.equal(rerun.code, 0, rerun.stderr);
  const r = jsonOf<{ added: number; unchanged: number; failed: unknown[] }>(rerun);
  assert.equal(r.unchanged, before);
  assert.equal(r.added, FILES - before);
  assert.equal(documentCount(dbFile), FILES);
  const hit = jsonOf<{ results: { source: string }[] }>(strata(["search", "item1499", "--kb", kb, "--json", "-k", "1"]));
  assert.ok(hit.results[0]?.source.endsWith("note-1499.md"));
});
