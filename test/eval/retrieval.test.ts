import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import type { ProgressEvent } from "../../src/core/events.js";
import { runRetrievalEval, type BeirDataset } from "../../src/eval/index.js";

// A tiny dataset: q1 has graded judgements, q2 one relevant doc, q3 one that the fake search never finds.
// "qx" is in queries but has no qrels (a hand-built dataset may contain such): the runner skips it.
function tiny(): BeirDataset {
  return {
    name: "tiny",
    split: "test",
    corpus: ["a", "b", "c", "d", "x", "y"].map((id) => ({ id, title: "", text: `doc ${id}` })),
    queries: new Map([
      ["q1", "alpha"],
      ["qx", "unjudged"],
      ["q2", "beta"],
      ["q3", "gamma"],
    ]),
    qrels: new Map([
      ["q1", new Map([["a", 2], ["b", 1]])],
      ["q2", new Map([["c", 1], ["x", 0]])],
      ["q3", new Map([["d", 1]])],
    ]),
  };
}

// Deterministic fake search (the runner is under test, not the search): a fixed ranking per query text.
const RANKINGS: Record<string, string[]> = {
  alpha: ["b", "a", "x"],
  beta: ["x", "y", "x", "c"], // the repeated x is counted once: c is at rank 3
  gamma: ["x", "y"],
};

describe("runRetrievalEval", () => {
  it("scores each judged query and averages (hand-computed values)", async () => {
    const asked: string[] = [];
    const res = await runRetrievalEval(tiny(), (text) => {
      asked.push(text);
      // Mix sync and async returns: both are accepted.
      return text === "beta" ? Promise.resolve(RANKINGS[text] as string[]) : (RANKINGS[text] as string[]);
    });
    assert.deepEqual(asked, ["alpha", "beta", "gamma"], "judged queries only, in dataset order");
    assert.equal(res.dataset, "tiny");
    assert.equal(res.split, "test");
    assert.equal(res.queries, 3);

    // q1: ranking b(1), a(2), x. DCG = 1/log2(2) + 2/log2(3) = 2.2618595072; IDCG = 2 + 1/log2(3) = 2.6309297536
    //     nDCG@10 = 0.8597186998521972 -> 0.8597; recall@100 = 2/2 = 1; RR@10 = 1 (b is relevant); first rank 1
    // q2: ranking x, y, c (deduplicated). DCG = 1/log2(4) = 0.5; IDCG = 1 -> nDCG 0.5; recall 1; RR 1/3; first rank 3
    // q3: nothing relevant returned -> 0, 0, 0; first rank null
    const [p1, p2, p3] = res.perQuery;
    assert.deepEqual(
      res.perQuery.map((p) => [p.id, p.query, p.ndcg_at_10, p.recall_at_100, p.mrr_at_10, p.firstRelevantRank]),
      [
        ["q1", "alpha", 0.8597, 1, 1, 1],
        ["q2", "beta", 0.5, 1, 0.3333, 3],
        ["q3", "gamma", 0, 0, 0, null],
      ],
    );
    assert.deepEqual(p1?.relevant, ["a", "b"], "highest grade first");
    assert.deepEqual(p2?.relevant, ["c"], "grade-0 judgements are not relevant");
    assert.deepEqual(p2?.top, ["x", "y", "c"], "top is de-duplicated");
    assert.deepEqual(p3?.top, ["x", "y"]);

    // Means from unrounded values: nDCG (0.8597186999 + 0.5 + 0) / 3 = 0.453239566617399 -> 0.4532
    //   recall (1 + 1 + 0) / 3 = 0.6667; MRR (1 + 1/3 + 0) / 3 = 0.4444
    assert.equal(res.ndcg_at_10, 0.4532);
    assert.equal(res.recall_at_100, 0.6667);
    assert.equal(res.mrr_at_10, 0.4444);

    for (const p of res.perQuery) {
      assert.ok(p.ms >= 0 && Number.isFinite(p.ms));
      assert.equal(p.ms, Math.round(p.ms * 100) / 100, "ms rounded to 2 decimals");
    }
    assert.ok(res.ms_per_query >= 0 && res.p50_ms >= 0 && res.p50_ms <= res.p95_ms);
  });

  it("times each search call", async () => {
    const ds = tiny();
    const delays: Record<string, number> = { alpha: 5, beta: 30, gamma: 5 };
    const res = await runRetrievalEval(ds, async (text) => {
      await new Promise((r) => setTimeout(r, delays[text]));
      return RANKINGS[text] as string[];
    });
    const ms = res.perQuery.map((p) => p.ms);
    assert.ok((ms[1] as number) >= 25, `the slow query took ${ms[1]} ms`);
    assert.ok((ms[0] as number) >= 4 && (ms[2] as number) >= 4);
    assert.ok(res.p95_ms >= res.p50_ms && res.p95_ms <= Math.max(...ms) + 0.01);
    assert.ok(Math.abs(res.ms_per_query - (ms[0]! + ms[1]! + ms[2]!) / 3) < 0.02);
  });

  it("reports progress in order, with the total and the query id", async () => {
    const events: ProgressEvent[] = [];
    await runRetrievalEval(tiny(), (t) => RANKINGS[t] as string[], { onProgress: (e) => events.push({ ...e }) });
    assert.deepEqual(events, [
      { phase: "eval", done: 1, total: 3, item: "q1" },
      { phase: "eval", done: 2, total: 3, item: "q2" },
      { phase: "eval", done: 3, total: 3, item: "q3" },
    ]);
  });

  it("stops with ABORTED when the signal fires between queries", async () => {
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      runRetrievalEval(
        tiny(),
        (t) => {
          calls++;
          return RANKINGS[t] as string[];
        },
        { signal: ac.signal, onProgress: (e) => e.done === 1 && ac.abort() },
      ),
      (e: unknown) => e instanceof StrataError && e.code === "ABORTED",
    );
    assert.equal(calls, 1, "no query is searched after the abort");

    const pre = new AbortController();
    pre.abort();
    await assert.rejects(
      runRetrievalEval(tiny(), () => {
        throw new Error("must not be called");
      }, { signal: pre.signal }),
      (e: unknown) => e instanceof StrataError && e.code === "ABORTED",
    );
  });

  it("an abort during a search that then fails is reported as ABORTED", async () => {
    const ac = new AbortController();
    await assert.rejects(
      runRetrievalEval(
        tiny(),
        async () => {
          ac.abort();
          throw new DOMException("The operation was aborted", "AbortError");
        },
        { signal: ac.signal },
      ),
      (e: unknown) => e instanceof StrataError && e.code === "ABORTED",
    );
  });

  it("a failing or misbehaving search is a StrataError naming the query", async () => {
    await assert.rejects(
      runRetrievalEval(tiny(), (t) => {
        if (t === "beta") throw new Error("index offline");
        return [];
      }),
      (e: unknown) => e instanceof StrataError && e.code === "INTERNAL" && /query q2/.test(e.message) && /index offline/.test(e.message),
    );
    await assert.rejects(
      runRetrievalEval(tiny(), () => "a b c" as unknown as string[]),
      (e: unknown) => e instanceof StrataError && e.code === "USAGE" && /query q1/.test(e.message),
    );
  });

  it("a dataset without judged queries is a USAGE error", async () => {
    const ds = tiny();
    ds.qrels.clear();
    await assert.rejects(
      runRetrievalEval(ds, () => []),
      (e: unknown) => e instanceof StrataError && e.code === "USAGE",
    );
  });
});
