import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkDocument } from "../../src/knowledge/chunker.js";
import type { ExtractedDocument, TextBlock } from "../../src/knowledge/types.js";

/** Builds a document the way loaders do: blocks joined by blank lines. */
function doc(parts: { kind: TextBlock["kind"]; level?: number; text: string; page?: number }[]): ExtractedDocument {
  let text = "";
  const blocks: TextBlock[] = [];
  for (const p of parts) {
    if (text) text += "\n\n";
    blocks.push({ kind: p.kind, level: p.level, start: text.length, end: text.length + p.text.length, page: p.page });
    text += p.text;
  }
  return { text, mime: "text/plain", blocks };
}

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i % 7} in some detail.`;

test("every chunk is the exact span of the document text", () => {
  const d = doc([
    { kind: "heading", level: 1, text: "Guide" },
    { kind: "paragraph", text: Array.from({ length: 40 }, (_, i) => sentence(i)).join(" ") },
    { kind: "heading", level: 2, text: "Tickets" },
    { kind: "paragraph", text: "Adults pay 12 euros." },
  ]);
  const chunks = chunkDocument(d, { maxChars: 300, overlapChars: 80 });
  assert.ok(chunks.length > 3);
  for (const c of chunks) {
    assert.equal(c.text, d.text.slice(c.start, c.end));
    assert.ok(c.text.length <= 300, `chunk ${c.ordinal} has ${c.text.length} chars`);
  }
  assert.deepEqual(chunks.map((c) => c.ordinal), chunks.map((_, i) => i));
});

test("heading paths follow the outline and headings start chunks", () => {
  const d = doc([
    { kind: "heading", level: 1, text: "Guide" },
    { kind: "paragraph", text: "Intro text." },
    { kind: "heading", level: 2, text: "Hours" },
    { kind: "paragraph", text: "Open daily." },
    { kind: "heading", level: 3, text: "Night" },
    { kind: "paragraph", text: "Tours at 21:30." },
    { kind: "heading", level: 2, text: "Tickets" },
    { kind: "paragraph", text: "12 euros." },
  ]);
  const chunks = chunkDocument(d, { maxChars: 1000, overlapChars: 0 });
  assert.deepEqual(chunks.map((c) => c.headingPath), [["Guide"], ["Guide", "Hours"], ["Guide", "Hours", "Night"], ["Guide", "Tickets"]]);
  assert.ok(chunks[3]!.text.startsWith("Tickets"));
});

test("consecutive headings stay with the body after them", () => {
  const d = doc([
    { kind: "heading", level: 1, text: "Book" },
    { kind: "heading", level: 2, text: "Chapter" },
    { kind: "paragraph", text: "Body." },
  ]);
  const chunks = chunkDocument(d);
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0]!.headingPath, ["Book", "Chapter"]);
  assert.equal(chunks[0]!.text, "Book\n\nChapter\n\nBody.");
});

test("overlap repeats whole trailing sentences of the previous chunk", () => {
  const para = Array.from({ length: 30 }, (_, i) => sentence(i)).join(" ");
  const d = doc([{ kind: "paragraph", text: para }]);
  const chunks = chunkDocument(d, { maxChars: 250, overlapChars: 120 });
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!;
    const cur = chunks[i]!;
    assert.ok(cur.start < prev.end, `chunk ${i} should overlap the previous one`);
    assert.ok(prev.end - cur.start <= 120 + 1);
    assert.match(cur.text, /^Sentence number \d+/);
  }
  const noOverlap = chunkDocument(d, { maxChars: 250, overlapChars: 0 });
  for (let i = 1; i < noOverlap.length; i++) assert.ok(noOverlap[i]!.start >= noOverlap[i - 1]!.end);
});

test("a sentence longer than the limit is cut at whitespace", () => {
  const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
  const chunks = chunkDocument(doc([{ kind: "paragraph", text: long }]), { maxChars: 100, overlapChars: 0 });
  assert.ok(chunks.length >= 10);
  for (const c of chunks) {
    assert.ok(c.text.length <= 100);
    assert.doesNotMatch(c.text, /^\s|\s$/);
  }
  assert.equal(chunks.map((c) => c.text).join(" "), long);
});

test("pages come from the chunk's first block", () => {
  const d = doc([
    { kind: "paragraph", text: "On page one.", page: 1 },
    { kind: "paragraph", text: "x".repeat(50) + " on page two.", page: 2 },
  ]);
  const chunks = chunkDocument(d, { maxChars: 40, overlapChars: 0 });
  assert.equal(chunks[0]!.page, 1);
  assert.equal(chunks[chunks.length - 1]!.page, 2);
});

test("text without blocks is split on blank lines", () => {
  const text = "First paragraph here.\n\nSecond paragraph here.";
  const chunks = chunkDocument({ text, mime: "text/plain", blocks: [] }, { maxChars: 25, overlapChars: 0 });
  assert.deepEqual(chunks.map((c) => c.text), ["First paragraph here.", "Second paragraph here."]);
});
