// FROZEN REFERENCE: sentence segmentation before the answer-quality work (issue 14); see
// extractive-base.ts. Not used by the product.
// Sentence spans for chunking and extractive answers. ICU's sentence rules (Intl.Segmenter) do the
// work; we only re-join splits after common abbreviations and initials, which ICU breaks on.

export interface Span {
  start: number;
  end: number;
}

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });
const ABBREVIATION = /(?:^|[\s(])(?:dr|mr|mrs|ms|prof|st|sr|jr|fig|figs|no|vs|cf|approx|inc|ltd|co|corp|dept|eq|eqs|ref|refs|vol|ch|sec|e\.g|i\.e|et al|[A-Z])\.\s*$/i;

// A line break that only wraps a paragraph (hard-wrapped Markdown or text) is not a sentence end:
// it becomes a space, offsets unchanged. A break stays a break before a blank line, a list item, a
// heading or a table row, and after a short unpunctuated line followed by a capital (a title).
const HARD_NEXT = /^[ \t]*(?:\n|[-*+•>#|]|\d+[.)][ \t])/;
const TITLE_LINE_MAX_WORDS = 8;

function unwrapLines(s: string): string {
  let out = "";
  let lineStart = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\n") continue;
    const line = s.slice(lineStart, i).trim();
    const next = s.slice(i + 1, i + 80);
    const soft =
      line !== "" &&
      !HARD_NEXT.test(next) &&
      !(/^[ \t]*\p{Lu}/u.test(next) && !/[.,;:!?)]$/.test(line) && line.split(/\s+/).length <= TITLE_LINE_MAX_WORDS);
    out += s.slice(out.length, i) + (soft ? " " : "\n");
    lineStart = i + 1;
  }
  return out + s.slice(out.length);
}

/** Sentence spans of text[from, to), trimmed of surrounding whitespace, empty ones dropped. */
export function sentenceSpans(text: string, from = 0, to = text.length): Span[] {
  const slice = unwrapLines(text.slice(from, to));
  const raw: Span[] = [];
  for (const s of segmenter.segment(slice)) {
    const start = s.index;
    const end = s.index + s.segment.length;
    const prev = raw[raw.length - 1];
    if (prev && ABBREVIATION.test(slice.slice(prev.start, prev.end)) && !/\n\s*$/.test(slice.slice(prev.start, prev.end))) {
      prev.end = end;
    } else {
      raw.push({ start, end });
    }
  }
  const out: Span[] = [];
  for (const r of raw) {
    let s = r.start;
    let e = r.end;
    while (s < e && /\s/.test(slice[s]!)) s++;
    // A closing emphasis marker left over from "**Note.** Text" belongs to the previous sentence.
    const orphan = /^[*_]{1,3}\s+/.exec(slice.slice(s, e));
    if (orphan) s += orphan[0].length;
    while (e > s && /\s/.test(slice[e - 1]!)) e--;
    if (e > s) out.push({ start: from + s, end: from + e });
  }
  return out;
}
