// Bad input: every case must be a StrataError with its code, a one-line message naming the cause
// and a hint naming the fix, and must fail fast (no reading of huge files, no hangs on corrupt ones).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isStrataError, type ErrorCode } from "../../../src/core/errors.js";
import { loadBytes, loadFile, readSourceBytes } from "../../../src/knowledge/loaders/index.js";
import { loadPdf } from "../../../src/knowledge/loaders/pdf.js";
import { DOCS, makePdf, randomBytes, SKIP_DATA, tempDir } from "./fixtures.js";

const tmp = tempDir();
after(tmp.cleanup);
const file = (name: string, content: string | Uint8Array): string => {
  const p = path.join(tmp.dir, name);
  writeFileSync(p, content);
  return p;
};
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Rejects with a StrataError of `code` whose message (one line) matches `message`, with a hint. */
async function fails(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStrataError(e), `not a StrataError: ${String(e)}`);
    assert.equal(e.code, code, `code of "${e.message}"`);
    assert.ok(e.message.length > 0 && !e.message.includes("\n"), `one-line message: ${JSON.stringify(e.message)}`);
    assert.ok(e.hint.length > 0, `hint for "${e.message}"`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test("empty and whitespace-only files are EMPTY_FILE", async () => {
  await fails(loadFile(file("empty.md", "")), "EMPTY_FILE");
  await fails(loadFile(file("blank.txt", " \n\t\r\n  \n")), "EMPTY_FILE", /empty|whitespace/);
  await fails(loadFile(file("bom-only.md", "\uFEFF\n")), "EMPTY_FILE");
  await fails(loadBytes(new Uint8Array(0), "x.pdf"), "EMPTY_FILE");
  await fails(loadBytes(new Uint8Array(0), "x.docx"), "EMPTY_FILE");
});

test("a sparse 200 MB file is rejected from its size alone, instantly", async () => {
  const big = path.join(tmp.dir, "huge.txt");
  writeFileSync(big, "");
  truncateSync(big, 200 * 1024 * 1024);
  const t0 = performance.now();
  await fails(loadFile(big), "FILE_TOO_LARGE", /200\.0 MiB.*50\.0 MiB/);
  await fails(readSourceBytes(big), "FILE_TOO_LARGE");
  assert.ok(performance.now() - t0 < 500, "must not read the file");
  await fails(loadFile(file("small.md", "# hello world"), { maxBytes: 5 }), "FILE_TOO_LARGE");
  await fails(loadBytes(utf8("# hello world"), "small.md", { maxBytes: 5 }), "FILE_TOO_LARGE");
});

test("binary bytes under a text extension are BINARY_FILE", async () => {
  await fails(loadFile(file("nul.txt", Buffer.from("hello\0world"))), "BINARY_FILE");
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(2000, 7)]);
  await fails(loadFile(file("image.md", png)), "BINARY_FILE");
  // No NUL, but mostly control bytes.
  const control = Buffer.from(Array.from({ length: 400 }, (_, i) => (i % 2 ? 0x01 : 0x41)));
  await fails(loadBytes(control, "c.csv"), "BINARY_FILE");
});

test("invalid UTF-8 is INVALID_UTF8 with where it is; UTF-16 with a BOM is decoded", async () => {
  await fails(loadFile(file("latin1.md", Buffer.from("# Caf\xe9\n\nline two", "latin1"))), "INVALID_UTF8", /UTF-8.*line 1/);
  await fails(loadBytes(Buffer.from("ok\nok\n\xff\xfe\xfd rest", "latin1"), "x.json"), "INVALID_UTF8", /line 3/);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Hello UTF-16\n\nSecond", "utf16le")]);
  const doc = await loadBytes(utf16, "wide.txt");
  assert.equal(doc.text, "Hello UTF-16\n\nSecond");
});

test("corrupt or fake PDFs are PARSE_FAILED quickly; a PDF without a text layer says so", async () => {
  const t0 = performance.now();
  await fails(loadFile(file("corrupt.pdf", Buffer.concat([Buffer.from("%PDF-1.7\n1 0 obj <<"), randomBytes(4000, 1)]))), "PARSE_FAILED", /PDF/);
  await fails(loadFile(file("truncated.pdf", makePdf([[{ x: 72, y: 700, size: 12, text: "Cut short" }]]).subarray(0, 300))), "PARSE_FAILED");
  await fails(loadFile(file("fake.pdf", "just some text, not a PDF")), "PARSE_FAILED", /not|header/i);
  assert.ok(performance.now() - t0 < 10_000, "corrupt PDFs fail fast");
  await fails(loadBytes(makePdf([[], []]), "scan.pdf"), "PARSE_FAILED", /^PDF has no text layer \(scanned\?\)$/);
});

test("a PDF that takes longer than the time limit is PARSE_FAILED, not a hang", { skip: SKIP_DATA }, async () => {
  const bytes = readFileSync(path.join(DOCS, "pdf/Tragedy-Of-The-Commons.pdf"));
  await fails(loadPdf(bytes, { timeoutMs: 5 }), "PARSE_FAILED", /longer than/);
});

test("corrupt, fake and legacy DOCX files are PARSE_FAILED", async () => {
  await fails(loadFile(file("corrupt.docx", Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), randomBytes(3000, 2)]))), "PARSE_FAILED", /DOCX/);
  await fails(loadFile(file("fake.docx", "plain text in disguise")), "PARSE_FAILED", /ZIP/);
  await fails(loadBytes(Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), randomBytes(600)]), "old.docx"), "PARSE_FAILED", /legacy/);
});

test("unsupported extensions are UNSUPPORTED_TYPE, checked before the file is touched", async () => {
  await fails(loadFile(path.join(tmp.dir, "does-not-exist.png")), "UNSUPPORTED_TYPE", /\.png/);
  await fails(loadBytes(utf8("text"), "Makefile"), "UNSUPPORTED_TYPE", /without an extension/);
  // .xml is read only as a Confluence export; other XML is named as such, with the fix
  await fails(loadBytes(utf8("<catalog><item>1</item></catalog>"), "catalog.xml"), "UNSUPPORTED_TYPE", /not a Confluence storage-format export/);
  await fails(loadBytes(utf8("<page/>"), "page.xml"), "EMPTY_FILE");
});

test("documents with no extractable text are EMPTY_FILE", async () => {
  const noText = /no text could be extracted/;
  await fails(loadBytes(utf8("<html><body><nav>Home</nav><script>x()</script></body></html>"), "nav.html"), "EMPTY_FILE", noText);
  await fails(loadBytes(utf8("[]"), "a.json"), "EMPTY_FILE", noText);
  await fails(loadBytes(utf8('{"a": null, "b": [], "c": ""}'), "b.json"), "EMPTY_FILE", noText);
  await fails(loadBytes(utf8("```\n```\n"), "fence.md"), "EMPTY_FILE", noText);
});

test("syntax errors name the place: JSON position, JSONL line number, CSV quoting", async () => {
  await fails(loadBytes(utf8('{\n  "a": 1,\n  "b": \n}'), "bad.json"), "PARSE_FAILED", /invalid JSON/);
  await fails(loadBytes(utf8('{"ok": 1}\n\n{"ok": 2}\n{"broken": \n'), "bad.jsonl"), "PARSE_FAILED", /line 4/);
  await fails(loadBytes(utf8('a,b\n1,"unclosed\n'), "bad.csv"), "PARSE_FAILED", /CSV/);
});

test("paths that are not readable files: missing, a folder, a FIFO (must not block)", async (t) => {
  await fails(loadFile(path.join(tmp.dir, "missing.md")), "NOT_FOUND");
  await fails(readSourceBytes(path.join(tmp.dir, "missing.md")), "NOT_FOUND");
  mkdirSync(path.join(tmp.dir, "folder.md"));
  await fails(loadFile(path.join(tmp.dir, "folder.md")), "UNSUPPORTED_TYPE", /directory/);
  try {
    execFileSync("mkfifo", [path.join(tmp.dir, "pipe.md")]);
  } catch {
    t.diagnostic("mkfifo unavailable; FIFO case not run");
    return;
  }
  await fails(loadFile(path.join(tmp.dir, "pipe.md")), "UNSUPPORTED_TYPE", /regular file/);
});

test("an aborted signal stops loading with ABORTED", async () => {
  const ac = new AbortController();
  ac.abort();
  await fails(loadFile(file("fine.md", "# fine"), { signal: ac.signal }), "ABORTED");
  await fails(loadBytes(makePdf([[{ x: 72, y: 700, size: 12, text: "Hi" }]]), "a.pdf", { signal: ac.signal }), "ABORTED");
});
