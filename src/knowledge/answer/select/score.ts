// How the evidence of a candidate sentence adds up to one score, and how that score maps to a
// calibrated support: the estimated probability that the sentence holds the answer. The weights and
// the two calibration parameters were fitted on the public SQuAD 2.0 half plus our own off-topic
// questions and checked by article-wise cross-validation (bench/answer-quality.ts --tune; figures
// and the precision/recall curve in BENCHMARKS.md, the reasoning in docs/decisions/0011).
import type { Features } from "./candidates.js";

export type Weights = Record<keyof Features, number>;

export const DEFAULT_WEIGHTS: Weights = {
  coverage: 1,
  contextCoverage: 0.8,
  evidence: 1.2,
  rareCoverage: 0,
  proximity: 0.1,
  bigrams: 0.2,
  typeMatch: 0.2,
  novelty: 0.3,
  retrieval: 0.1,
};

/** Logistic calibration of the best sentence's score: support = 1 / (1 + exp(-(a·score + b))). */
export interface Calibration {
  a: number;
  b: number;
}

export const DEFAULT_CALIBRATION: Calibration = { a: 2.69, b: -7.37 };

export function scoreOf(f: Features, w: Weights = DEFAULT_WEIGHTS): number {
  let s = 0;
  for (const k of Object.keys(w) as (keyof Features)[]) s += w[k] * (f[k] ?? 0);
  return s;
}

export function supportOf(score: number, c: Calibration = DEFAULT_CALIBRATION): number {
  return 1 / (1 + Math.exp(-(c.a * score + c.b)));
}
