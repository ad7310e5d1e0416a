import { useEffect, useLayoutEffect, useRef, type ReactNode } from "react";
import { renderInline } from "./InlineMarkdown.tsx";

export interface Span {
  start: number;
  end: number;
  /** "exact": text.slice(start, end) is the quote; "moved": the quote was found elsewhere (the
   * document changed since the answer); "changed": the quote is no longer in the text. */
  match: "exact" | "moved" | "changed" | "unchecked";
}

/** Where a cited span is in the text now: at its offsets, or where its quote moved to. */
export function resolveSpan(text: string, start: number | undefined, end: number | undefined, quote?: string): Span | undefined {
  if (start === undefined || end === undefined) return undefined;
  const inRange = start >= 0 && end <= text.length && start <= end;
  if (quote === undefined || quote === "") return inRange ? { start, end, match: "unchecked" } : undefined;
  if (inRange && text.slice(start, end) === quote) return { start, end, match: "exact" };
  // Nearest occurrence of the quote to where it used to be.
  let best = -1;
  for (let i = text.indexOf(quote); i >= 0; i = text.indexOf(quote, i + 1)) {
    if (best < 0 || Math.abs(i - start) < Math.abs(best - start)) best = i;
  }
  if (best >= 0) return { start: best, end: best + quote.length, match: "moved" };
  return inRange ? { start, end, match: "changed" } : undefined;
}

export interface PageSpan {
  page: number;
  start: number;
  end: number;
}

/** The page a character offset is on, for paged documents (PDF). */
export function pageAt(pages: PageSpan[] | undefined, offset: number): number | undefined {
  return pages?.find((p) => offset >= p.start && offset < p.end)?.page;
}

/**
 * A document's extracted text with one span highlighted (<mark>) and scrolled into view, and, for
 * paged documents, a marker where each page starts (drawn by CSS, so the mark's text stays exactly
 * the quote). The text is rendered as text, never as HTML: a document cannot inject markup.
 */
/**
 * A document's text with the cited span marked. `inline`: Markdown sources get their inline markup
 * rendered (code, strong, emphasis) piece by piece, so the mark still covers exactly the cited characters.
 */
export function DocumentText({ text, span, label, id, pages, inline }: { text: string; span: Span | undefined; label: string; id?: string; pages?: PageSpan[]; inline?: boolean }) {
  const markRef = useRef<HTMLElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (!span) boxRef.current?.scrollTo({ top: 0 });
  }, [text, span]);
  useEffect(() => {
    const mark = markRef.current;
    const box = boxRef.current;
    if (!mark || !box) return;
    // Centre the span inside the text box, then make sure the box itself is on screen.
    const boxRect = box.getBoundingClientRect();
    const markRect = mark.getBoundingClientRect();
    box.scrollTop += markRect.top - boxRect.top - box.clientHeight / 2 + markRect.height / 2;
    const r = mark.getBoundingClientRect();
    if (r.top < 0 || r.bottom > innerHeight) mark.scrollIntoView({ block: "center", inline: "nearest" });
  }, [text, span?.start, span?.end]);

  const pageStarts = new Map<number, number>();
  for (const p of pages ?? []) if (p.start >= 0 && p.start < text.length && !pageStarts.has(p.start)) pageStarts.set(p.start, p.page);
  const cuts = [...new Set([0, text.length, ...(span ? [span.start, span.end] : []), ...pageStarts.keys()])].sort((a, b) => a - b);
  const out: ReactNode[] = [];
  let inMark: ReactNode[] | undefined;
  let key = 0;
  const closeMark = (): void => {
    if (!inMark || !span) return;
    out.push(
      <mark key={`m${key++}`} ref={markRef} className="cited" data-start={span.start} data-end={span.end} data-match={span.match}>
        {inMark}
      </mark>,
    );
    inMark = undefined;
  };
  for (let i = 0; i < cuts.length; i++) {
    const at = cuts[i]!;
    if (span && at === span.end && inMark) closeMark();
    const page = pageStarts.get(at);
    if (page !== undefined) (inMark ?? out).push(<span key={`p${key++}`} className="page-start" data-page={page} role="separator" aria-label={`Page ${page}`} />);
    if (span && at === span.start && !inMark) {
      inMark = [];
      if (span.end === span.start) closeMark();
    }
    const next = cuts[i + 1];
    if (next !== undefined && next > at) {
      const piece = text.slice(at, next);
      (inMark ?? out).push(...(inline ? renderInline(piece, `s${key++}`) : [piece]));
    }
  }
  closeMark();
  return (
    <div className="doc-text" ref={boxRef} tabIndex={0} role="region" aria-label={label} id={id}>
      {out}
    </div>
  );
}
