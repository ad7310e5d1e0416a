// Agent runs in the web UI, in Debian's Chromium against the real `strata serve` with a scripted
// OpenAI-protocol model: a run whose calculator call waits for approval shows the pending call;
// clicking Approve completes it and the timeline shows the result. Screenshots at 1280 and 390 px.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ApiClient, artifactsDir, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, PHONE, shot, signIn, startServer, type Server } from "../helpers/browser.js";
import { replyText, replyToolCall, routes, startOpenAiServer, type Handler, type OpenAiServer } from "../helpers/openai-server.js";
import { repoRoot } from "../helpers/paths.js";

/** "calculate <expr>" calls the calculator; with a tool result in the conversation it answers with it. */
const agentModel: Handler = (req, res, n) => {
  const messages = req.body.messages ?? [];
  const result = [...messages].reverse().find((m) => m.role === "tool");
  if (result) return replyText(`The calculator says ${String(result.content)}`)(req, res, n);
  const calc = /calculate (.+)$/.exec(String(messages.find((m) => m.role === "user")?.content ?? ""));
  if (calc) return replyToolCall("calculator", { expression: calc[1] })(req, res, n);
  return replyText("Nothing to do.")(req, res, n);
};

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet (dist/src/cli/commands/serve.js); browser tests skipped");

describe("agent runs in the web UI", { skip: skip ?? false }, () => {
  let upstream: OpenAiServer;
  let server: Server;
  let browser: Browser;
  let alice: ApiClient;
  let aliceKey: string;
  let shots: string;

  before(async () => {
    assertWebBuilt();
    shots = artifactsDir("browser-agents");
    console.log(`browser-agents screenshots: ${shots}`);
    upstream = await startOpenAiServer(routes({ chat: agentModel }));
    server = await startServer({ args: ["--model", `scripted=${upstream.ref("scripted")}`] });
    const admin = new ApiClient(server.url, server.adminKey);
    alice = await admin.user("alice", ["research"], ["read"]);
    aliceKey = alice.key;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await upstream?.close();
  });

  test("a run waiting for approval shows its pending call; Approve completes it and the timeline shows the result", async () => {
    const run = await alice.post<{ id: string }>("/api/agent-runs", { goal: "calculate 17*3", tools: ["calculator"], approve: ["calculator"] });
    for (let i = 0; i < 100; i++) {
      const r = await alice.get<{ status: string }>(`/api/agent-runs/${run.id}`);
      if (r.status !== "running") break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const { context, page, errors } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, aliceKey, "alice");
      await page.goto(server.url + "/#/agents");
      const pending = page.getByTestId("pending-call");
      await pending.waitFor();
      assert.match(await pending.innerText(), /calculator/);
      assert.match(await pending.innerText(), /17\*3/);
      assert.equal(await page.getByTestId("run-status").innerText(), "interrupted");
      await shot(page, shots, "01-waiting-1280");
      await page.getByLabel("Comment (optional)").fill("fine");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.getByTestId("run-answer").waitFor();
      assert.match(await page.getByTestId("run-answer").innerText(), /51/);
      assert.equal(await page.getByTestId("run-status").innerText(), "completed");
      const timeline = await page.getByRole("list", { name: "Timeline" }).innerText();
      assert.match(timeline, /Call approved/);
      assert.match(timeline, /Tool result/);
      assert.match(timeline, /"result": 51/);
      await shot(page, shots, "02-approved-1280");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
    const phone = await newContext(browser, PHONE);
    try {
      await signIn(phone.page, server.url, aliceKey, "alice");
      await phone.page.goto(server.url + "/#/agents");
      await phone.page.getByTestId("run-answer").waitFor();
      const overflow = await phone.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assert.equal(overflow, 0, "no sideways scroll at 390 px");
      await shot(phone.page, shots, "03-approved-390");
    } finally {
      await phone.context.close();
    }
  });
});
