// A chunk's analysed fields: the term frequencies of its body and of its title field (document
// title plus heading path), and their lengths. Computed once per chunk; the title field, the same
// for every chunk under one heading, is analysed once per distinct heading path.
import { termFrequencies } from "../analyzer.js";

export interface ChunkTerms {
  body: Map<string, number>;
  title: Map<string, number>;
  lenBody: number;
  lenTitle: number;
}

const total = (m: Map<string, number>): number => {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
};

/** Title field of a chunk: its document's title and the headings above it. */
export function titleFieldOf(docTitle: string, headingPath: string[]): string {
  return [docTitle, ...headingPath].join(" \n ");
}

/** Analyses chunks of one document, reusing the title field's analysis across chunks. */
export class ChunkAnalyzer {
  private readonly titles = new Map<string, Map<string, number>>();

  analyze(text: string, titleField: string): ChunkTerms {
    let title = this.titles.get(titleField);
    if (!title) {
      title = termFrequencies(titleField);
      if (this.titles.size > 1000) this.titles.clear();
      this.titles.set(titleField, title);
    }
    const body = termFrequencies(text);
    return { body, title, lenBody: total(body), lenTitle: total(title) };
  }
}

/** Distinct terms of a chunk over both fields. */
export function termsOf(t: ChunkTerms): Set<string> {
  const s = new Set(t.body.keys());
  for (const k of t.title.keys()) s.add(k);
  return s;
}
