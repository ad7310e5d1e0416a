// Each format's loader on small generated inputs: structure, spans, titles, mime types.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { isSupported, loadBytes, loadFile, SUPPORTED_EXTENSIONS } from "../../../src/knowledge/loaders/index.js";
import { assertBlockInvariants, blockTexts, makePdf, repoRoot, textLines } from "./fixtures.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test("supported extensions and isSupported", () => {
  for (const ext of [".md", ".markdown", ".txt", ".text", ".html", ".htm", ".xhtml", ".pdf", ".docx", ".csv", ".json", ".jsonl", ".ndjson"]) {
    assert.ok(SUPPORTED_EXTENSIONS.includes(ext), ext);
  }
  assert.ok(isSupported("/a/b/Report.PDF"));
  assert.ok(isSupported("notes.md"));
  assert.ok(!isSupported("image.png"));
  assert.ok(!isSupported("Makefile"));
  assert.ok(!isSupported("archive.tar.gz"));
});

test("plain text: source kept as text, paragraphs split on blank lines, BOM and CRLF normalised", async () => {
  const doc = await loadBytes(utf8("\uFEFF  First line\r\nstill first.\r\n\r\n \t \r\nSecond paragraph.  \r\n\r\n\r\nThird."), "a.txt");
  assert.equal(doc.mime, "text/plain");
  assert.equal(doc.text.includes("\r"), false);
  assert.equal(doc.text.charCodeAt(0) === 0xfeff, false);
  assert.deepEqual(blockTexts(doc), ["First line\nstill first.", "Second paragraph.", "Third."]);
  assertBlockInvariants(doc);
});

test("markdown: ATX and setext headings, # inside code fences ignored, list items and fences as blocks", async () => {
  const md = [
    "---",
    "title: Front title",
    "---",
    "# The *Guide* ##",
    "",
    "Intro paragraph",
    "over two lines.",
    "",
    "Setext Two",
    "----------",
    "",
    "- apples",
    "- pears that wrap",
    "  onto a second line",
    "1. first",
    "",
    "```sh",
    "# not a heading",
    "echo hi",
    "```",
    "",
    "***",
    "",
    "###### Deep",
    "#hashtag is text",
  ].join("\r\n");
  const doc = await loadBytes(utf8(md), "guide.md");
  assert.equal(doc.mime, "text/markdown");
  assert.equal(doc.text, md.replace(/\r\n/g, "\n"), "markdown keeps its source as the text");
  assert.equal(doc.title, "The Guide");
  const blocks = doc.blocks.map((b) => [b.kind, b.level ?? 0, doc.text.slice(b.start, b.end)]);
  assert.deepEqual(blocks, [
    ["heading", 1, "The *Guide*"],
    ["paragraph", 0, "Intro paragraph\nover two lines."],
    ["heading", 2, "Setext Two"],
    ["paragraph", 0, "apples"],
    ["paragraph", 0, "pears that wrap\n  onto a second line"],
    ["paragraph", 0, "first"],
    ["paragraph", 0, "```sh\n# not a heading\necho hi\n```"],
    ["heading", 6, "Deep"],
    ["paragraph", 0, "#hashtag is text"],
  ]);
  assertBlockInvariants(doc);
});

test("markdown: a rule after a list item is not a setext heading", async () => {
  const doc = await loadBytes(utf8("- item\n---\nText\n==="), "r.md");
  assert.deepEqual(doc.blocks.map((b) => [b.kind, doc.text.slice(b.start, b.end)]), [["paragraph", "item"], ["heading", "Text"]]);
});

test("markdown: front matter title when there is no H1; unclosed fence runs to the end", async () => {
  const doc = await loadBytes(utf8("---\ntitle: \"Notes\"\ntags: [a]\n---\n## Sub\n\n```\n# code\nmore"), "n.markdown");
  assert.equal(doc.title, "Notes");
  assert.deepEqual(blockTexts(doc, "heading"), ["Sub"]);
  assert.deepEqual(blockTexts(doc, "paragraph"), ["```\n# code\nmore"]);
});

test("html: the fixture history page keeps its headings and sentences, drops nav and footer", async () => {
  const file = path.resolve(repoRoot(), "test/fixtures/kb/public/history.html");
  const html = readFileSync(file);
  const doc = await loadBytes(html, "history.html");
  assert.equal(doc.mime, "text/html");
  assert.equal(doc.title, "History of the Harbour Museum");
  const paras = blockTexts(doc, "paragraph");
  for (const s of [
    "The Harbour Museum was founded in 1921 in the former customs house by the shipwright Agnes Morrow.",
    "Its most famous object is a first-order Fresnel lens that weighs 3 tonnes and came from the Skerry lighthouse.",
  ]) {
    assert.equal(paras.filter((p) => p.includes(s)).length, 1, `one block holds "${s}"`);
  }
  assert.deepEqual(
    doc.blocks.filter((b) => b.kind === "heading").map((b) => [b.level, doc.text.slice(b.start, b.end)]),
    [[1, "History of the Harbour Museum"], [2, "The lighthouse lens"]],
  );
  assert.ok(!/\bHome\b/.test(doc.text), "nav text");
  assert.ok(!doc.text.includes("Plan your visit"), "nav text");
  assert.ok(!doc.text.includes("registered charity"), "footer text");
  assertBlockInvariants(doc);
});

test("html: fallback for a small page without article markup; tables, lists, pre, script and hidden text", async () => {
  const html = `<!doctype html><html><head><title>T</title><style>p{color:red}</style></head><body>
    <nav><a href="/">Home</a></nav><main>
    <h2>Prices</h2><table><tr><th>Item</th><th>Cost</th></tr><tr><td>Tea</td><td> 3  EUR</td></tr></table>
    <ul><li>one <b>bold</b>
      word</li><li>two<ul><li>nested</li></ul></li></ul>
    <pre>line 1
  indented</pre><script>var x = "script text";</script><p hidden>secret</p><p style="display: none">gone</p>
    <dl><dt>Term</dt><dd>Definition</dd></dl><figure><figcaption>A caption</figcaption></figure>
    </main><footer>Footer words</footer></body></html>`;
  const doc = await loadBytes(utf8(html), "p.htm");
  assert.deepEqual(blockTexts(doc), ["Prices", "Item | Cost", "Tea | 3 EUR", "one bold word", "two", "nested", "line 1\n  indented", "Term", "Definition", "A caption"]);
  assert.equal(doc.title, "T");
  assertBlockInvariants(doc);
});

test("html: fragments without <html> or <body> still give their text", async () => {
  const frag = await loadBytes(utf8("<h1>Frag</h1><p>Just a   fragment.</p>"), "f.html");
  assert.deepEqual(blockTexts(frag), ["Frag", "Just a fragment."]);
  const noHtml = await loadBytes(utf8("<head><title>T</title></head><body><p>Hi there.</p></body>"), "g.html");
  assert.equal(noHtml.title, "T");
  assert.deepEqual(blockTexts(noHtml), ["Hi there."]);
});

test("html: a page that declares windows-1252 is decoded with it; permalink marks leave headings", async () => {
  const page = Buffer.from('<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head><body><h2>Men\xfc <a href="#m">#</a></h2><p>Cr\xe8me br\xfbl\xe9e \x80 4</p></body></html>', "latin1");
  const doc = await loadBytes(page, "menu.html");
  assert.equal(doc.title, "Café");
  assert.deepEqual(blockTexts(doc), ["Menü", "Crème brûlée € 4"]);
});

test("csv: header block and one 'column: value' block per record; quoted delimiters; ; detected", async () => {
  const doc = await loadBytes(utf8('\uFEFFname;city;note\r\nAda;London;"likes; semicolons"\r\n\r\nBob;;"multi\nline"\r\n'), "people.csv");
  assert.equal(doc.mime, "text/csv");
  assert.deepEqual(blockTexts(doc), ["name | city | note", "name: Ada; city: London; note: likes; semicolons", "name: Bob; note: multi line"]);
  assertBlockInvariants(doc);
});

test("json: array elements become blocks with a heading from id/title; long strings get their own block", async () => {
  const long = "word ".repeat(60).trim();
  const json = JSON.stringify([
    { id: 7, title: "Seven", tags: ["a", "b"], meta: { owner: { name: "Kim" } }, none: null, body: long },
    { other: true },
  ]);
  const doc = await loadBytes(utf8(json), "items.json");
  assert.equal(doc.mime, "application/json");
  assert.deepEqual(blockTexts(doc), [
    "7: Seven",
    "id: 7\ntitle: Seven\ntags[0]: a\ntags[1]: b\nmeta.owner.name: Kim",
    `body: ${long}`,
    "other: true",
  ]);
  assert.equal(doc.blocks[0]?.kind, "heading");
  assertBlockInvariants(doc);
});

test("json: an object gives one block per top-level key", async () => {
  const doc = await loadBytes(utf8('{"name": "strata", "version": 1, "scripts": {"build": "tsc", "test": "node --test"}}'), "package.json");
  assert.deepEqual(blockTexts(doc), ["name: strata", "version: 1", "scripts.build: tsc\nscripts.test: node --test"]);
});

test("jsonl / ndjson: one record per line, blank lines skipped, repeated long strings kept once", async () => {
  const desc = "A long description that is repeated by the export in a second place. ".repeat(4).trim();
  const lines = [
    JSON.stringify({ issue_id: "X-1", title: "First", description: desc, echo: { answer: desc }, comments: ["ok", "line one\nline two"] }),
    "",
    JSON.stringify({ issue_id: "X-2", title: "Second" }),
  ].join("\n");
  for (const name of ["a.jsonl", "a.ndjson"]) {
    const doc = await loadBytes(utf8(lines), name);
    assert.equal(doc.mime, "application/x-ndjson");
    assert.deepEqual(blockTexts(doc), [
      "X-1: First",
      "issue_id: X-1\ntitle: First",
      `description: ${desc}`,
      "comments[0]: ok",
      "comments[1]: line one\nline two",
      "X-2: Second",
      "issue_id: X-2\ntitle: Second",
    ]);
    assertBlockInvariants(doc);
  }
});

test("pdf (generated): lines join into paragraphs, gaps split them, larger font is a heading, hyphens mended, pages kept", async () => {
  const page1 = [
    { x: 72, y: 740, size: 20, text: "Field Notes" },
    ...textLines(["The survey of the northern ridge began in", "May and lasted for three exam-", "ple weeks of fine weather."], { top: 700 }),
    // A blank line's worth of extra space: a new paragraph.
    ...textLines(["Second paragraph after a gap."], { top: 700 - 3 * 14 - 14 }),
    // Sentence end, then an indented line: a new paragraph even without a gap.
    ...textLines(["Indented third paragraph."], { top: 700 - 4 * 14 - 14, x: 90 }),
  ];
  const page2 = textLines(["Page two text."]);
  const pdf = makePdf([page1, page2], "Notes from the Ridge");
  const doc = await loadBytes(pdf, "notes.pdf");
  assert.equal(doc.mime, "application/pdf");
  assert.equal(doc.title, "Notes from the Ridge");
  assert.deepEqual(
    doc.blocks.map((b) => [b.kind, b.page, doc.text.slice(b.start, b.end)]),
    [
      ["heading", 1, "Field Notes"],
      ["paragraph", 1, "The survey of the northern ridge began in May and lasted for three example weeks of fine weather."],
      ["paragraph", 1, "Second paragraph after a gap."],
      ["paragraph", 1, "Indented third paragraph."],
      ["paragraph", 2, "Page two text."],
    ],
  );
  assertBlockInvariants(doc, 2);
});

test("loadFile reads from disk and agrees with loadBytes", async () => {
  const file = path.resolve(repoRoot(), "test/fixtures/kb/public/museum-guide.md");
  const a = await loadFile(file);
  const b = await loadBytes(readFileSync(file), file);
  assert.deepEqual(a, b);
  assert.equal(a.title, "Guide to the Harbour Museum");
  assert.ok(blockTexts(a, "heading").includes("Opening hours"));
  assertBlockInvariants(a);
});
