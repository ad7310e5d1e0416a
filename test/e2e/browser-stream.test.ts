// A generative answer in the web UI, streamed: `strata serve --model` points at a scripted
// OpenAI-compatible model (a real HTTP server that writes its answer a few characters at a time),
// and the page shows the text growing before the verified answer replaces it — with its citation
// chip opening the exact quoted span, and the sentence the sources do not support flagged.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ApiClient, artifactsDir, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, shot, signIn, startServer, type Server } from "../helpers/browser.js";
import { replyText, startOpenAiServer, type OpenAiServer, type WireRequestBody } from "../helpers/openai-server.js";
import { repoRoot } from "../helpers/paths.js";

interface Answer { answer: string; mode: string; citations: { n: number; docId: string; start: number; end: number; quote: string }[] }

const FALCON = `# Falcon field study

The falcon sensors on the north ridge are recalibrated every 14 days by the field team.
`;

/** The number of the prompt's source that holds `needle` (the server's <<<SOURCE n id>>> fences). */
function sourceWith(body: WireRequestBody, needle: string): number | undefined {
  const prompt = body.messages?.[body.messages.length - 1]?.content ?? "";
  for (const m of prompt.matchAll(/^<<<SOURCE (\d+) ([A-Za-z0-9]+)>>>\n([\s\S]*?)\n<<<END SOURCE \1 \2>>>$/gm)) if (m[3]!.includes(needle)) return Number(m[1]);
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet (dist/src/cli/commands/serve.js); browser tests skipped");

describe("streamed generative answers in Chromium", { skip: skip ?? false }, () => {
  let model: OpenAiServer;
  let server: Server;
  let browser: Browser;
  let alice: ApiClient;
  let shots: string;

  before(async () => {
    assertWebBuilt();
    shots = artifactsDir("browser-stream");
    console.log(`browser-stream screenshots: ${shots}`);
    // Two sentences: one the source supports, one with a number the source does not have.
    model = await startOpenAiServer(async (req, res, n) => {
      const s = sourceWith(req.body, "14 days");
      const text = s === undefined ? "I cannot answer this from the sources." : `The falcon sensors are recalibrated every 14 days by the field team [${s}]. Each sensor costs 300 euros [${s}].`;
      if (!req.body.stream) return replyText(text)(req, res, n);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const chunk = (delta: unknown, finish: string | null = null): string =>
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "scripted", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: "assistant", content: "" }));
      for (let i = 0; i < text.length; i += 4) {
        res.write(chunk({ content: text.slice(i, i + 4) }));
        await sleep(25);
      }
      res.write(chunk({}, "stop"));
      res.write(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "scripted", choices: [], usage: { prompt_tokens: 120, completion_tokens: 30 } })}\n\n`);
      res.end("data: [DONE]\n\n");
    });
    server = await startServer({ args: ["--model", `scripted=${model.ref("scripted")}`] });
    const admin = new ApiClient(server.url, server.adminKey);
    alice = await admin.user("alice", ["research"]);
    await admin.post("/api/kbs", { name: "field", members: { users: ["alice"], groups: [] } });
    const form = new FormData();
    form.append("files", new Blob([FALCON], { type: "text/markdown" }), "falcon.md");
    const res = await fetch(`${server.url}/api/kbs/field/documents`, { method: "POST", headers: { authorization: `Bearer ${alice.key}` }, body: form });
    assert.equal(res.status, 200, await res.text());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await model?.close();
  });

  test("the answer grows as the model writes it, then the verified answer cites its span and flags the unsupported sentence", async () => {
    const { context, page, errors } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, alice.key, "alice");
      await page.goto(`${server.url}/#/chat`);
      // Record the streaming text's length each time it changes.
      await page.evaluate(`(() => {
        window.__lengths = [];
        const log = document.querySelector('[data-testid=messages]');
        new MutationObserver(() => {
          const s = log.querySelector('.streaming');
          if (s) window.__lengths.push(s.textContent.length);
        }).observe(log, { subtree: true, childList: true, characterData: true });
      })()`);
      await page.getByLabel("Your question").fill("How often are the falcon sensors recalibrated?");
      await page.getByLabel("Your question").press("Enter");
      await page.getByRole("button", { name: "Stop" }).waitFor();
      await page.locator(".streaming").waitFor();
      await shot(page, shots, "stream-partial-1280");
      const answer = page.getByTestId("answer").last();
      const chip = answer.locator("button.chip").first();
      await chip.waitFor({ timeout: 60_000 });
      const lengths = await page.evaluate<number[]>("window.__lengths");
      assert.ok(new Set(lengths).size >= 3, `the text did not grow while streaming: ${JSON.stringify(lengths)}`);
      assert.ok(lengths.every((l, i) => i === 0 || l >= lengths[i - 1]!), "streamed text only grows");

      assert.match((await answer.textContent()) ?? "", /written by scripted/);
      assert.match((await answer.locator(".note-warn").textContent()) ?? "", /1 of 2 sentences are not supported[\s\S]*300 euros/);
      // How the answer was made: the trace's steps, loaded when opened.
      await answer.getByText("How this answer was made").click();
      const spans = answer.locator(".spans");
      await spans.first().waitFor();
      const steps = (await spans.first().textContent()) ?? "";
      for (const step of ["retrieve", "assemble", "generate", "verify"]) assert.ok(steps.includes(step), `trace lacks ${step}: ${steps}`);
      await shot(page, shots, "stream-verified-1280");

      // The conversation's answer as stored is what the page shows; its citation's quote is the highlighted span.
      const conversations = await alice.get<{ id: string }[]>("/api/conversations");
      const stored = await alice.get<{ messages: { role: string; content: string; citations?: Answer["citations"] }[] }>(`/api/conversations/${conversations[0]!.id}`);
      const reply = stored.messages.find((m) => m.role === "assistant")!;
      const n = Number(await chip.getAttribute("data-citation"));
      const citation = reply.citations!.find((c) => c.n === n)!;
      await chip.click();
      const mark = page.getByTestId("cited-document").locator("mark.cited");
      assert.equal(await mark.textContent(), citation.quote);
      assert.match(citation.quote, /recalibrated every 14 days/);
      await shot(page, shots, "stream-citation-1280");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
