// Inline Markdown in Chromium: an answer quoted from a Markdown source shows **bold** and `code` as
// elements (never the raw markers, never HTML from the source), and the cited span in the document
// viewer still sits on the exact source characters.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ApiClient, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, signIn, startServer, type Server } from "../helpers/browser.js";
import { repoRoot } from "../helpers/paths.js";

interface Citation { n: number; docId: string; start: number; end: number; quote: string }
interface Answer { answer: string; supported: boolean; citations: Citation[] }

const KILN = `# Kiln notes

The **glaze kiln** is fired to \`1240 °C\` for stoneware, and <b>never</b> opened while hot.
`;

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet; browser tests skipped");

describe("inline Markdown in Chromium", { skip: skip ?? false }, () => {
  let server: Server;
  let browser: Browser;
  let admin: ApiClient;

  before(async () => {
    assertWebBuilt();
    server = await startServer();
    admin = new ApiClient(server.url, server.adminKey);
    await admin.post("/api/kbs", { name: "studio" });
    const form = new FormData();
    form.append("files", new Blob([KILN]), "kiln.md");
    const r = await fetch(`${server.url}/api/kbs/studio/documents`, { method: "POST", headers: { authorization: `Bearer ${server.adminKey}` }, body: form });
    assert.equal(r.status, 200, await r.text());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("bold and code render as elements, source HTML stays text, and the cited span is the exact source characters", async () => {
    const question = "What temperature is the glaze kiln fired to?";
    const expected = await admin.post<Answer>("/api/kbs/studio/ask", { question });
    assert.equal(expected.supported, true, expected.answer);
    assert.match(expected.answer, /\*\*glaze kiln\*\*/, "the API answers with the source characters");
    const { context, page, errors } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, server.adminKey, "admin");
      await page.goto(`${server.url}/#/chat`);
      await page.getByLabel("Your question").fill(question);
      await page.getByLabel("Your question").press("Enter");
      const answer = page.getByTestId("answer").last();
      const chip = answer.locator("button.chip").first();
      await chip.waitFor({ timeout: 60_000 });
      const text = answer.locator(".answer-text");
      assert.equal(await text.locator("strong").first().textContent(), "glaze kiln");
      assert.equal(await text.locator("code").first().textContent(), "1240 °C");
      const shown = (await text.textContent()) ?? "";
      assert.ok(!shown.includes("**") && !shown.includes("`"), `raw Markdown markers shown: ${shown}`);
      assert.ok(shown.includes("<b>never</b>"), `source HTML must stay text: ${shown}`);
      assert.equal(await text.locator("b").count(), 0, "no HTML from the source becomes an element");

      await chip.click();
      const mark = page.getByTestId("cited-document").locator("mark.cited");
      await mark.waitFor();
      const n = Number(await chip.getAttribute("data-citation"));
      const citation = expected.citations.find((c) => c.n === n)!;
      assert.equal(Number(await mark.getAttribute("data-start")), citation.start);
      assert.equal(Number(await mark.getAttribute("data-end")), citation.end);
      const doc = await admin.get<{ text: string }>(`/api/kbs/studio/documents/${citation.docId}`);
      assert.equal(doc.text.slice(citation.start, citation.end), citation.quote, "the span is the exact stored characters");
      assert.match(citation.quote, /\*\*glaze kiln\*\*/, "with the Markdown markers of the source");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
