// Shared helpers for the loader tests: where the real documents live, the block invariants every
// ExtractedDocument must satisfy, temp folders, and a tiny PDF writer for layout cases.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExtractedDocument } from "../../../src/knowledge/types.js";

/** The folder with package.json above this file: works from test/ (tsx) and from dist/test/ (tsc). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("package.json not found above the test file");
    dir = up;
  }
  return dir;
}

export const DATA = path.resolve(repoRoot(), "../shared/data");
export const DOCS = path.join(DATA, "documents");
export const HAVE_DATA = existsSync(DOCS);
export const SKIP_DATA = HAVE_DATA ? false : "…/shared/data missing";

/** Spans within text, trimmed, ordered, non-overlapping; headings 1–6; pages within range when given. */
export function assertBlockInvariants(doc: ExtractedDocument, pageCount?: number): void {
  assert.ok(doc.blocks.length > 0, "no blocks");
  let last = 0;
  for (const [i, b] of doc.blocks.entries()) {
    assert.ok(Number.isInteger(b.start) && Number.isInteger(b.end), `block ${i}: integer offsets`);
    assert.ok(b.start >= last, `block ${i} starts at ${b.start}, before the previous block ended (${last})`);
    assert.ok(b.end > b.start && b.end <= doc.text.length, `block ${i}: span ${b.start}-${b.end} within text of ${doc.text.length}`);
    const s = doc.text.slice(b.start, b.end);
    assert.equal(s, s.trim(), `block ${i} is not trimmed: ${JSON.stringify(s.slice(0, 40))}`);
    if (b.kind === "heading") assert.ok(b.level !== undefined && b.level >= 1 && b.level <= 6, `block ${i}: heading level ${b.level}`);
    else assert.equal(b.level, undefined, `block ${i}: paragraph with a level`);
    if (pageCount !== undefined) {
      assert.ok(b.page !== undefined && b.page >= 1 && b.page <= pageCount, `block ${i}: page ${b.page} of ${pageCount}`);
      if (i > 0) assert.ok((b.page as number) >= (doc.blocks[i - 1]?.page as number), `block ${i}: pages in order`);
    }
    last = b.end;
  }
}

export function blockTexts(doc: ExtractedDocument, kind?: "heading" | "paragraph"): string[] {
  return doc.blocks.filter((b) => !kind || b.kind === kind).map((b) => doc.text.slice(b.start, b.end));
}

/** A fresh temp folder, removed when the returned function is called. */
export function tempDir(prefix = "strata-loaders-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic bytes (xorshift), for corrupt-file cases. */
export function randomBytes(n: number, seed = 42): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface PdfText {
  x: number;
  y: number;
  size: number;
  text: string;
}

/** A minimal valid PDF (Helvetica, one content stream per page); an empty page list entry draws a line only. */
export function makePdf(pages: PdfText[][], title?: string): Buffer {
  const objects: string[] = [];
  const pageIds: number[] = [];
  // 1 catalog, 2 pages, 3 font; then a page and its content per page; then the info dict.
  objects[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[3] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
  let id = 4;
  for (const items of pages) {
    const pageId = id++;
    const contentId = id++;
    pageIds.push(pageId);
    const ops = items.length
      ? items.map((t) => `BT /F1 ${t.size} Tf ${t.x} ${t.y} Td (${t.text.replace(/[\\()]/g, (c) => "\\" + c)}) Tj ET`).join("\n")
      : "0 0 m 500 500 l S";
    objects[pageId] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>`;
    objects[contentId] = `<< /Length ${Buffer.byteLength(ops, "latin1")} >>\nstream\n${ops}\nendstream`;
  }
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((p) => `${p} 0 R`).join(" ")}] /Count ${pageIds.length} >>`;
  const infoId = id++;
  objects[infoId] = title ? `<< /Title (${title}) >>` : "<< >>";
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  for (let i = 1; i < objects.length; i++) {
    offsets[i] = Buffer.byteLength(out, "latin1");
    out += `${i} 0 obj\n${objects[i]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let i = 1; i < objects.length; i++) out += `${String(offsets[i]).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R /Info ${infoId} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** Lines of body text at 12 pt with 14 pt leading, from the top of the page. */
export function textLines(lines: string[], opts: { x?: number; top?: number; size?: number; leading?: number } = {}): PdfText[] {
  const { x = 72, top = 720, size = 12, leading = 14 } = opts;
  return lines.map((text, i) => ({ x, y: top - i * leading, size, text }));
}

/** Word tokens (letters and digits), lowercased, as a multiset. */
export function tokenBag(s: string): Map<string, number> {
  const bag = new Map<string, number>();
  for (const t of s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) bag.set(t, (bag.get(t) ?? 0) + 1);
  return bag;
}

/** Share of `want`'s tokens (with multiplicity) that `got` also has. */
export function tokenRecall(want: Map<string, number>, got: Map<string, number>): number {
  let total = 0;
  let hit = 0;
  for (const [t, n] of want) {
    total += n;
    hit += Math.min(n, got.get(t) ?? 0);
  }
  return total === 0 ? 1 : hit / total;
}
