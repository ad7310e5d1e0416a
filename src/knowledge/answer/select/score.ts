// How the evidence of a candidate sentence adds up, in two steps with few parameters each:
// - its rank score (which sentence of the retrieved chunks answers best), a weighted sum of its
//   features, weights chosen to put a gold sentence first on the public SQuAD 2.0 half;
// - its support, the estimated probability that it holds the answer: a logistic model of the same
//   features, fitted on the best sentences of answerable, unanswerable and off-topic questions.
// Both come from bench/answer-tune.ts (article-wise cross-validation there; figures and the
// precision/recall curve in BENCHMARKS.md; the reasoning in docs/decisions/0011).
import type { Features } from "./candidates.js";

export type Weights = Record<keyof Features, number>;

export const RANK_WEIGHTS: Weights = {
  coverage: 1,
  localCoverage: 0.5,
  contextCoverage: 0,
  chunkCoverage: 0.1,
  evidence: 0.5,
  rareCoverage: 0,
  proximity: 0.2,
  bigrams: 0.3,
  typeMatch: 0.2,
  novelty: 0.3,
  retrieval: 0.1,
  reciprocalRank: 0,
  negationMismatch: 0,
  margin: 0,
};

/** Logistic model of support: P(answer) = 1 / (1 + exp(-(bias + Σ weight·feature))). */
export interface SupportModel {
  bias: number;
  weights: Weights;
}

export const SUPPORT_MODEL: SupportModel = {
  bias: -6.79,
  weights: {
    coverage: 2.1,
    localCoverage: -0.16,
    contextCoverage: -0.36,
    chunkCoverage: 0.56,
    evidence: 4.23,
    rareCoverage: 0.25,
    proximity: 0,
    bigrams: 0.33,
    typeMatch: 1.17,
    novelty: 0,
    retrieval: 0,
    reciprocalRank: 1.34,
    negationMismatch: -2.32,
    margin: 0.56,
  },
};

export function scoreOf(f: Features, w: Weights = RANK_WEIGHTS): number {
  let s = 0;
  for (const k of Object.keys(w) as (keyof Features)[]) s += w[k] * (f[k] ?? 0);
  return s;
}

export function supportOf(f: Features, m: SupportModel = SUPPORT_MODEL): number {
  return 1 / (1 + Math.exp(-(m.bias + scoreOf(f, m.weights))));
}
