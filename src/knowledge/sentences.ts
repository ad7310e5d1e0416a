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

// Footnote and citation marks ("[12]", "[a]", "[citation needed]", "^", superscript digits) are
// blanked before segmenting: ICU would otherwise cut "founded in 1975.[12] It" after ".[" and leave
// "12] It" as the next sentence. Offsets do not move; the mark stays at the end of its sentence.
const FOOTNOTE = /\[(?:\d{1,4}(?:\s*[-–,]\s*\d{1,4})*|[a-z]{1,2}|[ivx]{1,5}|(?:note|nb|n) ?\d{1,3}|[a-z ]{0,20}needed|citation|sic)\]|\^|[\u00B9\u00B2\u00B3\u2070-\u2079]+/giu;

function blankFootnotes(s: string): string {
  return s.replace(FOOTNOTE, (m) => " ".repeat(m.length));
}

/** Sentence spans of text[from, to), trimmed of surrounding whitespace, empty ones dropped. */
export function sentenceSpans(text: string, from = 0, to = text.length): Span[] {
  const original = unwrapLines(text.slice(from, to));
  const slice = blankFootnotes(original);
  const raw: Span[] = [];
  for (const s of segmenter.segment(slice)) {
    const start = s.index;
    const end = s.index + s.segment.length;
    const prev = raw[raw.length - 1];
    if (prev && ABBREVIATION.test(slice.slice(prev.start, prev.end).trimEnd() + " ") && !/\n\s*$/.test(slice.slice(prev.start, prev.end))) {
      prev.end = end;
    } else {
      raw.push({ start, end });
    }
  }
  const out: Span[] = [];
  for (const r of raw) {
    let s = r.start;
    let e = r.end;
    while (s < e && /\s/.test(original[s]!)) s++;
    // A closing emphasis marker left over from "**Note.** Text" belongs to the previous sentence.
    const orphan = /^[*_]{1,3}\s+/.exec(original.slice(s, e));
    if (orphan) s += orphan[0].length;
    while (e > s && /\s/.test(original[e - 1]!)) e--;
    if (e > s) out.push({ start: from + s, end: from + e });
  }
  return out;
}

export interface ClaimSpan extends Span {
  /** False for what states nothing: a heading, a title line, a bare question, a code block, a table rule. */
  claim: boolean;
}

const HEADING = /^#{1,6}\s/;
const CODE = /^(?:```|~~~)|^ {4}\S/;
const TABLE_RULE = /^\|?[\s:|-]+\|?$/;
const LIST_MARK = /^(?:[-*+•>]\s+|\d+[.)]\s+)/;
const TERMINAL = /[.!;:)"'”’\]]$/;

/** Whether a sentence says something, rather than naming a section or asking. */
export function isClaim(sentence: string, wholeLine = false): boolean {
  const s = sentence.trim();
  if (HEADING.test(s) || CODE.test(s) || TABLE_RULE.test(s)) return false;
  // A reference-list entry ("Brendan Eich Steps Down". mozilla blog.) quotes a title; it states nothing.
  if (/^[\^\s]*["“][^"”]{3,200}[.,]?["”][.,]/.test(s)) return false;
  // A question is not an answer, however well it matches the question asked.
  if (/\?\s*(?:\[[^\]]*\])?$/.test(s)) return false;
  const body = s.replace(LIST_MARK, "");
  const words = body.split(/\s+/).filter(Boolean);
  if (TERMINAL.test(body) && words.length >= 3) return true;
  // A line with no closing punctuation is a title when most of its words are capitalised.
  const capitalised = words.filter((w) => /^\p{Lu}/u.test(w)).length;
  if (wholeLine && capitalised >= words.length * 0.6) return false;
  return words.length >= 4;
}

/** Sentence spans of text, each marked whether it can be quoted as a claim. */
export function claimSpans(text: string): ClaimSpan[] {
  return sentenceSpans(text).map((s) => {
    const before = text.lastIndexOf("\n", s.start - 1);
    const after = text.indexOf("\n", s.end);
    const wholeLine = text.slice(before + 1, s.start).trim() === "" && text.slice(s.end, after < 0 ? text.length : after).trim() === "";
    return { ...s, claim: isClaim(text.slice(s.start, s.end), wholeLine) };
  });
}
