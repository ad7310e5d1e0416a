// The loaders on real documents from /work/shared/data/documents (see its README.md): published
// PDFs, Word files, web pages with their boilerplate, and a Jira export. Skipped without the data.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { loadFile } from "../../../src/knowledge/loaders/index.js";
import type { ExtractedDocument } from "../../../src/knowledge/types.js";
import { assertBlockInvariants, blockTexts, DOCS, SKIP_DATA, tokenBag, tokenRecall } from "./fixtures.js";

const PDF_PAGES: Record<string, number> = {
  "CC_License_Agreement_of_siMPle.pdf": 7,
  "Closed-Syllables.pdf": 19,
  "ExamplePdf.pdf": 7,
  "The-Impact-of-Open-Access-Latin-American-Scholarship.pdf": 16,
  "The-Man-Without-A-Body.pdf": 4,
  "Tragedy-Of-The-Commons.pdf": 7,
  "markitdown-test-autogen.pdf": 1,
};

const squash = (s: string): string => s.replace(/\s+/g, " ");

async function timed(file: string): Promise<{ doc: ExtractedDocument; ms: number }> {
  const t0 = performance.now();
  const doc = await loadFile(file);
  return { doc, ms: performance.now() - t0 };
}

test("pdf: markitdown AutoGen page has the asserted sentence, a heading, page 1 on every block", { skip: SKIP_DATA }, async () => {
  const { doc } = await timed(path.join(DOCS, "pdf/markitdown-test-autogen.pdf"));
  assert.equal(doc.mime, "application/pdf");
  const hit = blockTexts(doc).filter((b) => b.includes("While there is contemporaneous exploration of multi-agent approaches"));
  assert.equal(hit.length, 1, "the sentence sits inside one paragraph block");
  assert.ok(blockTexts(doc, "heading").includes("1 Introduction"));
  assertBlockInvariants(doc, 1);
});

test("pdf: every example PDF loads with page-tagged blocks in page order, spread over its pages", { skip: SKIP_DATA }, async (t) => {
  for (const [name, pages] of Object.entries(PDF_PAGES)) {
    const { doc, ms } = await timed(path.join(DOCS, "pdf", name));
    t.diagnostic(`${name}: ${pages} pages, ${doc.blocks.length} blocks, ${doc.text.length} chars, ${ms.toFixed(0)} ms`);
    assertBlockInvariants(doc, pages);
    assert.equal(doc.blocks.at(-1)?.page, pages, `${name}: text on the last page`);
    assert.ok(doc.text.length > 1000, `${name}: has text`);
    assert.ok(![...doc.text].some((c) => c < " " && c !== "\n" && c !== "\t"), `${name}: no control characters`);
  }
});

test("pdf: reference text of the example PDFs is recovered (token recall against the .reference.md files)", { skip: SKIP_DATA }, async (t) => {
  for (const name of ["ExamplePdf", "The-Man-Without-A-Body", "CC_License_Agreement_of_siMPle"]) {
    const { doc } = await timed(path.join(DOCS, "pdf", `${name}.pdf`));
    const want = tokenBag(readFileSync(path.join(DOCS, "pdf", `${name}.reference.md`), "utf8"));
    const recall = tokenRecall(want, tokenBag(doc.text));
    t.diagnostic(`${name}: token recall ${recall.toFixed(3)}`);
    assert.ok(recall >= 0.9, `${name}: recall ${recall}`);
  }
  // Paragraph joining mends line-end hyphenation and keeps sentences whole.
  const story = (await timed(path.join(DOCS, "pdf/The-Man-Without-A-Body.pdf"))).doc;
  assert.ok(blockTexts(story).some((b) => b.includes("On a shelf in the old Arsenal museum, in the Central Park")));
});

test("docx: markitdown test document keeps the planted UUIDs, headings and title", { skip: SKIP_DATA }, async () => {
  for (const name of ["markitdown-test.docx", "markitdown-test_with_comment.docx"]) {
    const { doc } = await timed(path.join(DOCS, "docx", name));
    assert.equal(doc.mime, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    assert.equal(doc.title, "AutoGen: Enabling Next-Gen LLM Applications via Multi-Agent Conversation");
    const headings = blockTexts(doc, "heading");
    for (const h of ["Abstract", "Introduction", "d666f1f7-46cb-42bd-9a39-9a39cf2a509f"]) assert.ok(headings.includes(h), `${name}: heading ${h}`);
    assert.ok(doc.text.includes("314b0a30-5b04-470b-b9f7-eed2c2bec74a"), name);
    assertBlockInvariants(doc);
  }
  const { doc } = await timed(path.join(DOCS, "docx/markitdown-test.docx"));
  // The table's rows are blocks with cells joined by " | ".
  assert.ok(blockTexts(doc).includes("13 | 14 | 49e168b7-d2ae-407f-a055-2167576f39a1 | 15 | 16 | 17"));
});

test("docx: mammoth fixtures (table between paragraphs, list, footnotes without back-links)", { skip: SKIP_DATA }, async () => {
  const tables = (await timed(path.join(DOCS, "docx/mammoth-tables.docx"))).doc;
  assert.deepEqual(blockTexts(tables), ["Above", "Top left | Top right", "Bottom left | Bottom right", "Below"]);
  const list = (await timed(path.join(DOCS, "docx/mammoth-simple-list.docx"))).doc;
  assert.deepEqual(blockTexts(list), ["Apple", "Banana"]);
  const notes = (await timed(path.join(DOCS, "docx/mammoth-footnotes.docx"))).doc;
  assert.ok(notes.text.includes("A tachyon walks into a bar."));
  assert.ok(!notes.text.includes("↑"));
  for (const name of readdirSync(path.join(DOCS, "docx"))) assertBlockInvariants((await timed(path.join(DOCS, "docx", name))).doc);
});

test("html: Wikipedia 'Microsoft' page: article text in, sidebar and language list out", { skip: SKIP_DATA }, async () => {
  const { doc } = await timed(path.join(DOCS, "html/markitdown/test_wikipedia.html"));
  assert.ok(squash(doc.text).includes("Microsoft entered the operating system (OS) business in 1980 with its own version of"));
  assert.ok(!doc.text.includes("move to sidebar"));
  assert.ok(!doc.text.includes("154 languages"));
  assert.equal(blockTexts(doc, "heading")[0], "Microsoft");
  assert.ok(blockTexts(doc, "heading").includes("History"));
  assertBlockInvariants(doc);
});

test("html: Readability test pages: text recall of expected.html ≥ 0.9 and little beyond it", { skip: SKIP_DATA }, async (t) => {
  for (const page of ["wikipedia", "ietf-1", "google-sre-book-1", "mozilla-1", "v8-blog"]) {
    const dir = path.join(DOCS, "html", page);
    const { doc, ms } = await timed(path.join(dir, "source.html"));
    // The expected article is HTML too; strip its tags for its words.
    const expected = readFileSync(path.join(dir, "expected.html"), "utf8").replace(/<[^>]*>/g, " ").replace(/&[a-z]+;|&#\d+;/g, " ");
    const want = tokenBag(expected);
    const got = tokenBag(doc.text);
    const recall = tokenRecall(want, got);
    const precision = tokenRecall(got, want);
    t.diagnostic(`${page}: recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)}, ${ms.toFixed(0)} ms`);
    assert.ok(recall >= 0.9, `${page}: recall ${recall}`);
    assert.ok(precision >= 0.9, `${page}: precision ${precision} (boilerplate?)`);
    assertBlockInvariants(doc);
  }
});

test("html: Confluence Cloud page without semantic markup loses its chrome", { skip: SKIP_DATA }, async () => {
  const { doc } = await timed(path.join(DOCS, "confluence/test_confluence_cloud.html"));
  assert.deepEqual(blockTexts(doc, "heading").slice(0, 2), ["Design Decisions", "Overview"]);
  assert.ok(blockTexts(doc).includes("Use REST API | Accepted"));
  for (const chrome of ["Header chrome", "Sidebar content", "Footer chrome", "A comment that should not appear"]) {
    assert.ok(!doc.text.includes(chrome), chrome);
  }
});

test("jsonl: the Apache Nutch Jira export loads fast, one heading per issue, comments searchable", { skip: SKIP_DATA }, async (t) => {
  const { doc, ms } = await timed(path.join(DOCS, "jira/apache-nutch-issues.jsonl"));
  t.diagnostic(`apache-nutch-issues.jsonl: ${doc.blocks.length} blocks, ${doc.text.length} chars, ${ms.toFixed(0)} ms`);
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.equal(doc.mime, "application/x-ndjson");
  const headings = blockTexts(doc, "heading");
  assert.equal(headings.length, 452);
  assert.equal(headings[0], "NUTCH-580: Remove deprecated hadoop api calls (FS)");
  assert.ok(blockTexts(doc).some((b) => b.startsWith("comments[0]: I've been using your patch for a while now")));
  assertBlockInvariants(doc);
});
