// Citation quality by ALCE's definitions (Gao et al. 2023, "Enabling Large Language Models to
// Generate Text with Citations"), ExpMRC's evidence overlap, and the support judges they rest on.
//
//   citation recall     a statement counts when the union of its citations supports it; a
//                       statement without citations counts 0. recall = counted / statements.
//   citation precision  a citation counts when its statement is supported by the union and the
//                       citation is needed: it supports the statement alone, or the statement is no
//                       longer supported without it. A lone citation counts exactly when it supports
//                       its statement. precision = counted / citations (0 when there are none).
//   evidence F1         ExpMRC: SQuAD token F1 between the cited text and a human-marked evidence
//                       sentence, the best over the marked sentences.
//
// "Supports" is a judge: Strata's citation verifier (term coverage plus matching numbers and names,
// src/knowledge/answer/verify.ts) or a judge model (./judge.ts), so the metric is defined once and
// the judge is chosen by the run.

import { analyze } from "../knowledge/analyzer.js";
import { verifyClaim, type VerifySource } from "../knowledge/answer/verify.js";
import { f1Score, maxOverGolds } from "./qa-metrics.js";

/** Whether the passages (together) support the statement. */
export type SupportJudge = (statement: string, passages: readonly string[]) => Promise<boolean> | boolean;

export interface CitedStatement {
  text: string;
  /** Indices into the answer's passages (any numbering; unknown ones count as unsupported). */
  citations: readonly number[];
}

export interface CitationScore {
  statements: number;
  citations: number;
  /** Statements whose citations together support them. */
  supported: number;
  /** Citations that are needed (ALCE precision numerator). */
  needed: number;
  /** supported / statements; NaN when there are no statements. */
  recall: number;
  /** needed / citations; 0 when there are no citations, NaN when no statements. */
  precision: number;
  /** Per statement: supported by its citations. */
  perStatement: boolean[];
}

/** ALCE citation recall and precision of one answer. */
export async function citationScore(statements: readonly CitedStatement[], passages: ReadonlyMap<number, string>, supports: SupportJudge): Promise<CitationScore> {
  let supported = 0;
  let needed = 0;
  let citations = 0;
  const perStatement: boolean[] = [];
  const textsOf = (ns: readonly number[]): string[] => ns.map((n) => passages.get(n)).filter((t): t is string => t !== undefined);
  for (const s of statements) {
    const refs = [...new Set(s.citations)];
    citations += refs.length;
    const known = refs.every((n) => passages.has(n));
    const joint = refs.length > 0 && known && (await supports(s.text, textsOf(refs)));
    perStatement.push(joint);
    if (!joint) continue;
    supported++;
    if (refs.length === 1) {
      needed++;
      continue;
    }
    for (const n of refs) {
      if (await supports(s.text, textsOf([n]))) needed++;
      else if (!(await supports(s.text, textsOf(refs.filter((m) => m !== n))))) needed++;
    }
  }
  const none = statements.length === 0;
  return {
    statements: statements.length,
    citations,
    supported,
    needed,
    recall: none ? Number.NaN : supported / statements.length,
    precision: none ? Number.NaN : citations > 0 ? needed / citations : 0,
    perStatement,
  };
}

/** ExpMRC evidence F1: the best SQuAD token F1 of the cited text against a marked evidence sentence; NaN without marked evidence. */
export function evidenceF1(citedText: string, evidences: readonly string[]): number {
  if (evidences.length === 0) return Number.NaN;
  return maxOverGolds(f1Score, citedText, evidences);
}

/** Inverse document frequency over a set of passages (smoothed, always > 0), for the verifier's term weights. */
export function idfTable(passages: Iterable<string>): (term: string) => number {
  const df = new Map<string, number>();
  let n = 0;
  for (const p of passages) {
    n++;
    for (const t of new Set(analyze(p))) df.set(t, (df.get(t) ?? 0) + 1);
  }
  return (t) => Math.log(1 + (n - (df.get(t) ?? 0) + 0.5) / ((df.get(t) ?? 0) + 0.5));
}

/** Strata's citation verifier as a support judge: the statement must be "supported" against the passages. */
export function verifierJudge(idfOf: (term: string) => number, minSupport?: number): SupportJudge {
  return (statement, passages) => {
    if (passages.length === 0) return false;
    const sources = new Map<number, VerifySource>(passages.map((text, i) => [i + 1, { n: i + 1, start: 0, text, title: "", headingPath: [] }]));
    const claim = { text: statement, plain: statement, citations: passages.map((_, i) => i + 1) };
    return verifyClaim(claim, sources, idfOf, minSupport === undefined ? {} : { minSupport }).verdict === "supported";
  };
}
