// A document's title when its format names none: the first heading, else the first line of its
// text, else the file name. Five pages called "expected.html" tell a reader nothing; the source
// path is kept beside the title everywhere it is shown, so nothing is lost by preferring the text.
import { basename } from "node:path";
import type { ExtractedDocument } from "../types.js";

/** Longest derived title; longer first lines are cut at a word boundary with an ellipsis. */
export const MAX_DERIVED_TITLE = 80;

/** Tables and records: their first line is a header row or a field, not a title. */
const NO_FIRST_LINE = new Set(["text/csv", "application/json", "application/x-ndjson"]);

export function documentTitle(doc: ExtractedDocument, source: string): string {
  const named = doc.title?.replace(/\s+/g, " ").trim();
  if (named) return named;
  const heading = doc.blocks.find((b) => b.kind === "heading");
  const fromHeading = heading ? shorten(doc.text.slice(heading.start, heading.end)) : "";
  if (fromHeading) return fromHeading;
  if (!NO_FIRST_LINE.has(doc.mime)) {
    // Only the start is read: a title never needs the whole of a 50 MB text split into lines.
    const line = shorten(doc.text.slice(0, 4 * MAX_DERIVED_TITLE + 1000).split("\n").find((l) => l.trim() !== "") ?? "");
    if (line) return line;
  }
  return basename(source);
}

function shorten(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  if (t.length <= MAX_DERIVED_TITLE) return t;
  const cut = t.slice(0, MAX_DERIVED_TITLE - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > MAX_DERIVED_TITLE / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.–-]+$/, "")}…`;
}
