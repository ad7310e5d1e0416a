// Retrieval-augmented generation metrics by RAGAS's definitions (Es et al. 2023), with Strata's
// support judges (./citation-metrics.ts) standing in for RAGAS's LLM calls unless a judge model is given:
//
//   faithfulness          statements of the answer supported by the retrieved context / statements
//   answer relevancy      how much of the question the answer addresses: cosine similarity of the
//                         question's and the answer's term vectors (RAGAS embeds questions an LLM
//                         generates from the answer; without a model, content terms stand in)
//   context precision@k   mean over the relevant ranks k' <= k of precision@k' (RAGAS's
//                         sum(precision@k' * rel_k') / relevant-in-top-k); 0 with none relevant
//   context recall        statements of the reference answer attributable to the context / statements

import { analyze } from "../knowledge/analyzer.js";
import type { SupportJudge } from "./citation-metrics.js";

/** Share of statements the contexts support; NaN when there are no statements. */
export async function faithfulness(statements: readonly string[], contexts: readonly string[], supports: SupportJudge): Promise<number> {
  if (statements.length === 0) return Number.NaN;
  let ok = 0;
  for (const s of statements) if (await supports(s, contexts)) ok++;
  return ok / statements.length;
}

/** Share of the reference's statements the contexts support; NaN when there are none. */
export async function contextRecall(referenceStatements: readonly string[], contexts: readonly string[], supports: SupportJudge): Promise<number> {
  return faithfulness(referenceStatements, contexts, supports);
}

/** RAGAS context precision@k over the relevance of each retrieved context, in rank order. */
export function contextPrecisionAtK(relevant: readonly boolean[], k: number): number {
  const top = relevant.slice(0, k);
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < top.length; i++) {
    if (!top[i]) continue;
    hits++;
    sum += hits / (i + 1);
  }
  return hits === 0 ? 0 : sum / hits;
}

function termVector(text: string): Map<string, number> {
  const v = new Map<string, number>();
  for (const t of analyze(text)) v.set(t, (v.get(t) ?? 0) + 1);
  return v;
}

/** Cosine similarity of the two texts' analysed term-count vectors (0 when either has no terms). */
export function answerRelevancy(question: string, answer: string): number {
  const a = termVector(question);
  const b = termVector(answer);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [t, x] of a) {
    na += x * x;
    dot += x * (b.get(t) ?? 0);
  }
  for (const x of b.values()) nb += x * x;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** A short gold answer is "attributable" to a context when the context contains it (SQuAD-normalised). */
export function containsAnswer(context: string, golds: readonly string[], normalize: (s: string) => string): boolean {
  const c = ` ${normalize(context)} `;
  return golds.some((g) => {
    const n = normalize(g);
    return n.length > 0 && c.includes(` ${n} `);
  });
}
