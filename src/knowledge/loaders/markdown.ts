// Markdown: the source itself is the document text (citations quote the file as written); blocks
// are found by a line scanner: ATX/setext headings, code fences (a `#` inside is code, not a
// heading), list items, and blank-line-separated paragraphs. YAML front matter is skipped.

import type { ExtractedDocument, TextBlock } from "../types.js";
import { trimSpan } from "./text.js";

export const MARKDOWN_MIME = "text/markdown";

interface Line {
  start: number;
  end: number; // exclusive, before the "\n"
  text: string;
}

const FENCE = /^[ \t]*(`{3,}|~{3,})(.*)$/;
const ATX = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LIST_ITEM = /^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)/;

export function loadMarkdown(text: string): ExtractedDocument {
  const lines = splitLines(text);
  const blocks: TextBlock[] = [];
  let title: string | undefined;
  let frontTitle: string | undefined;
  let para: { start: number; end: number; item: boolean } | undefined;

  const push = (kind: TextBlock["kind"], start: number, end: number, level?: number): void => {
    const span = trimSpan(text, start, end);
    if (!span) return;
    blocks.push(kind === "heading" ? { kind, level, start: span[0], end: span[1] } : { kind, start: span[0], end: span[1] });
    if (kind === "heading" && level === 1 && title === undefined) title = cleanInline(text.slice(span[0], span[1]));
  };
  const flush = (): void => {
    if (para) push("paragraph", para.start, para.end);
    para = undefined;
  };

  let i = 0;
  const front = frontMatterEnd(lines);
  if (front > 0) {
    for (const l of lines.slice(1, front - 1)) {
      const m = /^title:\s*(.+?)\s*$/.exec(l.text);
      if (m?.[1]) frontTitle = m[1].replace(/^(["'])(.*)\1$/, "$2");
    }
    i = front;
  }

  for (; i < lines.length; i++) {
    const line = lines[i] as Line;
    const t = line.text;
    if (t.trim() === "") {
      flush();
      continue;
    }
    const fence = FENCE.exec(t);
    if (fence && !(fence[1]?.startsWith("`") && fence[2]?.includes("`"))) {
      flush();
      const close = closingFence(lines, i + 1, fence[1] as string);
      const end = close === -1 ? text.length : (lines[close] as Line).end;
      const bodyEnd = close === -1 ? text.length : (lines[close] as Line).start;
      // The block spans the fence lines too (they mark it as code), unless the fence holds nothing.
      if (text.slice(line.end, bodyEnd).trim() !== "") push("paragraph", line.start, end);
      i = close === -1 ? lines.length : close;
      continue;
    }
    const atx = ATX.exec(t);
    if (atx) {
      flush();
      const hashes = atx[0].length;
      // Content without the optional closing run of #s.
      const content = t.slice(hashes).replace(/(?:^|[ \t]+)#+[ \t]*$/, "");
      const offset = line.start + hashes;
      push("heading", offset, offset + content.length, (atx[1] as string).length);
      continue;
    }
    // "- item" followed by "---" is a list and a rule, not a heading.
    if (para && !para.item && SETEXT.exec(t)) {
      const level = t.trim().startsWith("=") ? 1 : 2;
      push("heading", para.start, para.end, level);
      para = undefined;
      continue;
    }
    if (THEMATIC_BREAK.test(t)) {
      flush();
      continue;
    }
    const item = LIST_ITEM.exec(t);
    if (item) {
      // Each list item is its own block, without its bullet.
      flush();
      para = { start: line.start + item[0].length, end: line.end, item: true };
      continue;
    }
    if (para) para.end = line.end;
    else para = { start: line.start, end: line.end, item: false };
  }
  flush();

  const doc: ExtractedDocument = { text, mime: MARKDOWN_MIME, blocks };
  const t = title ?? frontTitle;
  if (t) doc.title = t;
  return doc;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    lines.push({ start, end, text: text.slice(start, end) });
    start = end + 1;
  }
  return lines;
}

/** Index of the line after a leading `---` … `---`/`...` YAML block, or 0 when there is none. */
function frontMatterEnd(lines: Line[]): number {
  if (lines[0]?.text.trimEnd() !== "---") return 0;
  for (let j = 1; j < Math.min(lines.length, 500); j++) {
    const t = (lines[j] as Line).text.trimEnd();
    if (t === "---" || t === "...") return j + 1;
  }
  return 0;
}

/** Index of the fence's closing line; -1 when the fence is never closed (it runs to the end). */
function closingFence(lines: Line[], from: number, open: string): number {
  const ch = open[0] as string;
  for (let j = from; j < lines.length; j++) {
    const t = (lines[j] as Line).text.trim();
    if (t.length >= open.length && t.startsWith(ch) && [...t].every((c) => c === ch)) return j;
  }
  return -1;
}

/** Heading text for a title: links, emphasis and code marks removed. */
function cleanInline(s: string): string {
  return s
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*`]+/g, "")
    .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, "")
    .replace(/\s+/g, " ")
    .trim();
}
