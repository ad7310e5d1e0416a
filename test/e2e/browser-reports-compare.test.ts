// The Eval reports page's compare view in Chromium against the real `strata serve`: two published
// QA reports; choosing one and picking the other in "Compare with" shows the paired interval of the
// per-question F1 delta, the headline deltas and the items that changed most.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { publishReport, qaReportInput } from "../../src/eval/published-reports.js";
import { ApiClient, artifactsDir, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, shot, signIn, startServer, type Server } from "../helpers/browser.js";
import { repoRoot } from "../helpers/paths.js";

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet; browser tests skipped");

const run = (id: string, f1s: number[]) => ({
  id,
  dataset: "kiwi-qa",
  items: f1s.map((f1, i) => ({ id: `q${i + 1}`, metrics: { f1, abstained: 0 } })),
  summary: { f1: f1s.reduce((a, b) => a + b, 0) / f1s.length, questions: f1s.length },
});

describe("Eval reports compare view in Chromium", { skip: skip ?? false }, () => {
  let server: Server;
  let browser: Browser;
  let reader: ApiClient;

  before(async () => {
    assertWebBuilt();
    server = await startServer();
    reader = await new ApiClient(server.url, server.adminKey).user("rita", [], ["read"]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("pick another QA report and see the deltas with the paired interval", async () => {
    const a = publishReport(server.data, qaReportInput(run("run-a", [1, 0.5, 0, 0.2]), { title: "QA kiwi A" }), { now: new Date("2026-03-01T09:00:00Z") });
    const b = publishReport(server.data, qaReportInput(run("run-b", [1, 0.75, 1, 0.2]), { title: "QA kiwi B" }), { now: new Date("2026-03-02T09:00:00Z") });
    const { context, page, errors } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, reader.key, "rita");
      await page.goto(`${server.url}/#/reports`);
      await page.getByRole("list", { name: "Published reports" }).getByRole("button", { name: /QA kiwi A/ }).click();
      await page.getByRole("heading", { name: "QA kiwi A", level: 2 }).waitFor();
      await page.getByTestId("report-compare-select").selectOption(b.id);
      const result = page.getByTestId("report-compare-result");
      await result.waitFor();
      const text = (await result.textContent()) ?? "";
      // F1 per item 0.425 → 0.7375: delta +0.3125 over 4 items
      assert.match(text, /Mean f1 per item: 0\.4250 → 0\.7375, Δ \+0\.3125/);
      assert.match(text, /over 4 items in common/);
      assert.match(text, /q3.*0\.000 → 1\.000 \(\+1\.000\)/s);
      await shot(page, artifactsDir("browser-reports"), "05-compare-1280");
      assert.deepEqual(errors, []);
      assert.ok(a.id);
    } finally {
      await context.close();
    }
  });
});
