// Paired bootstrap confidence interval for the difference of two systems' means over the same items
// (Efron & Tibshirani; the test Koehn 2004 made common in NLP): resample the items with replacement,
// take the mean of the per-item differences B − A in each resample, and read the 2.5th and 97.5th
// percentiles. Seeded, so the same runs give the same interval.

import { uniformSource } from "../core/random.js";
import { mean, percentile } from "./metrics.js";

export interface PairedInterval {
  /** Items scored by both systems. */
  n: number;
  meanA: number;
  meanB: number;
  /** meanB − meanA. */
  delta: number;
  /** 95% interval of the delta (percentile bootstrap). */
  low: number;
  high: number;
  /** Share of resamples where B is not better than A (a one-sided bootstrap p-value for "B > A"). */
  pNotBetter: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** The paired bootstrap interval of mean(b) − mean(a); a and b are per-item values in the same order. NaN entries drop the pair. */
export function pairedBootstrap(a: readonly number[], b: readonly number[], opts: BootstrapOptions = {}): PairedInterval {
  const diffs: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    as.push(x);
    bs.push(y);
    diffs.push(y - x);
  }
  const n = diffs.length;
  if (n === 0) return { n, meanA: Number.NaN, meanB: Number.NaN, delta: Number.NaN, low: Number.NaN, high: Number.NaN, pNotBetter: Number.NaN };
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const rand = uniformSource(opts.seed ?? 12345);
  const means: number[] = new Array<number>(resamples);
  let notBetter = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += diffs[Math.floor(rand() * n)] as number;
    const m = s / n;
    means[r] = m;
    if (m <= 0) notBetter++;
  }
  const tail = ((1 - level) / 2) * 100;
  return { n, meanA: mean(as), meanB: mean(bs), delta: mean(diffs), low: percentile(means, tail), high: percentile(means, 100 - tail), pNotBetter: notBetter / resamples };
}
