// CSV: csv-parse does the quoting rules; the first row names the columns and every record becomes
// one paragraph "column: value; column: value", so a row stays one searchable, citable unit.

import { parse } from "csv-parse/sync";
import { StrataError } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { assemble, collapseWhitespace, type BlockDraft } from "./blocks.js";

export const CSV_MIME = "text/csv";

const DELIMITERS = [",", ";", "\t", "|"];

export function loadCsv(text: string): ExtractedDocument {
  let rows: string[][];
  try {
    rows = parse(text, { delimiter: guessDelimiter(text), relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (e) {
    const msg = ((e as Error).message ?? String(e)).split("\n")[0]?.slice(0, 200);
    throw new StrataError("PARSE_FAILED", `CSV could not be parsed: ${msg}`, "fix the quoting on that line (a field with a comma or quote must be in double quotes, with inner quotes doubled)", { cause: e });
  }
  const [header = [], ...records] = rows;
  const names = header.map((h, i) => collapseWhitespace(h) || `column ${i + 1}`);
  const drafts: BlockDraft[] = [{ kind: "paragraph", text: names.join(" | ") }];
  for (const record of records) {
    const fields = record
      .map((v, i) => [names[i] ?? `column ${i + 1}`, collapseWhitespace(v)] as const)
      .filter(([, v]) => v !== "")
      .map(([k, v]) => `${k}: ${v}`);
    drafts.push({ kind: "paragraph", text: fields.join("; ") });
  }
  return assemble(drafts, CSV_MIME);
}

/** The candidate that occurs most often outside quotes in the first line; "," when none does. */
function guessDelimiter(text: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const ch of text.slice(0, 64 * 1024)) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "\n") break;
    else if (!quoted && DELIMITERS.includes(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ",";
  let most = 0;
  for (const d of DELIMITERS) {
    const n = counts.get(d) ?? 0;
    if (n > most) [best, most] = [d, n];
  }
  return best;
}
