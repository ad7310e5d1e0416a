// Plain text: the decoded source is the document text; paragraphs are the blank-line-separated runs.

import type { ExtractedDocument, TextBlock } from "../types.js";

export const TEXT_MIME = "text/plain";

export function loadText(text: string): ExtractedDocument {
  return { text, mime: TEXT_MIME, blocks: paragraphSpans(text) };
}

/** Spans of the blank-line-separated runs of `text`, trimmed. */
export function paragraphSpans(text: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  const sep = /\n[ \t]*\n\s*/g;
  let from = 0;
  for (;;) {
    const m = sep.exec(text);
    const to = m ? m.index : text.length;
    const span = trimSpan(text, from, to);
    if (span) blocks.push({ kind: "paragraph", start: span[0], end: span[1] });
    if (!m) break;
    from = m.index + m[0].length;
  }
  return blocks;
}

/** Narrows [start, end) to exclude leading and trailing whitespace; undefined when nothing is left. */
export function trimSpan(text: string, start: number, end: number): [number, number] | undefined {
  while (start < end && /\s/.test(text[start] as string)) start++;
  while (end > start && /\s/.test(text[end - 1] as string)) end--;
  return start < end ? [start, end] : undefined;
}
