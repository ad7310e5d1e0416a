import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { citationScore, evidenceF1, type SupportJudge } from "../../src/eval/citation-metrics.js";
import { pairedBootstrap } from "../../src/eval/bootstrap.js";
import { abstentionScore, exactMatch, f1Score, maxOverGolds, normalizeAnswer, scoreAnswer } from "../../src/eval/qa-metrics.js";
import { answerRelevancy, contextPrecisionAtK, faithfulness } from "../../src/eval/rag-metrics.js";

const close = (actual: number, expected: number, tol = 1e-12): void => assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

describe("SQuAD normalisation, EM and F1", () => {
  it("normalises like the official script: lower case, ASCII punctuation, articles as whole words, whitespace", () => {
    assert.equal(normalizeAnswer("  The  Eiffel-Tower, in PARIS!  "), "eiffeltower in paris");
    assert.equal(normalizeAnswer("An apple a day"), "apple day");
    // "theory" and "another" keep their letters: articles are removed only as whole words.
    assert.equal(normalizeAnswer("another theory"), "another theory");
    // Non-ASCII punctuation is not in string.punctuation, so it stays.
    assert.equal(normalizeAnswer("«Normandy»"), "«normandy»");
  });

  it("EM compares normalised strings", () => {
    assert.equal(exactMatch("the Normans", "Normans"), 1);
    assert.equal(exactMatch("Normans.", "The Normans"), 1);
    assert.equal(exactMatch("Norman", "Normans"), 0);
  });

  it("F1 is the bag-of-tokens overlap: 2PR/(P+R)", () => {
    // pred "in october 1973" (3 tokens), gold "october 1973" (2): common 2, P = 2/3, R = 1, F1 = 0.8
    close(f1Score("in October 1973", "October 1973"), 0.8);
    // repeated tokens count with multiplicity: pred "a b b" -> tokens b b (a is an article) vs gold "b c": common 1, P = 1/2, R = 1/2
    close(f1Score("a b b", "b c"), 0.5);
    assert.equal(f1Score("x", "y"), 0);
    // empty vs empty is a match (SQuAD 2.0 no-answer), empty vs something is not
    assert.equal(f1Score("", ""), 1);
    assert.equal(f1Score("", "x"), 0);
    assert.equal(f1Score("the", "x"), 0);
  });

  it("takes the best over gold answers", () => {
    close(maxOverGolds(f1Score, "October 1973", ["1973", "October 1973", "autumn"]), 1);
    // "1973" against "October 1973": P = 1, R = 1/2, F1 = 2/3
    close(maxOverGolds(f1Score, "1973", ["October 1973", "autumn"]), 2 / 3);
  });

  it("applies SQuAD 2.0's no-answer rule", () => {
    assert.deepEqual(scoreAnswer("anything", [], true), { em: 1, f1: 1 });
    assert.deepEqual(scoreAnswer("anything", [], false), { em: 0, f1: 0 });
    assert.deepEqual(scoreAnswer("Normans", ["Normans"], true), { em: 0, f1: 0 });
  });

  it("abstention precision and recall", () => {
    // 2 correct abstentions, 1 wrong abstention, 1 missed unanswerable, 1 answered answerable
    const s = abstentionScore([
      { answerable: false, abstained: true },
      { answerable: false, abstained: true },
      { answerable: true, abstained: true },
      { answerable: false, abstained: false },
      { answerable: true, abstained: false },
    ]);
    assert.deepEqual([s.correct, s.wrong, s.missed], [2, 1, 1]);
    close(s.precision, 2 / 3);
    close(s.recall, 2 / 3);
    close(s.f1, 2 / 3);
    assert.ok(Number.isNaN(abstentionScore([{ answerable: true, abstained: false }]).precision));
  });
});

describe("ALCE citation recall and precision", () => {
  // A judge by containment: the passages support a statement when their words cover its words.
  const covers: SupportJudge = (statement, passages) => {
    const have = new Set(passages.join(" ").toLowerCase().split(/\W+/));
    return statement.toLowerCase().split(/\W+/).filter(Boolean).every((w) => have.has(w));
  };
  const passages = new Map([
    [1, "paris is big"],
    [2, "paris is old"],
    [3, "rome is old"],
  ]);

  it("counts a statement when the union of its citations supports it, and a citation when it is needed", async () => {
    const s = await citationScore(
      [
        { text: "paris is big", citations: [1, 3] }, // supported; [1] alone supports; [3] alone does not and without it [1] still does: [3] is not needed
        { text: "paris is big old", citations: [1, 2] }, // supported only jointly: both needed
        { text: "rome is big", citations: [3] }, // unsupported: its citation counts 0
        { text: "paris", citations: [] }, // uncited: unsupported
      ],
      passages,
      covers,
    );
    assert.equal(s.statements, 4);
    assert.equal(s.citations, 5);
    assert.equal(s.supported, 2);
    assert.equal(s.needed, 3);
    close(s.recall, 2 / 4);
    close(s.precision, 3 / 5);
    assert.deepEqual(s.perStatement, [true, true, false, false]);
  });

  it("treats a citation of an unknown passage as unsupported, and no statements as NaN", async () => {
    const s = await citationScore([{ text: "paris is big", citations: [9] }], passages, covers);
    assert.equal(s.recall, 0);
    assert.equal(s.precision, 0);
    assert.ok(Number.isNaN((await citationScore([], passages, covers)).recall));
  });

  it("evidence F1 is the best token F1 against the marked sentences", () => {
    // cited "Melbourne is the sporting capital" vs "Melbourne is called the sporting capital": tokens 4 vs 5, common 4 -> P 1, R .8, F1 = 8/9
    close(evidenceF1("Melbourne is the sporting capital", ["Sydney is big", "Melbourne is called the sporting capital"]), 8 / 9);
    assert.ok(Number.isNaN(evidenceF1("x", [])));
  });
});

describe("RAGAS metrics", () => {
  it("context precision@k averages precision at each relevant rank", () => {
    // relevant at ranks 1 and 3: (1/1 + 2/3) / 2 = 5/6
    close(contextPrecisionAtK([true, false, true, false], 4), 5 / 6);
    // the cut-off hides rank 3: only rank 1 counts -> 1
    close(contextPrecisionAtK([true, false, true], 2), 1);
    assert.equal(contextPrecisionAtK([false, false], 2), 0);
  });

  it("faithfulness is the share of supported statements", async () => {
    const judge: SupportJudge = (s) => s.startsWith("ok");
    close(await faithfulness(["ok 1", "no", "ok 2"], ["ctx"], judge), 2 / 3);
    assert.ok(Number.isNaN(await faithfulness([], ["ctx"], judge)));
  });

  it("answer relevancy is the cosine of term-count vectors", () => {
    close(answerRelevancy("paris tower", "paris tower"), 1);
    assert.equal(answerRelevancy("paris", "rome"), 0);
    // {pari:1, tower:1} vs {pari:1}: 1 / sqrt(2)
    close(answerRelevancy("paris tower", "paris"), 1 / Math.SQRT2, 1e-12);
  });
});

describe("paired bootstrap", () => {
  it("gives the exact delta and a degenerate interval when every difference is the same", () => {
    const r = pairedBootstrap([0, 0.5, 1], [0.25, 0.75, 1.25], { resamples: 200 });
    close(r.delta, 0.25);
    close(r.low, 0.25);
    close(r.high, 0.25);
    assert.equal(r.pNotBetter, 0);
  });

  it("brackets the delta, is seeded, and drops pairs with a missing value", () => {
    const a = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0];
    const b = [1, 1, 1, 0, 1, 1, 0, 0, 1, 1];
    const r = pairedBootstrap(a, b, { seed: 7 });
    close(r.delta, 0.2);
    assert.ok(r.low < 0.2 && r.high > 0.2 && r.low >= -1 && r.high <= 1);
    assert.deepEqual(pairedBootstrap(a, b, { seed: 7 }), r);
    assert.equal(pairedBootstrap([1, Number.NaN], [0, 1]).n, 1);
  });
});
