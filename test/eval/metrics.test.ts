import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { uniformSource } from "../../src/core/random.js";
import { firstRelevantRank, mean, mrrAtK, ndcgAtK, percentile, precisionAtK, recallAtK, topKDistinct } from "../../src/eval/index.js";

const close = (actual: number, expected: number, tol = 1e-12): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
};
const q = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));
const L2_3 = Math.log2(3); // 1.5849625007211563

describe("ndcgAtK", () => {
  // Graded: d1=3, d2=2, d3=1, d4=0 (judged non-relevant).
  const graded = q({ d1: 3, d2: 2, d3: 1, d4: 0 });

  it("uses linear gain and log2(i+1) discount, ideal from sorted grades (k smaller than the list)", () => {
    // ranked d3, x, d1, d2 at k=3 looks at d3, x, d1:
    //   DCG@3  = 1/log2(2) + 0/log2(3) + 3/log2(4) = 1 + 0 + 1.5 = 2.5
    //   IDCG@3 = 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.2618595071 + 0.5 = 4.7618595071
    //   nDCG@3 = 2.5 / 4.7618595071 = 0.5250049893849101
    close(ndcgAtK(["d3", "x", "d1", "d2"], graded, 3), 2.5 / (3 + 2 / L2_3 + 0.5));
    close(ndcgAtK(["d3", "x", "d1", "d2"], graded, 3), 0.5250049893849101);
  });

  it("k larger than the list and than the number of relevant docs", () => {
    // k=10: DCG = 1 + 0 + 1.5 + 2/log2(5) = 3.3613531161; IDCG is still over the 3 positive grades = 4.7618595071
    //   nDCG@10 = 0.7058908628246313
    close(ndcgAtK(["d3", "x", "d1", "d2"], graded, 10), 0.7058908628246313);
  });

  it("is 1 for the ideal ranking and a judged-0 doc adds nothing", () => {
    close(ndcgAtK(["d1", "d2", "d3"], graded, 10), 1);
    close(ndcgAtK(["d1", "d2", "d3", "d4"], graded, 10), 1);
    // d4 (grade 0) in first place only pushes the others down: DCG = 3/log2(3) + 2/2 + 1/log2(5)
    close(ndcgAtK(["d4", "d1", "d2", "d3"], graded, 10), (3 / L2_3 + 1 + 1 / Math.log2(5)) / (3 + 2 / L2_3 + 0.5));
  });

  it("ties in grade: swapping equally relevant docs changes nothing", () => {
    const ties = q({ a: 1, b: 1 });
    close(ndcgAtK(["a", "b"], ties, 10), 1);
    close(ndcgAtK(["b", "a"], ties, 10), 1);
    // x, a, b: DCG = 1/log2(3) + 1/log2(4) = 0.6309297536 + 0.5; IDCG = 1 + 0.6309297536
    //   nDCG = 1.1309297536 / 1.6309297536 = 0.6934264036172708
    close(ndcgAtK(["x", "a", "b"], ties, 10), 0.6934264036172708);
    close(ndcgAtK(["x", "b", "a"], ties, 10), 0.6934264036172708);
  });

  it("is 0 when the query has no relevant docs (none judged, or all judged 0)", () => {
    assert.equal(ndcgAtK(["a", "b"], q({}), 10), 0);
    assert.equal(ndcgAtK(["a", "b"], q({ a: 0, b: 0 }), 10), 0);
    assert.equal(ndcgAtK([], q({ a: 1 }), 10), 0);
  });

  it("negative grades count as 0", () => {
    // a=-1 contributes nothing; b at rank 2: DCG = 1/log2(3); IDCG = 1 -> 0.6309297535714575
    close(ndcgAtK(["a", "b"], q({ a: -1, b: 1 }), 10), 0.6309297535714575);
  });

  it("counts duplicate ids in the ranking once (the repeat does not take a slot)", () => {
    const ties = q({ a: 1, b: 1 });
    // x, x, a, b at k=2 is scored as x, a: DCG = 1/log2(3); IDCG = 1 + 1/log2(3) -> 0.38685280723454163
    close(ndcgAtK(["x", "x", "a", "b"], ties, 2), 0.38685280723454163);
    // a, a, b is a, b: ideal
    close(ndcgAtK(["a", "a", "b"], ties, 10), 1);
  });

  it("rejects k < 1 or fractional k with USAGE", () => {
    for (const k of [0, -1, 2.5, Number.NaN]) {
      assert.throws(() => ndcgAtK(["a"], q({ a: 1 }), k), (e: unknown) => e instanceof StrataError && e.code === "USAGE");
    }
  });
});

describe("recallAtK, precisionAtK, mrrAtK", () => {
  // a=2, b=1, c=1 relevant; z judged 0. Ranking z, a, q, c.
  const qr = q({ a: 2, b: 1, c: 1, z: 0 });
  const ranked = ["z", "a", "q", "c"];

  it("recall = relevant in top k / all relevant", () => {
    close(recallAtK(ranked, qr, 1), 0); // z only
    close(recallAtK(ranked, qr, 3), 1 / 3); // z, a, q -> a
    close(recallAtK(ranked, qr, 4), 2 / 3); // + c
    close(recallAtK(["a", "b", "c"], qr, 100), 1);
    assert.equal(recallAtK(ranked, q({ z: 0 }), 10), 0); // no relevant docs
    close(recallAtK(["a", "a", "a"], q({ a: 1, b: 1 }), 3), 0.5); // duplicates once
  });

  it("precision = relevant in top k / k, even when the ranking is shorter than k", () => {
    close(precisionAtK(ranked, qr, 4), 2 / 4);
    close(precisionAtK(ranked, qr, 2), 1 / 2);
    close(precisionAtK(["a"], qr, 10), 1 / 10);
    close(precisionAtK(["a", "a", "a"], qr, 3), 1 / 3); // a, a, a is just a
    assert.equal(precisionAtK(ranked, q({}), 5), 0);
  });

  it("MRR = 1 / rank of the first relevant doc within k, else 0", () => {
    assert.equal(mrrAtK(ranked, qr, 1), 0); // z is judged 0
    close(mrrAtK(ranked, qr, 2), 1 / 2);
    close(mrrAtK(ranked, qr, 10), 1 / 2);
    close(mrrAtK(["x", "x", "y", "c"], qr, 3), 1 / 3); // deduplicated: x, y, c
    assert.equal(mrrAtK(["x", "y"], qr, 10), 0);
    assert.equal(mrrAtK(ranked, q({}), 10), 0);
  });

  it("firstRelevantRank looks at the whole de-duplicated ranking", () => {
    assert.equal(firstRelevantRank(ranked, qr), 2);
    assert.equal(firstRelevantRank(["x", "x", "x", "b"], qr), 2);
    assert.equal(firstRelevantRank(["x", "y"], qr), null);
  });

  it("topKDistinct keeps first occurrences in order", () => {
    assert.deepEqual(topKDistinct(["a", "b", "a", "c", "b", "d"], 3), ["a", "b", "c"]);
    assert.deepEqual(topKDistinct(["a"], 5), ["a"]);
  });

  it("does not modify its inputs", () => {
    const r = ["b", "a", "b"];
    const m = q({ a: 1 });
    ndcgAtK(r, m, 2);
    recallAtK(r, m, 2);
    assert.deepEqual(r, ["b", "a", "b"]);
    assert.deepEqual([...m], [["a", 1]]);
  });
});

describe("mean and percentile", () => {
  it("mean", () => {
    assert.equal(mean([1, 2, 3, 4]), 2.5);
    assert.ok(Number.isNaN(mean([])));
  });

  it("percentile interpolates linearly between closest ranks (numpy's default)", () => {
    const xs = [50, 15, 40, 20, 35]; // sorted: 15 20 35 40 50
    assert.equal(percentile(xs, 0), 15);
    assert.equal(percentile(xs, 100), 50);
    assert.equal(percentile(xs, 50), 35);
    close(percentile(xs, 40), 29); // h = 4 * 0.40 = 1.6 -> 20 + 0.6 * (35 - 20)
    close(percentile(xs, 95), 48); // h = 3.8 -> 40 + 0.8 * (50 - 40)
    assert.equal(percentile([7], 95), 7);
    close(percentile([1, 2, 3, 4], 50), 2.5);
    assert.deepEqual(xs, [50, 15, 40, 20, 35], "input not sorted in place");
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile(xs, 101), (e: unknown) => e instanceof StrataError && e.code === "USAGE");
    assert.throws(() => percentile(xs, -1), (e: unknown) => e instanceof StrataError && e.code === "USAGE");
  });
});

// Cross-check against an independent implementation: pytrec_eval when Python has it, otherwise a
// few lines of plain Python (math only) written from the trec_eval definitions.
describe("cross-check with Python", () => {
  const PY = "/usr/bin/python3";

  const seeded = uniformSource;

  interface Case {
    qrels: Record<string, number>;
    ranked: string[];
    k: number;
  }

  function randomCases(count: number, seed: number): Case[] {
    const rnd = seeded(seed);
    const cases: Case[] = [];
    for (let c = 0; c < count; c++) {
      const pool = Array.from({ length: 30 }, (_, i) => `d${i}`);
      const qrels: Record<string, number> = {};
      const judged = 1 + Math.floor(rnd() * 8);
      for (let j = 0; j < judged; j++) qrels[pool[Math.floor(rnd() * pool.length)] as string] = Math.floor(rnd() * 4); // grades 0..3
      // A random permutation prefix: no duplicates, so both sides agree on the input without our dedup rule.
      for (let i = pool.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
      }
      const ranked = pool.slice(0, Math.floor(rnd() * 31));
      const k = [1, 3, 5, 10, 20, 100][Math.floor(rnd() * 6)] as number;
      cases.push({ qrels, ranked, k });
    }
    return cases;
  }

  const PLAIN = `
import json, math, sys
out = []
for c in json.load(sys.stdin):
    qrels, ranked, k = c["qrels"], c["ranked"][: c["k"]], c["k"]
    rel = lambda d: max(qrels.get(d, 0), 0)
    dcg = sum(rel(d) / math.log2(i + 2) for i, d in enumerate(ranked))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    nrel = sum(1 for g in qrels.values() if g > 0)
    hits = sum(1 for d in ranked if rel(d) > 0)
    rr = next((1.0 / (i + 1) for i, d in enumerate(ranked) if rel(d) > 0), 0.0)
    out.append({"ndcg": dcg / idcg if idcg > 0 else 0.0, "recall": hits / nrel if nrel else 0.0, "p": hits / k, "rr": rr})
print(json.dumps(out))
`;

  // pytrec_eval scores a run of scores; rank = position, scores strictly decreasing so no tie-breaking applies.
  const PYTREC = `
import json, sys, pytrec_eval
out = []
for c in json.load(sys.stdin):
    k = c["k"]
    if not any(g > 0 for g in c["qrels"].values()) or not c["ranked"]:
        out.append(None); continue
    run = {"q": {d: float(len(c["ranked"]) - i) for i, d in enumerate(c["ranked"])}}
    ev = pytrec_eval.RelevanceEvaluator({"q": c["qrels"]}, {"ndcg_cut." + str(k), "recall." + str(k), "P." + str(k)})
    r = ev.evaluate(run)["q"]
    out.append({"ndcg": r["ndcg_cut_" + str(k)], "recall": r["recall_" + str(k)], "p": r["P_" + str(k)]})
print(json.dumps(out))
`;

  it("nDCG, recall, precision and MRR agree to 1e-9 on 500 random rankings", (t) => {
    if (!existsSync(PY)) {
      t.skip(`${PY} is missing; the Python cross-check needs it`);
      return;
    }
    const cases = randomCases(500, 20240611);
    let hasPytrec = false;
    try {
      execFileSync(PY, ["-c", "import pytrec_eval"], { stdio: "ignore" });
      hasPytrec = true;
    } catch {
      t.diagnostic("pytrec_eval is not installed; comparing with a plain-Python reference instead");
    }
    type Ref = { ndcg: number; recall: number; p: number; rr?: number } | null;
    const run = (script: string): Ref[] => JSON.parse(execFileSync(PY, ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" })) as Ref[];
    const refs = run(PLAIN);
    assert.equal(refs.length, cases.length);
    let nonTrivial = 0;
    cases.forEach((c, i) => {
      const ref = refs[i] as NonNullable<Ref>;
      const m = q(c.qrels);
      const msg = `case ${i}: ${JSON.stringify(c)}`;
      assert.ok(Math.abs(ndcgAtK(c.ranked, m, c.k) - ref.ndcg) < 1e-9, `ndcg ${msg}`);
      assert.ok(Math.abs(recallAtK(c.ranked, m, c.k) - ref.recall) < 1e-9, `recall ${msg}`);
      assert.ok(Math.abs(precisionAtK(c.ranked, m, c.k) - ref.p) < 1e-9, `precision ${msg}`);
      assert.ok(Math.abs(mrrAtK(c.ranked, m, c.k) - (ref.rr as number)) < 1e-9, `mrr ${msg}`);
      if (ref.ndcg > 0 && ref.ndcg < 1) nonTrivial++;
    });
    assert.ok(nonTrivial > 100, `only ${nonTrivial} cases with 0 < nDCG < 1; the random cases are too easy`);
    if (hasPytrec) {
      const official = run(PYTREC);
      cases.forEach((c, i) => {
        const ref = official[i];
        if (!ref) return;
        const m = q(c.qrels);
        assert.ok(Math.abs(ndcgAtK(c.ranked, m, c.k) - ref.ndcg) < 1e-9, `pytrec ndcg case ${i}`);
        assert.ok(Math.abs(recallAtK(c.ranked, m, c.k) - ref.recall) < 1e-9, `pytrec recall case ${i}`);
        assert.ok(Math.abs(precisionAtK(c.ranked, m, c.k) - ref.p) < 1e-9, `pytrec P case ${i}`);
      });
    }
  });
});
