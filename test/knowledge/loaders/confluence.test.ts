// Confluence storage-format exports: a space's entities.xml (page tree, bodies, attachments, old
// versions left out) and a single exported page (the shared real fixture, when present).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chunkDocument } from "../../../src/knowledge/chunker.js";
import { loadBytes } from "../../../src/knowledge/loaders/index.js";
import { storageToHtml } from "../../../src/knowledge/loaders/confluence.js";
import { ENTITIES } from "../../helpers/confluence-export.js";
import { sharedData } from "../../helpers/paths.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test("a space export becomes one document with its page tree as headings, current versions only", async () => {
  const doc = await loadBytes(utf8(ENTITIES), "entities.xml");
  assert.equal(doc.title, "Harbour Operations");
  assert.equal(doc.mime, "application/vnd.atlassian.confluence+xml");
  const headings = doc.blocks.filter((b) => b.kind === "heading").map((b) => `${b.level} ${doc.text.slice(b.start, b.end)}`);
  // pages ordered by position under their parent; body headings nest under their page
  assert.deepEqual(headings, ["1 Harbour Operations", "2 Operations Home", "3 Crane Safety", "3 Night Shift", "5 Handover"]);
  assert.ok(doc.text.includes("20 m/s"));
  assert.ok(!doc.text.includes("25 m/s"), "an old version of a page was read");
  assert.ok(!doc.text.includes("moorings"), "a deleted page was read");
  assert.ok(doc.text.includes("Attachments: wind-chart.pdf, crane-checklist.xlsx"));
  assert.ok(doc.text.includes('radio --channel 16 && echo "a < b"'), "the code macro's CDATA body was lost");
  assert.ok(doc.text.includes("See Night Shift."));
  const chunks = chunkDocument(doc, { maxChars: 200, overlapChars: 0 });
  const handover = chunks.find((c) => c.text.includes("06:30"))!;
  assert.deepEqual(handover.headingPath, ["Harbour Operations", "Operations Home", "Night Shift", "Handover"]);
});

test("storage markup: images and attachments read as file names, toc and emoticons vanish, tasks are list items", () => {
  const html = storageToHtml('<ac:image><ri:attachment ri:filename="plan.png"/></ac:image><p>Done <ac:emoticon ac:name="tick"/></p><ac:structured-macro ac:name="toc"/><ac:task-list><ac:task><ac:task-status>complete</ac:task-status><ac:task-body>Write spec</ac:task-body></ac:task></ac:task-list>');
  assert.equal(html, "<p>[image: plan.png]</p><p>Done </p><ul><li><span>Write spec</span></li></ul>");
});

test("the shared real Confluence storage page: title, macros' text, attachment name", { skip: !sharedData("documents", "confluence") }, async () => {
  const file = join(sharedData("documents", "confluence")!, "test_confluence_storage.xml");
  const doc = await loadBytes(readFileSync(file), file);
  assert.equal(doc.title, "API Guidelines");
  for (const s of ["def get_user(user_id: int) -> dict:", "Always version your API endpoints with /v1/ prefix.", "Never expose internal IDs", "architecture-diagram.png", "See also: Authentication Docs", "Add pagination support"]) {
    assert.ok(doc.text.includes(s), s);
  }
  assert.ok(!doc.text.includes("complete"), "task status leaked into the text");
  assert.ok(!/ac:|ri:/.test(doc.text));
});

test("titles: the format's own, else the first heading, else the first line; never a bare file name when there is text", async () => {
  const html = await loadBytes(utf8("<html><body><article><h2>Lighthouse keepers</h2><p>The keepers lived on the rock for six weeks at a time.</p></article></body></html>"), "expected.html");
  assert.equal(html.title, "Lighthouse keepers");
  const text = await loadBytes(utf8("\n\nHumidity sensor log for the archive rooms\nRecalibrated every 9 months.\n"), "notes.txt");
  assert.equal(text.title, "Humidity sensor log for the archive rooms");
  const long = await loadBytes(utf8(`${"word ".repeat(40)}end`), "long.txt");
  assert.ok(long.title!.length <= 80 && long.title!.endsWith("…"), long.title);
  const csv = await loadBytes(utf8("name,price\nadult,9\n"), "prices.csv");
  assert.equal(csv.title, "prices.csv");
  const md = await loadBytes(utf8("# Guide\n\ntext\n"), "a.md");
  assert.equal(md.title, "Guide");
});

test("hostile nesting is refused before parsing, in bounded time", async () => {
  const n = 100_000;
  const started = performance.now();
  await assert.rejects(loadBytes(utf8(`<page><title>T</title><body>${"<div>".repeat(n)}x${"</div>".repeat(n)}</body></page>`), "deep.xml"), (e: unknown) => ["PARSE_FAILED", "PARSE_LIMIT"].includes((e as { code?: string }).code ?? ""));
  assert.ok(performance.now() - started < 5000);
});
