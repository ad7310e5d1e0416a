// The training page in Debian's Chromium against the real `strata serve`: sign in, start a tiny run
// from the form, watch the loss chart draw its points live and the run complete, then the same page
// at 390 px without sideways scrolling. Screenshots go to the artifacts folder.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ApiClient, artifactsDir, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, PHONE, shot, signIn, startServer, type Server } from "../helpers/browser.js";
import { repoRoot } from "../helpers/paths.js";
import { sampleText } from "../train/helpers.js";

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet (dist/src/cli/commands/serve.js); browser tests skipped");

/** Points of the chart's training-loss line. */
async function chartPoints(page: Page): Promise<number> {
  const points = await page.locator('[data-testid="loss-chart"] polyline.line-0').first().getAttribute("points").catch(() => null);
  return points ? points.trim().split(/\s+/).length : 0;
}

describe("training runs in Chromium", { skip: skip ?? false }, () => {
  let server: Server;
  let browser: Browser;
  let aliceKey: string;
  let shots: string;

  before(async () => {
    assertWebBuilt();
    shots = artifactsDir("browser-training");
    console.log(`browser-training screenshots: ${shots}`);
    server = await startServer();
    const admin = new ApiClient(server.url, server.adminKey);
    await admin.post("/api/users", { name: "alice", groups: [] });
    aliceKey = (await admin.post<{ key: string }>("/api/keys", { user: "alice", scopes: ["read", "ingest"] })).key;
    await admin.post("/api/kbs", { name: "lore", members: { users: ["alice"], groups: [] } });
    const form = new FormData();
    form.append("files", new Blob([`# Lore\n\n${sampleText(4000, 7)}`]), "lore.md");
    const up = await fetch(`${server.url}/api/kbs/lore/documents`, { method: "POST", headers: { authorization: `Bearer ${server.adminKey}` }, body: form });
    assert.equal(up.status, 200, await up.text());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("start a tiny run from the form; the chart draws its steps live and the run completes", async () => {
    const { context, page, requests, errors } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, aliceKey, "alice");
      await page.goto(`${server.url}/#/training`);
      await page.getByRole("heading", { name: "Training runs", level: 1 }).waitFor();
      await page.getByLabel("Knowledge base", { exact: true }).selectOption("lore");
      await page.getByLabel("Preset", { exact: true }).selectOption("tiny");
      await page.getByLabel("Steps", { exact: true }).fill("12");
      // Keyboard: open "More settings" and fill the batch and block without the mouse.
      await page.getByText("More settings").focus();
      await page.keyboard.press("Enter");
      await page.getByLabel("Batch (sequences per step)").fill("2");
      await page.getByLabel("Block (tokens per sequence)").fill("16");
      await page.getByRole("button", { name: "Start training" }).click();

      const status = page.getByTestId("training-status");
      await status.waitFor();
      // Live: the chart has some points while the run is still going, then all of them.
      let sawLive = false;
      const deadline = Date.now() + 180_000;
      for (;;) {
        const text = (await status.textContent())?.trim();
        const n = await chartPoints(page);
        if (text === "running" && n >= 2) sawLive = true;
        if (text === "completed") break;
        assert.notEqual(text, "failed", `the run failed:\n${server.log()}`);
        assert.ok(Date.now() < deadline, `the run did not complete in time (status ${text}):\n${server.log()}`);
        await page.waitForTimeout(150);
      }
      assert.ok(sawLive, "the chart drew points while the run was training");
      assert.equal(await chartPoints(page), 12);
      await page.getByTestId("training-step").filter({ hasText: "12 of 12" }).waitFor();
      assert.match((await page.locator('[data-testid="loss-chart"] title').first().textContent()) ?? "", /training loss from .* to .* at step 12/);
      await page.getByRole("list", { name: "Training runs" }).getByText("completed").waitFor();
      await page.evaluate("window.scrollTo(0, 0)"); // the sticky bar at the top of the full-page shot
      await shot(page, shots, "01-training-completed-1280");
      assert.deepEqual(errors, []);
      const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith("data:") && !u.startsWith("blob:"));
      assert.deepEqual(foreign, [], "the page made requests outside its server");
    } finally {
      await context.close();
    }
  });

  test("at 390 px the page fits without sideways scrolling", async () => {
    const { context, page, errors } = await newContext(browser, PHONE);
    try {
      await signIn(page, server.url, aliceKey, "alice");
      await page.goto(`${server.url}/#/training`);
      await page.locator('[data-testid="loss-chart"]').waitFor();
      const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
      await shot(page, shots, "02-training-390");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
