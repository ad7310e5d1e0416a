// Hostile and mistaken input through the CLI: each gets one clear error naming the source and the
// cause, the good sources are still ingested, and nothing already stored is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";

interface Report { added: number; updated: number; unchanged: number; removed: number; failed: { source: string; code: string; message: string; hint: string }[] }
interface Results { results: { source: string }[] }

const root = tempDir();
const docs = join(root, "docs");
const kb = join(root, "kb");
mkdirSync(docs);
writeFileSync(join(docs, "good.md"), "# Lighthouse\n\nThe Varne lighthouse keeper logs the fog horn tests every Tuesday.\n");
// first a good ingest, so there is something to lose
assert.equal(strata(["ingest", join(docs, "good.md"), "--kb", kb, "--json"]).code, 0);

writeFileSync(join(docs, "corrupt.pdf"), Buffer.concat([Buffer.from("%PDF-1.7\n1 0 obj <<"), randomBytes(4000)]));
writeFileSync(join(docs, "corrupt.docx"), Buffer.concat([Buffer.from("PK\x03\x04"), randomBytes(3000)]));
writeFileSync(join(docs, "binary.txt"), Buffer.concat([Buffer.from([0, 1, 2, 3]), randomBytes(20000)]));
writeFileSync(join(docs, "bad-utf8.md"), Buffer.from([0x23, 0x20, 0x41, 0x0a, 0xc3, 0x28, 0x0a, 0x41]));
writeFileSync(join(docs, "empty.md"), "");
writeFileSync(join(docs, "huge.txt"), "");
truncateSync(join(docs, "huge.txt"), 200 * 1024 * 1024); // sparse: 200 MB without writing them
mkdirSync(join(docs, "loop"));
symlinkSync(join(docs, "loop"), join(docs, "loop", "again"));
writeFileSync(join(docs, "second-good.txt"), "The harbour crane was restored in 2019 by volunteers.\n");

const mixed = strata(["ingest", docs, join(root, "does-not-exist"), "--kb", kb, "--json"], { timeoutMs: 120_000 });
const report = jsonOf<Report>(mixed);

test("a mixed ingest exits 3, ingests the good files and reports each bad one", () => {
  assert.equal(mixed.code, 3, mixed.stderr);
  assert.equal(report.added, 1); // second-good.txt
  assert.equal(report.unchanged, 1); // good.md
  const code = (name: string) => report.failed.find((f) => f.source.endsWith(name))?.code;
  assert.equal(code("corrupt.pdf"), "PARSE_FAILED");
  assert.equal(code("corrupt.docx"), "PARSE_FAILED");
  assert.equal(code("binary.txt"), "BINARY_FILE");
  assert.equal(code("bad-utf8.md"), "INVALID_UTF8");
  assert.equal(code("empty.md"), "EMPTY_FILE");
  assert.equal(code("huge.txt"), "FILE_TOO_LARGE");
  assert.equal(code("does-not-exist"), "NOT_FOUND");
  assert.ok(report.failed.some((f) => f.code === "SYMLINK_LOOP" && f.source.includes("loop")), JSON.stringify(report.failed));
  for (const f of report.failed) {
    assert.ok(f.message.length > 10 && !f.message.includes("\n"), `one clear line for ${f.source}: ${f.message}`);
    assert.ok(f.hint.length > 0, `a hint for ${f.source}`);
    assert.match(mixed.stderr, new RegExp(`failed: ${f.source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
  }
});

test("nothing already stored was lost and the store is consistent", () => {
  const s = jsonOf<Results>(strata(["search", "fog horn tests lighthouse", "--kb", kb, "--json"]));
  assert.ok(s.results.some((r) => r.source.endsWith("good.md")));
  const db = new Database(join(kb, "strata.db"), { readonly: true });
  assert.equal((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
  assert.equal((db.prepare("SELECT count(*) AS n FROM documents").get() as { n: number }).n, 2);
  db.close();
});

test("the size limit is configurable", () => {
  const r = jsonOf<Report>(strata(["ingest", join(docs, "second-good.txt"), "--kb", join(root, "kb-small"), "--max-file-size", "10b", "--json"]));
  assert.equal(r.failed[0]?.code, "FILE_TOO_LARGE");
  assert.equal(strata(["ingest", docs, "--kb", join(root, "kb-x"), "--max-file-size", "lots"]).code, 2);
});

test("a --kb that is not a Strata store, or from a newer Strata, is refused", () => {
  const notKb = strata(["search", "x", "--kb", docs, "--json"]);
  assert.equal(notKb.code, 1);
  assert.match(notKb.stderr, /^error: .*is not a Strata knowledge base/m);
  assert.match(notKb.stderr, /^hint: /m);
  assert.equal(strata(["ingest", join(docs, "good.md"), "--kb", docs]).code, 1, "ingest must not turn a documents folder into a store");
  const newer = join(root, "kb-newer");
  assert.equal(strata(["ingest", join(docs, "good.md"), "--kb", newer]).code, 0);
  const db = new Database(join(newer, "strata.db"));
  db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
  db.close();
  const r = strata(["ask", "lighthouse", "--kb", newer]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /newer Strata/);
  assert.equal(strata(["search", "x", "--kb", join(root, "nowhere")]).code, 1);
});

test("questions of 0 or 100,000 characters are usage errors, not crashes", () => {
  const empty = strata(["ask", "", "--kb", kb, "--json"]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /error: the question is empty/);
  const huge = strata(["ask", "x".repeat(100_000), "--kb", kb, "--json"]);
  assert.equal(huge.code, 2);
  assert.match(huge.stderr, /error: the question has 100,000 characters; the limit is/);
  assert.equal(jsonOf<{ error: { code: string } }>(huge).error.code, "QUESTION_TOO_LONG");
});

test("wrong flags and missing arguments are usage errors (exit 2) with a hint", () => {
  for (const args of [["search", "x", "--kb", kb, "-k", "abc"], ["search", "x", "--kb", kb, "--bogus"], ["ask"], ["search", "x"], ["ask", "x", "--kb", kb, "--groups", "g"], ["eval", "retrieval"]]) {
    const r = strata(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /error: /);
  }
  for (const cmd of [[], ["ingest"], ["search"], ["ask"], ["show"], ["embed"], ["chat"], ["trace"], ["eval"], ["eval", "retrieval"]]) {
    const help = strata([...cmd, "--help"]);
    assert.equal(help.code, 0, cmd.join(" "));
    assert.match(help.stdout, /Examples?:/, `strata ${cmd.join(" ")} --help has an example`);
  }
});
