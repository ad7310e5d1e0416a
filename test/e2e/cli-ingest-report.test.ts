// Folder ingest through the CLI: unsupported files are counted and listed as skipped with the
// reason (never silently), a Confluence space export is searchable with its page tree as the
// heading path, and documents without a title get one from their text, the path kept beside it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";
import { ENTITIES } from "../helpers/confluence-export.js";

interface Report { added: number; failed: unknown[]; skipped: { source: string; reason: string }[] }

const root = tempDir();
const docs = join(root, "docs");
mkdirSync(join(docs, "space"), { recursive: true });
writeFileSync(join(docs, "space", "entities.xml"), ENTITIES);
writeFileSync(join(docs, "diagram.vsdx"), "binary-ish");
writeFileSync(join(docs, "Makefile"), "all:\n");
writeFileSync(join(docs, "expected.html"), "<html><body><article><h2>Keepers of the Light</h2><p>The keepers lived on the rock for six weeks.</p></article></body></html>");
const kb = join(root, "kb");

test("skipped files: a count in the summary, the list with --verbose and in --json", () => {
  const human = strata(["ingest", docs, "--kb", kb]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /added 2, updated 0, unchanged 0, removed 0, failed 0, skipped 2/);
  assert.match(human.stdout, /--verbose lists them/);
  const verbose = strata(["ingest", docs, "--kb", kb, "--verbose"]);
  assert.match(verbose.stdout, /skipped: .*diagram\.vsdx: "\.vsdx" files are not supported/);
  assert.match(verbose.stdout, /skipped: .*Makefile: files without an extension are not supported/);
  const json = jsonOf<Report>(strata(["ingest", docs, "--kb", kb, "--json"]));
  assert.deepEqual(json.skipped.map((s) => s.source.split("/").pop()), ["Makefile", "diagram.vsdx"]);
  assert.ok(json.skipped.every((s) => /not supported \(supported: .*\.xml/.test(s.reason)));
});

test("a Confluence export is searchable, with space › page › heading as the heading path", () => {
  const r = jsonOf<{ results: { source: string; headingPath: string[]; text: string }[] }>(strata(["search", "night shift handover tower", "--kb", kb, "--json"]));
  const top = r.results[0]!;
  assert.ok(top.source.endsWith("entities.xml"));
  assert.ok(top.text.includes("06:30"));
  assert.deepEqual(top.headingPath.slice(0, 3), ["Harbour Operations", "Operations Home", "Night Shift"]);
  const a = jsonOf<{ answer: string }>(strata(["ask", "When does the night shift hand over?", "--kb", kb, "--json"]));
  assert.match(a.answer, /06:30/);
});

test("titles come from the text; the source path stays beside them", () => {
  const page = jsonOf<{ documents: { title: string; source: string }[] }>(strata(["docs", "list", "--kb", kb, "--json"]));
  const html = page.documents.find((d) => d.source.endsWith("expected.html"))!;
  assert.equal(html.title, "Keepers of the Light");
  assert.equal(page.documents.find((d) => d.source.endsWith("entities.xml"))!.title, "Harbour Operations");
  const listed = strata(["docs", "list", "--kb", kb]).stdout;
  assert.match(listed, /Keepers of the Light\n\s+\S*expected\.html/);
});
