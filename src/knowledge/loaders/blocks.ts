// Builds an ExtractedDocument's text from block drafts: blocks joined by a blank line, so every
// block's span is exact by construction. Shared by the loaders that do not keep their source text.

import type { ExtractedDocument, TextBlock } from "../types.js";

export interface BlockDraft {
  kind: "heading" | "paragraph";
  level?: number;
  text: string;
  page?: number;
}

export const BLOCK_SEPARATOR = "\n\n";

/** Trims each draft, drops empty ones, and joins the rest into text with exact spans. */
export function assemble(drafts: Iterable<BlockDraft>, mime: string, title?: string): ExtractedDocument {
  const parts: string[] = [];
  const blocks: TextBlock[] = [];
  let offset = 0;
  for (const d of drafts) {
    const body = d.text.trim();
    if (body === "") continue;
    if (parts.length > 0) offset += BLOCK_SEPARATOR.length;
    const block: TextBlock = { kind: d.kind, start: offset, end: offset + body.length };
    if (d.kind === "heading") block.level = clampLevel(d.level ?? 1);
    if (d.page !== undefined) block.page = d.page;
    blocks.push(block);
    parts.push(body);
    offset += body.length;
  }
  const doc: ExtractedDocument = { text: parts.join(BLOCK_SEPARATOR), mime, blocks };
  const t = title?.replace(/\s+/g, " ").trim();
  if (t) doc.title = t;
  return doc;
}

function clampLevel(level: number): number {
  return Math.min(6, Math.max(1, Math.round(level)));
}

/** Collapses runs of whitespace (including newlines and NBSP) to one space and drops zero-width spaces; for flowing text. */
export function collapseWhitespace(s: string): string {
  return s.replace(/[\u200b\u2060\ufeff]/g, "").replace(/\s+/g, " ").trim();
}
