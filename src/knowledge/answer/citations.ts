// Citation markers in a model's answer: "[1]", "[1, 3]", "[2-4]", "[1][2]", "[Source 2]". The
// answer is split into sentences (claims), each with the source numbers it cites. Models often put
// the marker after the full stop ("… 9 pounds. [1]"), which the sentence splitter sees as the
// start of the next sentence, so leading markers are moved back to the sentence they follow.
import { sentenceSpans } from "../sentences.js";

const MARKER = /\[\s*(?:sources?\s*)?(\d{1,4}(?:\s*(?:,|;|–|-|and)\s*(?:sources?\s*)?\d{1,4})*)\s*\]/gi;
const LEADING_MARKERS = /^(?:\s*\[\s*(?:sources?\s*)?\d{1,4}(?:\s*(?:,|;|–|-|and)\s*(?:sources?\s*)?\d{1,4})*\s*\][.,;:]?)+/i;
const MAX_RANGE = 20;

export interface Claim {
  /** The sentence as the model wrote it, markers included. */
  text: string;
  /** The sentence without its markers, for checking against sources. */
  plain: string;
  /** Cited numbers, unique, in order of appearance. */
  citations: number[];
}

/** Numbers named by the markers in a text; ranges are expanded (at most 20 numbers each). */
export function citedNumbers(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(MARKER)) {
    const body = m[1]!.replace(/sources?/gi, "");
    for (const part of body.split(/\s*(?:,|;|and)\s*/i)) {
      const range = /^(\d+)\s*[–-]\s*(\d+)$/.exec(part.trim());
      if (range) {
        const a = Number(range[1]);
        const b = Number(range[2]);
        if (b >= a && b - a < MAX_RANGE) for (let n = a; n <= b; n++) out.push(n);
        else out.push(a, b);
      } else if (/^\d+$/.test(part.trim())) out.push(Number(part.trim()));
    }
  }
  return [...new Set(out)];
}

export function stripMarkers(text: string): string {
  return text
    .replace(MARKER, "")
    .replace(/\s+([.,;:!?])/g, "$1")
    .replace(/\s{2,}/g, " ")
    .trim();
}

/** Removes the markers of the given numbers (invalid ones) from a sentence, keeping the others. */
export function dropCitations(text: string, numbers: Set<number>): string {
  if (numbers.size === 0) return text;
  const kept = text.replace(MARKER, (marker) => {
    const rest = citedNumbers(marker).filter((n) => !numbers.has(n));
    return rest.length === 0 ? "" : `[${rest.join(", ")}]`;
  });
  return kept.replace(/\s+([.,;:!?])/g, "$1").replace(/\s{2,}/g, " ").trim();
}

/** The answer's sentences with the numbers each cites. */
export function splitClaims(answer: string): Claim[] {
  const texts: string[] = [];
  let listMarker = "";
  for (const span of sentenceSpans(answer)) {
    let s = answer.slice(span.start, span.end);
    const lead = LEADING_MARKERS.exec(s);
    if (lead && texts.length > 0) {
      texts[texts.length - 1] += " " + lead[0].trim();
      s = s.slice(lead[0].length).trim();
    }
    // "1." of a numbered list comes out as a sentence of its own: it belongs to the item after it.
    if (/^(?:\d{1,3}[.)]|[-*+•])$/.test(s)) {
      listMarker = s + " ";
      continue;
    }
    if (s.length > 0) texts.push(listMarker + s);
    listMarker = "";
  }
  return texts.map((text) => ({ text, plain: stripMarkers(text), citations: citedNumbers(text) }));
}
