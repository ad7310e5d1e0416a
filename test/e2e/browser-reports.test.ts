// The Eval reports page in Debian's Chromium against the real `strata serve`: the empty state names
// the command that publishes a report; published reports are listed with their headline figures (a
// damaged one says so); choosing one with the mouse or the keyboard draws its chart (one bar per
// query, one point per window) with a text alternative; the full HTML report opens in a sandboxed
// frame; no sideways scrolling at 390 px; screenshots kept.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { lmReportInput, publishReport, retrievalReportInput, taskReportInput } from "../../src/eval/published-reports.js";
import { renderRetrievalReport } from "../../src/eval/report-html.js";
import type { RetrievalEvalResult } from "../../src/eval/retrieval.js";
import { ApiClient, artifactsDir, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, PHONE, shot, signIn, startServer, type Server } from "../helpers/browser.js";
import { repoRoot } from "../helpers/paths.js";

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet; browser tests skipped");

const NDCG = [1, 0.63, 0.5, 0.5, 0.39, 0, 1];
const LOSSES = [3.1, 2.8, 2.75, 2.9, 2.6];

function kiwi(): RetrievalEvalResult {
  return {
    dataset: "kiwi",
    split: "test",
    queries: NDCG.length,
    ndcg_at_10: NDCG.reduce((a, b) => a + b, 0) / NDCG.length,
    recall_at_100: 0.86,
    mrr_at_10: 0.71,
    ms_per_query: 2.25,
    p50_ms: 2,
    p95_ms: 4,
    perQuery: NDCG.map((v, i) => ({ id: `q${i + 1}`, query: `kiwi question ${i + 1}`, ndcg_at_10: v, recall_at_100: 1, mrr_at_10: v, ms: 2, firstRelevantRank: v > 0 ? 1 : null, relevant: ["d1"], top: ["d1"] })),
  };
}

describe("Eval reports page in Chromium", { skip: skip ?? false }, () => {
  let server: Server;
  let browser: Browser;
  let reader: ApiClient;
  let shots: string;

  before(async () => {
    assertWebBuilt();
    shots = artifactsDir("browser-reports");
    console.log(`browser-reports screenshots: ${shots}`);
    server = await startServer();
    reader = await new ApiClient(server.url, server.adminKey).user("rita", [], ["read"]);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("empty state, then the list, the chart of each kind, the HTML report, the keyboard and 390 px", async () => {
    const { context, page, requests, errors } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, reader.key, "rita");
      await page.goto(`${server.url}/#/reports`);
      const empty = page.getByTestId("reports-empty");
      await empty.waitFor();
      assert.match((await empty.textContent()) ?? "", /strata eval retrieval --beir <beir-folder> --split test --publish <data-folder>/);
      await shot(page, shots, "01-empty-1280");

      // Publish three reports into the server's data folder while the page is open.
      const result = kiwi();
      const retrieval = publishReport(server.data, retrievalReportInput(result, { command: "strata eval retrieval --beir kiwi --publish data" }), { html: renderRetrievalReport(result, { title: "Kiwi retrieval page" }), now: new Date("2026-03-01T09:00:00Z") });
      const lm = publishReport(server.data, lmReportInput({ model: "gguf:tiny.gguf", data: "/texts/valid.txt", tokens: 500, loss: 2.83, perplexity: Math.exp(2.83), window: 100, seconds: 3 }, { windows: LOSSES.map((loss, index) => ({ index, tokens: 100, loss })) }), { now: new Date("2026-03-02T09:00:00Z") });
      const broken = publishReport(server.data, retrievalReportInput(kiwi()), { now: new Date("2026-03-03T09:00:00Z") });
      writeFileSync(join(server.data, "reports", broken.id, "report.json"), "{ not json");
      await page.reload();

      const list = page.getByRole("list", { name: "Published reports" });
      await list.waitFor();
      assert.equal(await list.getByRole("listitem").count(), 3);
      assert.match((await page.getByTestId("report-damaged").textContent()) ?? "", /damaged.*not valid JSON/s);
      const retrievalButton = list.getByRole("button", { name: /Retrieval: kiwi \(test\)/ });
      assert.match((await retrievalButton.textContent()) ?? "", /nDCG@10 0\.5743/);
      // The newest readable report (the language model's) opens first.
      await page.getByRole("heading", { name: /Language model: gguf:tiny\.gguf/, level: 2 }).waitFor();
      const lmChart = page.locator('[data-testid=report-chart][data-kind="lm"]');
      await lmChart.waitFor();
      assert.equal(await lmChart.locator("circle.report-point").count(), LOSSES.length);

      // The keyboard chooses a report: Tab to its button and press Enter.
      await retrievalButton.focus();
      await page.keyboard.press("Enter");
      assert.equal(await retrievalButton.getAttribute("aria-pressed"), "true");
      const chart = page.locator('[data-testid=report-chart][data-kind="retrieval"]');
      await chart.waitFor();
      assert.equal(await chart.locator("rect.report-bar").count(), NDCG.length, "one bar per query");
      const heights = await chart.locator("rect.report-bar").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
      assert.deepEqual(heights, [...NDCG].sort((a, b) => b - a), "sorted best first");
      // The chart's text alternative: an image with a name and a description, and a data table.
      assert.equal(await chart.getAttribute("role"), "img");
      const described = await page.evaluate<string>(
        `(() => { const svg = document.querySelector('[data-testid=report-chart][data-kind="retrieval"]'); return svg.getAttribute('aria-labelledby').split(' ').map((id) => document.getElementById(id).textContent).join(' | '); })()`,
      );
      assert.match(described, /7 queries.*mean nDCG@10 0\.5743.*1 scored 0 and 2 scored 1/);
      assert.equal(await page.locator(".report-data table tbody tr").count(), NDCG.length);
      assert.match((await page.getByTestId("report-detail").textContent()) ?? "", /Recall@100\s*0\.8600/);
      await shot(page, shots, "02-retrieval-1280");

      // The full HTML report, inside a sandboxed frame.
      await page.getByRole("button", { name: "Open the full HTML report" }).click();
      const frame = page.locator("iframe.report-frame");
      await frame.waitFor();
      assert.equal(await frame.getAttribute("sandbox"), "");
      await page.frameLocator("iframe.report-frame").getByRole("heading", { name: "Kiwi retrieval page" }).waitFor();
      assert.ok(await page.getByRole("link", { name: "Download HTML" }).isVisible());
      await shot(page, shots, "03-html-report-1280");

      const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith("data:") && !u.startsWith("blob:") && u !== "about:srcdoc");
      assert.deepEqual(foreign, [], "the page made requests outside its server");
      // The report's own sort script is blocked by the frame's sandbox (by design); nothing else may fail.
      assert.deepEqual(errors.filter((e) => !/Blocked script execution in 'about:srcdoc'/.test(e)), []);
      assert.ok(retrieval.id && lm.id);
    } finally {
      await context.close();
    }

    // A phone in the dark: the same page, no sideways scrolling.
    const phone = await newContext(browser, PHONE, "dark");
    try {
      await signIn(phone.page, server.url, reader.key, "rita");
      await phone.page.goto(`${server.url}/#/reports`);
      await phone.page.getByRole("list", { name: "Published reports" }).getByRole("button", { name: /Retrieval: kiwi/ }).click();
      await phone.page.locator('[data-testid=report-chart][data-kind="retrieval"] rect.report-bar').first().waitFor();
      const overflow = await phone.page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assert.ok(overflow <= 0, `the reports page at 390 px scrolls sideways by ${overflow} px`);
      await shot(phone.page, shots, "04-retrieval-390-dark");
    } finally {
      await phone.context.close();
    }
  });

  test("a function-calling run: its headline accuracy in the list, the share right per category as bars", async () => {
    const verdicts: [string, string, boolean][] = [["simple_0", "simple", true], ["simple_1", "simple", false], ["parallel_0", "parallel", true], ["parallel_1", "parallel", true]];
    const items = verdicts.map(([id, category, ok]) => ({ id, metrics: { correct: ok ? 1 : 0 }, detail: { category } }));
    publishReport(server.data, taskReportInput("tools", { id: "run-t", dataset: "bfcl", items, summary: { questions: 4, accuracy: 0.75 } }), { now: new Date("2026-03-04T09:00:00Z") });
    const { context, page } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, reader.key, "rita");
      await page.goto(`${server.url}/#/reports`);
      const button = page.getByRole("list", { name: "Published reports" }).getByRole("button", { name: /Function calling: bfcl/ });
      await button.waitFor();
      assert.match((await button.textContent()) ?? "", /function calling/);
      await button.click();
      const chart = page.locator('[data-testid=report-chart][data-kind="tools"]');
      await chart.waitFor();
      const bars = await chart.locator("rect.report-bar").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
      assert.deepEqual(bars, [0.5, 1], "simple 1 of 2, parallel 2 of 2");
      assert.equal(await page.locator(".report-data table tbody tr").count(), verdicts.length, "every item in the table");
      await shot(page, shots, "05-tools-1280");
    } finally {
      await context.close();
    }
  });
});
