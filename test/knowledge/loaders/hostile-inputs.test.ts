// Hostile documents through the parse pool: each is refused with a per-file error naming the limit
// (or the damage), fast and without holding the thread; a worker that runs out of time or heap is
// terminated and the pool goes on with the next file.
import assert from "node:assert/strict";
import { test, after } from "node:test";
import { StrataError } from "../../../src/core/errors.js";
import { ParsePool } from "../../../src/knowledge/loaders/parse-pool.js";
import { hostile, makeDocx } from "../../helpers/hostile-files.js";
import { makePdf, textLines } from "./fixtures.js";

const pool = new ParsePool({ size: 1 });
after(() => pool.close());

async function refusal(bytes: Uint8Array | string, name: string, limits = {}): Promise<StrataError> {
  const t0 = Date.now();
  const buf = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  const e = await pool.parse({ bytes: buf, name, limits }).then(
    () => assert.fail(`${name} was accepted`),
    (x: unknown) => x,
  );
  assert.ok(e instanceof StrataError, `${name}: ${String(e)}`);
  assert.ok(Date.now() - t0 < 15_000, `${name} took ${Date.now() - t0} ms to refuse`);
  return e;
}

// Bombs are 16 MiB against a 4 MiB limit here, to keep the suite fast; the default limits against
// 200 MiB bombs are checked end to end (test/e2e/hostile-inputs.test.ts).
const MiB = 1024 * 1024;
const SMALL = { maxInflatedBytes: 4 * MiB, maxArchiveBytes: 8 * MiB };
const cases: [string, () => Uint8Array | string, string, RegExp][] = [
  ["bomb.docx", () => hostile.docxBomb(16), "PARSE_LIMIT", /--max-inflated-size/],
  ["lying-bomb.docx", () => hostile.docxLyingBomb(16), "PARSE_", /./],
  ["deep.docx", hostile.docxDeep, "PARSE_LIMIT", /--max-depth/],
  ["bomb.md.gz", () => hostile.gzipBomb(16), "PARSE_LIMIT", /--max-inflated-size/],
  ["deep.html", () => hostile.deepHtml(), "PARSE_LIMIT", /--max-depth/],
  ["deep.json", () => hostile.deepJson(), "PARSE_LIMIT", /--max-depth/],
  ["line.txt", () => hostile.longLine(), "PARSE_LIMIT", /--max-chars/],
  ["bad.md", hostile.invalidUtf8, "INVALID_UTF8", /UTF-8/],
  ["cut.docx", hostile.truncatedDocx, "PARSE_FAILED", /re-save/],
  ["cut.pdf", () => makePdf([textLines(["Truncated in the middle."])]).subarray(0, 200), "PARSE_FAILED", /PDF/],
  ["image.md", hostile.binaryAsMarkdown, "BINARY_FILE", /./],
  ["archive.pdf", hostile.zipAsPdf, "PARSE_FAILED", /PDF/],
];

for (const [name, make, code, hint] of cases) {
  test(`hostile ${name} is refused with ${code}`, async () => {
    const e = await refusal(make(), name, SMALL);
    assert.ok(e.code.startsWith(code), `${name}: ${e.code} ${e.message}`);
    assert.match(`${e.message} ${e.hint}`, hint);
  });
}

test("a DOCX carrying a zip bomb as an embedded object is read without opening it", async () => {
  const doc = await pool.parse({ bytes: hostile.docxNestedZip(16), name: "nested.docx", limits: SMALL });
  assert.match(doc.text, /embedded archive is not opened/);
});

test("moderate nesting and sizes pass; every limit can be raised or lowered", async () => {
  const doc = await pool.parse({ bytes: Buffer.from(hostile.deepHtml(200)), name: "ok.html" });
  assert.equal(doc.text.trim(), "x");
  const deep = await refusal(hostile.deepHtml(200), "ok.html", { maxDepth: 50 });
  assert.match(deep.message, /limit of 50/);
  const chunks = await refusal(`# T\n\n${"A sentence of text here. ".repeat(4000)}`, "many.md", { maxChunks: 3 });
  assert.match(chunks.hint, /--max-chunks/);
  const pages = await refusal(makePdf([textLines(["one"]), textLines(["two"]), textLines(["three"])]), "three.pdf", { maxPdfPages: 2 });
  assert.match(pages.hint, /--max-pdf-pages/);
  const docx = await pool.parse({ bytes: makeDocx("<w:p><w:r><w:t>fine</w:t></w:r></w:p>"), name: "fine.docx" });
  assert.match(docx.text, /fine/);
});

test("a file past its time budget has its worker terminated; the pool recovers", async () => {
  const big = "<html><body>" + "<p>para graph text</p>".repeat(50_000) + "</body></html>";
  const e = await refusal(big, "slow.html", { parseTimeoutMs: 50 });
  assert.equal(e.code, "PARSE_LIMIT");
  assert.match(e.hint, /--parse-timeout/);
  const doc = await pool.parse({ bytes: Buffer.from("<p>after the timeout</p>"), name: "next.html" });
  assert.match(doc.text, /after the timeout/);
});

test("a worker over its heap cap is stopped with a per-file error; the pool recovers", async () => {
  const small = new ParsePool({ size: 1, heapMb: 24 });
  try {
    const big = "<html><body>" + "<p>some words in a paragraph</p>".repeat(150_000) + "</body></html>";
    const e = await small.parse({ bytes: Buffer.from(big), name: "heavy.html" }).then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof StrataError && e.code === "PARSE_LIMIT", String(e));
    const doc = await small.parse({ bytes: Buffer.from("<p>still here</p>"), name: "next.html" });
    assert.match(doc.text, /still here/);
  } finally {
    await small.close();
  }
});

test("parsing in the pool leaves the calling thread free", async () => {
  let ticks = 0;
  let worst = 0;
  let last = Date.now();
  const timer = setInterval(() => {
    worst = Math.max(worst, Date.now() - last);
    last = Date.now();
    ticks++;
  }, 5);
  // Parsed on this thread, this page would stall it for seconds.
  const big = "<html><body>" + "<p>para graph text</p>".repeat(15_000) + "</body></html>";
  await pool.parse({ bytes: Buffer.from(big), name: "big.html" });
  clearInterval(timer);
  assert.ok(ticks > 3, `only ${ticks} ticks`);
  assert.ok(worst < 500, `the event loop stalled for ${worst} ms`);
});

test("with transfer, a large file's buffer is handed to the worker, not copied", async () => {
  const bytes = Buffer.from("<html><body>" + "<p>handed over</p>".repeat(20_000) + "</body></html>");
  const own = new Uint8Array(new ArrayBuffer(bytes.length));
  own.set(bytes);
  const doc = await pool.parse({ bytes: own, name: "big.html", transfer: true });
  assert.match(doc.text, /handed over/);
  assert.equal(own.byteLength, 0, "the caller's view is detached");
  const shared = Buffer.from("<p>kept</p>".repeat(10_000));
  await pool.parse({ bytes: shared.subarray(3), name: "part.html", transfer: true });
  assert.equal(shared.length, 110_000, "a view into a larger buffer is copied, never detached");
});
