// Context assembly: which retrieved chunks go into the prompt. Overlapping chunks of one document
// (consecutive chunks share sentences) are merged into one source, exact duplicates are dropped,
// and sources are added best-ranked first while they fit the token budget. Everything left out is
// reported with the reason, for the trace.
import { throwIfAborted } from "../../core/errors.js";
import type { SearchHit } from "../types.js";

/** A retrieved span of one document as it goes into the prompt. */
export interface ContextSource {
  /** The number the model cites; 1-based, in rank order. */
  n: number;
  docId: string;
  source: string;
  title: string;
  headingPath: string[];
  page: number | null;
  /** The chunks merged into this source, in document order. */
  chunks: { chunkId: string; start: number; end: number; page: number | null }[];
  /** Span in the document's text: text === document.text.slice(start, end). */
  start: number;
  end: number;
  text: string;
  /** Best rank and score among its chunks. */
  rank: number;
  score: number;
  /** Tokens of the rendered source block. */
  tokens: number;
}

export type LeftOutReason = "merged" | "duplicate" | "budget";

export interface LeftOut {
  chunkId: string;
  source: string;
  rank: number;
  reason: LeftOutReason;
  /** For "merged"/"duplicate": the chunk it went into or repeats. For "budget": tokens it needed. */
  into?: string;
  tokens?: number;
}

type Candidate = Omit<ContextSource, "n" | "tokens">;

function fromHit(h: SearchHit): Candidate {
  return {
    docId: h.docId,
    source: h.source,
    title: h.title,
    headingPath: h.headingPath,
    page: h.page,
    chunks: [{ chunkId: h.chunkId, start: h.start, end: h.end, page: h.page }],
    start: h.start,
    end: h.end,
    text: h.text,
    rank: h.rank,
    score: h.score,
  };
}

/** Joins two overlapping spans of one document; both texts are exact slices of it. */
function union(a: Candidate, b: Candidate): Candidate {
  const first = a.start <= b.start ? a : b;
  const second = first === a ? b : a;
  const text = second.end > first.end ? first.text + second.text.slice(first.end - second.start) : first.text;
  const best = a.rank <= b.rank ? a : b;
  return {
    ...best,
    page: first.page,
    chunks: [...a.chunks, ...b.chunks].sort((x, y) => x.start - y.start),
    start: first.start,
    end: Math.max(first.end, second.end),
    text,
    score: Math.max(a.score, b.score),
  };
}

const normalized = (s: string): string => s.replace(/\s+/g, " ").trim().toLowerCase();

/** Merges overlapping chunks of the same document and drops repeated texts; keeps rank order. */
export function mergeHits(hits: SearchHit[]): { candidates: Candidate[]; leftOut: LeftOut[] } {
  const leftOut: LeftOut[] = [];
  const candidates: Candidate[] = [];
  for (const h of [...hits].sort((a, b) => a.rank - b.rank)) {
    let c = fromHit(h);
    let mergedInto: string | undefined;
    // A merged span can reach a chunk it did not touch before, so merge until none overlaps.
    for (let i = 0; i < candidates.length; ) {
      const o = candidates[i]!;
      if (o.docId === c.docId && c.start < o.end && o.start < c.end) {
        mergedInto ??= o.chunks[0]!.chunkId;
        c = union(o, c);
        candidates.splice(i, 1);
        i = 0;
      } else i++;
    }
    // Hits come best first, so a hit that overlaps a kept span is the lesser one: it joins that span.
    if (mergedInto) leftOut.push({ chunkId: h.chunkId, source: h.source, rank: h.rank, reason: "merged", into: mergedInto });
    const dup = candidates.find((o) => normalized(o.text) === normalized(c.text));
    if (dup) {
      leftOut.push({ chunkId: h.chunkId, source: h.source, rank: h.rank, reason: "duplicate", into: dup.chunks[0]!.chunkId });
      continue;
    }
    candidates.push(c);
  }
  candidates.sort((a, b) => a.rank - b.rank);
  return { candidates, leftOut };
}

export interface AssembleOptions {
  /** Tokens the sources may use in all. */
  budget: number;
  countTokens(text: string): Promise<number>;
  /** The source as it will appear in the prompt (fences included), to count what it really costs. */
  render(source: Omit<ContextSource, "tokens">): string;
  signal?: AbortSignal;
}

export interface AssembledContext {
  sources: ContextSource[];
  leftOut: LeftOut[];
  tokens: number;
}

/**
 * Fills the budget best-ranked first. A source that does not fit is left out and smaller,
 * lower-ranked ones may still fill the rest; numbering follows the sources that made it in.
 */
export async function assembleContext(hits: SearchHit[], opts: AssembleOptions): Promise<AssembledContext> {
  const { candidates, leftOut } = mergeHits(hits);
  const sources: ContextSource[] = [];
  let used = 0;
  for (const c of candidates) {
    throwIfAborted(opts.signal);
    const draft = { ...c, n: sources.length + 1 };
    const tokens = await opts.countTokens(opts.render(draft));
    if (used + tokens > opts.budget) {
      for (const ch of c.chunks) leftOut.push({ chunkId: ch.chunkId, source: c.source, rank: c.rank, reason: "budget", tokens });
      continue;
    }
    used += tokens;
    sources.push({ ...draft, tokens });
  }
  return { sources, leftOut, tokens: used };
}
