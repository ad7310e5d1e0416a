// Question-answering metrics, defined once (SQuAD's official evaluation script, v1.1 and v2.0):
//
//   normalise  lower-case, drop ASCII punctuation (Python's string.punctuation), drop the articles
//              a/an/the as whole words, collapse whitespace
//   EM         1 when the normalised prediction equals a normalised gold answer, else 0
//   F1         token F1 between the normalised prediction and a gold answer (bag of tokens); when
//              either side has no tokens, 1 if both are empty else 0
//   max over   each figure is the best over the gold answers
//
// SQuAD 2.0's no-answer rule: an unanswerable question's only gold answer is "" — so abstaining
// scores EM = F1 = 1 there, and any answer scores 0; abstaining on an answerable question scores 0.
// Abstention precision is correct abstentions over all abstentions; abstention recall is correct
// abstentions over unanswerable questions. All functions are pure.

const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

/** SQuAD's normalize_answer. */
export function normalizeAnswer(s: string): string {
  let out = "";
  for (const ch of s.toLowerCase()) if (!PUNCTUATION.has(ch)) out += ch;
  // Python's \b(a|an|the)\b with re.UNICODE: word characters are letters, digits and "_".
  out = out.replace(/(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu, " ");
  return out.split(/\s+/).filter(Boolean).join(" ");
}

/** SQuAD's get_tokens: the normalised answer's whitespace tokens ([] for an empty string). */
export function answerTokens(s: string): string[] {
  return s ? normalizeAnswer(s).split(" ").filter(Boolean) : [];
}

/** 1 when the normalised strings are equal, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** Token F1 of two token lists (bag-of-tokens overlap). */
export function tokenF1(pred: readonly string[], gold: readonly string[]): number {
  if (pred.length === 0 || gold.length === 0) return pred.length === gold.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

/** SQuAD's compute_f1. */
export function f1Score(prediction: string, gold: string): number {
  return tokenF1(answerTokens(prediction), answerTokens(gold));
}

/** The best value of a metric over the gold answers; golds [] means "unanswerable" (gold ""). */
export function maxOverGolds(metric: (prediction: string, gold: string) => number, prediction: string, golds: readonly string[]): number {
  const list = golds.length === 0 ? [""] : golds;
  let best = 0;
  for (const g of list) best = Math.max(best, metric(prediction, g));
  return best;
}

export interface QaScore {
  em: number;
  f1: number;
}

/**
 * EM and F1 of one answer under SQuAD 2.0's rule: `abstained` stands for the empty prediction, and
 * an unanswerable question (golds []) has the single gold answer "".
 */
export function scoreAnswer(prediction: string, golds: readonly string[], abstained: boolean): QaScore {
  const p = abstained ? "" : prediction;
  return { em: maxOverGolds(exactMatch, p, golds), f1: maxOverGolds(f1Score, p, golds) };
}

export interface AbstentionCounts {
  /** Abstained on an unanswerable question. */
  correct: number;
  /** Abstained on an answerable question. */
  wrong: number;
  /** Answered an unanswerable question. */
  missed: number;
}

export interface AbstentionScore extends AbstentionCounts {
  /** correct / (correct + wrong); NaN when the system never abstained. */
  precision: number;
  /** correct / (correct + missed); NaN when no question was unanswerable. */
  recall: number;
  f1: number;
}

/** Abstention precision and recall over items with an `answerable` flag and an `abstained` outcome. */
export function abstentionScore(items: Iterable<{ answerable: boolean; abstained: boolean }>): AbstentionScore {
  const c: AbstentionCounts = { correct: 0, wrong: 0, missed: 0 };
  for (const it of items) {
    if (it.abstained && !it.answerable) c.correct++;
    else if (it.abstained) c.wrong++;
    else if (!it.answerable) c.missed++;
  }
  const precision = c.correct + c.wrong > 0 ? c.correct / (c.correct + c.wrong) : Number.NaN;
  const recall = c.correct + c.missed > 0 ? c.correct / (c.correct + c.missed) : Number.NaN;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : Number.isNaN(precision) || Number.isNaN(recall) ? Number.NaN : 0;
  return { ...c, precision, recall, f1 };
}
