import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderRetrievalReport, runRetrievalEval, type BeirDataset, type RetrievalEvalResult } from "../../src/eval/index.js";

const EVIL = `<script>alert("x")</script> & 'quotes'`;

async function smallResult(): Promise<RetrievalEvalResult> {
  const ds: BeirDataset = {
    name: "tiny<set>",
    split: "test",
    corpus: [],
    queries: new Map([
      ["q1", "alpha"],
      ["q2", EVIL],
      ["q<3>", "gamma"],
    ]),
    qrels: new Map([
      ["q1", new Map([["a", 2], ["b", 1]])],
      ["q2", new Map([["<c>", 1]])],
      ["q<3>", new Map([["d", 1]])],
    ]),
  };
  const rankings = new Map<string, string[]>([
    ["alpha", ["b", "a"]],
    [EVIL, ["x", "y", "<c>"]],
    ["gamma", ["x"]],
  ]);
  return runRetrievalEval(ds, (t) => rankings.get(t) ?? []);
}

function count(html: string, re: RegExp): number {
  return (html.match(re) ?? []).length;
}

describe("renderRetrievalReport", () => {
  it("is one self-contained HTML document with the headline numbers", async () => {
    const res = await smallResult();
    const html = renderRetrievalReport(res, { command: "strata eval beir ./scifact --report r.html", machine: "2 cores", generatedAt: "2025-01-01T00:00:00Z" });
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<meta charset="utf-8">/);
    assert.match(html, /<title>Retrieval evaluation: tiny&lt;set&gt; \(test\)<\/title>/);
    assert.ok(html.trimEnd().endsWith("</html>"));
    for (const tag of ["html", "head", "body", "main", "svg", "table", "thead", "tbody", "script", "style", "figure"]) {
      assert.equal(count(html, new RegExp(`<${tag}[\\s>]`, "g")), count(html, new RegExp(`</${tag}>`, "g")), `<${tag}> balanced`);
    }
    assert.equal(count(html, /<tr>/g), count(html, /<\/tr>/g));

    // Headline metrics as shown (4 decimals; ms 2).
    assert.equal(res.ndcg_at_10, 0.4532);
    for (const s of ["0.4532", res.recall_at_100.toFixed(4), res.mrr_at_10.toFixed(4), res.ms_per_query.toFixed(2), res.p95_ms.toFixed(2)]) {
      assert.ok(html.includes(s), `report shows ${s}`);
    }
    // The zero-nDCG share is called out: 1 of 3 queries.
    assert.ok(html.includes("33.3%"));
    assert.ok(html.includes("nDCG = 0: 1 of 3"));
    // Meta is shown (and escaped).
    assert.ok(html.includes("strata eval beir ./scifact --report r.html"));
    assert.ok(html.includes("2025-01-01T00:00:00Z"));

    // No external resources of any kind.
    assert.doesNotMatch(html, /\s(src|href)=/i);
    assert.doesNotMatch(html, /https?:\/\//i);
    assert.doesNotMatch(html, /@import|url\(|<link|<iframe|<img/i);
    // Dark mode and accessibility basics.
    assert.match(html, /prefers-color-scheme:\s*dark/);
    assert.match(html, /<svg [^>]*role="img"[^>]*aria-labelledby=/);
    assert.match(html, /<th scope="col"[^>]*aria-sort="ascending"><button type="button"/);
    assert.match(html, /<caption>/);
  });

  it("draws exactly one bar per query, tallest first", async () => {
    const res = await smallResult();
    const html = renderRetrievalReport(res);
    assert.equal(count(html, /<rect class="bar[" ]/g), 3);
    assert.equal(count(html, /<rect class="bar zero"/g), 1);
    const heights = [...html.matchAll(/<rect class="bar[^"]*" x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]+)"/g)].map((m) => Number(m[1]));
    assert.equal(heights.length, 3);
    assert.ok((heights[0] as number) > (heights[1] as number) && (heights[1] as number) > (heights[2] as number));

    // Many queries: still one bar each, and the histogram holds them all.
    const many: RetrievalEvalResult = {
      ...res,
      queries: 300,
      perQuery: Array.from({ length: 300 }, (_, i) => ({
        id: `q${i}`,
        query: `query ${i}`,
        ndcg_at_10: i % 7 === 0 ? 0 : (((i * 37) % 100) + 1) / 100, // 0.01 .. 1
        recall_at_100: 1,
        mrr_at_10: 1,
        ms: 1,
        firstRelevantRank: i % 7 === 0 ? null : 1,
        relevant: [`d${i}`],
        top: [`d${i}`],
      })),
    };
    const big = renderRetrievalReport(many);
    assert.equal(count(big, /<rect class="bar[" ]/g), 300);
    // Two column charts: 11 nDCG bands, then 7 first-relevant-rank bins; each accounts for every query.
    const counts = [...big.matchAll(/<text class="count"[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    assert.equal(counts.length, 11 + 7);
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    assert.equal(sum(counts.slice(0, 11)), 300);
    assert.equal(counts[0], 43, "queries 0, 7, ..., 294 score exactly 0");
    assert.equal(sum(counts.slice(11)), 300);
    assert.equal(counts[11], 300 - 43, "rank 1 for all others");
    assert.equal(counts[17], 43, "none for the zero queries");
    // The worst-queries table is capped; its caption says so.
    assert.equal(count(big, /<tbody>[\s\S]*<\/tbody>/g), 1);
    assert.equal(count(big.slice(big.indexOf("<tbody>")), /<tr>/g), 50);
    assert.ok(big.includes("The 50 lowest-scoring of 300 queries"));
  });

  it("escapes text from the data: a <script> in a query never becomes markup", async () => {
    const res = await smallResult();
    const html = renderRetrievalReport(res, { title: `Report <b>bold</b>`, command: `strata eval "</code><script>x()</script>"` });
    assert.ok(!html.includes(`<script>alert`), "query text is not markup");
    assert.ok(!html.includes(`<script>x()`), "meta is not markup");
    assert.equal(count(html, /<script>/g), 1, "only the report's own sort script");
    assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"));
    assert.ok(html.includes("<title>Report &lt;b&gt;bold&lt;/b&gt;</title>"));
    // Ids are escaped in table cells, attributes and SVG tooltips.
    assert.ok(!html.includes("<c>") && html.includes("&lt;c&gt;"));
    assert.ok(!html.includes("q<3>") && html.includes(`data-v="q&lt;3&gt;"`));
  });

  it("is deterministic without generatedAt", async () => {
    const res = await smallResult();
    assert.equal(renderRetrievalReport(res), renderRetrievalReport(res));
  });
});
