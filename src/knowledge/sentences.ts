// Sentence spans for chunking and extractive answers. ICU's sentence rules (Intl.Segmenter) do the
// work; we only re-join splits after common abbreviations and initials, which ICU breaks on.

export interface Span {
  start: number;
  end: number;
}

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });
const ABBREVIATION = /(?:^|[\s(])(?:dr|mr|mrs|ms|prof|st|sr|jr|fig|figs|no|vs|cf|approx|inc|ltd|co|corp|dept|eq|eqs|ref|refs|vol|ch|sec|e\.g|i\.e|et al|[A-Z])\.\s*$/i;

/** Sentence spans of text[from, to), trimmed of surrounding whitespace, empty ones dropped. */
export function sentenceSpans(text: string, from = 0, to = text.length): Span[] {
  const slice = text.slice(from, to);
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
    while (e > s && /\s/.test(slice[e - 1]!)) e--;
    if (e > s) out.push({ start: from + s, end: from + e });
  }
  return out;
}
