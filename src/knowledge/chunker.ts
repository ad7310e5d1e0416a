// Structure-aware chunking: chunks follow the document's outline (a heading starts a new chunk and
// is remembered in every chunk's heading path), pack whole paragraphs up to a size, split an
// over-long paragraph at sentence ends, and overlap consecutive chunks of one section by whole
// sentences. Every chunk is an exact span of the document's extracted text, so citations can quote
// text.slice(start, end).
import type { ChunkDraft, ExtractedDocument, TextBlock } from "./types.js";
import { sentenceSpans, type Span } from "./sentences.js";

export interface ChunkingOptions {
  /** Largest chunk in characters (a single longer sentence is cut at whitespace). */
  maxChars: number;
  /** Characters of trailing sentences repeated at the start of the next chunk of the same section. */
  overlapChars: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { maxChars: 1200, overlapChars: 150 };

interface Piece extends Span {
  page?: number;
}

/** Blocks of the document; when a loader gave none, paragraphs split on blank lines. */
function blocksOf(doc: ExtractedDocument): TextBlock[] {
  if (doc.blocks.length > 0) return doc.blocks;
  const blocks: TextBlock[] = [];
  const re = /\S[\s\S]*?(?=\n\s*\n|\s*$)/g;
  for (const m of doc.text.matchAll(re)) blocks.push({ kind: "paragraph", start: m.index, end: m.index + m[0].length });
  return blocks;
}

/** Cuts a span longer than max at whitespace (or hard, if it has none). */
function cutLong(text: string, span: Span, max: number): Span[] {
  const out: Span[] = [];
  let s = span.start;
  while (span.end - s > max) {
    let cut = text.lastIndexOf(" ", s + max);
    if (cut <= s) cut = s + max;
    out.push({ start: s, end: cut });
    s = cut;
    while (s < span.end && /\s/.test(text[s]!)) s++;
  }
  if (span.end > s) out.push({ start: s, end: span.end });
  return out;
}

/** A paragraph block as pieces no longer than max: itself, or its sentences (cut if needed). */
function piecesOf(text: string, block: TextBlock, max: number): Piece[] {
  const page = block.page;
  if (block.end - block.start <= max) return [{ start: block.start, end: block.end, page }];
  return sentenceSpans(text, block.start, block.end).flatMap((s) => cutLong(text, s, max).map((p) => ({ ...p, page })));
}

export function chunkDocument(doc: ExtractedDocument, options: Partial<ChunkingOptions> = {}): ChunkDraft[] {
  const { maxChars, overlapChars } = { ...DEFAULT_CHUNKING, ...options };
  const text = doc.text;
  const chunks: ChunkDraft[] = [];
  const headings: { level: number; title: string }[] = [];
  let current: Piece[] = [];
  let currentPath: string[] = [];
  let currentHasBody = false;

  const emit = (pieces: Piece[]): void => {
    const first = pieces[0];
    const last = pieces[pieces.length - 1];
    if (!first || !last) return;
    chunks.push({
      ordinal: chunks.length,
      start: first.start,
      end: last.end,
      text: text.slice(first.start, last.end),
      headingPath: currentPath,
      ...(first.page !== undefined ? { page: first.page } : {}),
    });
  };

  // Sentences at the end of the flushed chunk, up to overlapChars, carried into the next one.
  const overlapFrom = (pieces: Piece[]): Piece[] => {
    if (overlapChars <= 0) return [];
    const last = pieces[pieces.length - 1];
    if (!last) return [];
    const sentences = sentenceSpans(text, last.start, last.end);
    const carried: Piece[] = [];
    let size = 0;
    // Never carry a whole one-piece chunk: the next chunk must add something new.
    const lowest = pieces.length > 1 ? 0 : 1;
    for (let i = sentences.length - 1; i >= lowest; i--) {
      const s = sentences[i]!;
      if (size + (s.end - s.start) > overlapChars) break;
      size += s.end - s.start;
      carried.unshift({ start: s.start, end: s.end, page: last.page });
    }
    return carried.length > 0 ? [{ start: carried[0]!.start, end: last.end, page: last.page }] : [];
  };

  const size = (pieces: Piece[]): number => {
    const first = pieces[0];
    const last = pieces[pieces.length - 1];
    return first && last ? last.end - first.start : 0;
  };

  for (const block of blocksOf(doc)) {
    if (block.kind === "heading") {
      // Consecutive headings stay together with the body that follows them.
      if (currentHasBody) emit(current);
      const level = block.level ?? 1;
      while (headings.length > 0 && headings[headings.length - 1]!.level >= level) headings.pop();
      headings.push({ level, title: text.slice(block.start, block.end).replace(/^#+\s*|\s*#+$/g, "").trim() });
      currentPath = headings.map((h) => h.title);
      const heading = { start: block.start, end: block.end, page: block.page };
      current = currentHasBody || current.length === 0 ? [heading] : [...current, heading];
      currentHasBody = false;
      continue;
    }
    for (const piece of piecesOf(text, block, maxChars)) {
      const candidate = [...current, piece];
      if (current.length > 0 && size(candidate) > maxChars) {
        emit(current);
        const carried = overlapFrom(current);
        current = size([...carried, piece]) <= maxChars ? [...carried, piece] : [piece];
      } else {
        current = candidate;
      }
      currentHasBody = true;
    }
  }
  emit(current);
  return chunks;
}
