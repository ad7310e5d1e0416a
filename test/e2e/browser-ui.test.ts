// The web UI in Debian's Chromium against the real `strata serve`: sign in with a key, upload
// documents by drag-and-drop and with the file picker (live ingest progress), ask a question, open a
// citation and find exactly the quoted span highlighted in its document (with the PDF page), the
// keyboard use, and screenshots of every page at 1280 and 390 px.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { makePdf, textLines } from "../knowledge/loaders/fixtures.js";
import {
  ApiClient,
  artifactsDir,
  assertWebBuilt,
  browserSkipReason,
  DESKTOP,
  dropFiles,
  launchBrowser,
  newContext,
  PHONE,
  shot,
  signIn,
  startServer,
  type Server,
} from "../helpers/browser.js";
import { repoRoot } from "../helpers/paths.js";

interface Citation { n: number; docId: string; title: string; page: number | null; start: number; end: number; quote: string }
interface Answer { answer: string; mode: string; supported: boolean; citations: Citation[] }
interface Doc { docId: string; title: string; source: string; text: string; acl: { users: string[]; groups: string[] } }

const FALCON = `# Falcon field study

The falcon sensors on the north ridge are recalibrated every 14 days by the field team.

## Funding

The second phase of the falcon study has a budget of 48,000 euros, approved in March.
`;

const OTTERS = `# Otter survey

Volunteers counted 17 otters along the river in May.
`;

// Two pages; the heading on page 2 (larger type) starts a chunk there, so its sentences cite page 2.
const PDF = makePdf(
  [
    [{ x: 72, y: 720, size: 20, text: "Lighthouse maintenance log" }, ...textLines(["The brass fittings were cleaned in January by the keepers."], { top: 690 })],
    [{ x: 72, y: 720, size: 18, text: "Lens work" }, ...textLines(["The lighthouse lens was polished on 12 March by Ines Alvarez."], { top: 690 })],
  ],
  "Lighthouse log",
);

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet (dist/src/cli/commands/serve.js); browser tests skipped");

describe("web UI in Chromium", { skip: skip ?? false }, () => {
  let server: Server;
  let browser: Browser;
  let admin: ApiClient;
  let alice: ApiClient;
  let shots: string;

  before(async () => {
    assertWebBuilt();
    shots = artifactsDir("browser-ui");
    console.log(`browser-ui screenshots: ${shots}`);
    server = await startServer();
    admin = new ApiClient(server.url, server.adminKey);
    alice = await admin.user("alice", ["research"], ["read", "ingest"]);
    await admin.user("bob", ["ops"], ["read", "ingest"]);
    await admin.post("/api/kbs", { name: "handbook", members: { users: [], groups: ["research", "ops"] } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A signed-in page for alice at a viewport, with the requests it makes recorded. */
  async function aliceAt(v = DESKTOP, scheme: "light" | "dark" = "light") {
    const c = await newContext(browser, v, scheme);
    await signIn(c.page, server.url, alice.key, "alice");
    return c;
  }

  function onlyLocal(requests: string[]): void {
    const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith("data:") && !u.startsWith("blob:"));
    assert.deepEqual(foreign, [], "the page made requests outside its server");
  }

  test("sign in: a wrong key is refused; a right key signs in and lives only in sessionStorage", async () => {
    const { context, page, requests } = await newContext(browser, DESKTOP);
    try {
      await page.goto(server.url + "/");
      await shot(page, shots, "01-sign-in-1280");
      // The first Tab reaches the key field, with a visible focus ring.
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate<string>("document.activeElement.getAttribute('type')"), "password");
      assert.notEqual(await page.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle"), "none", "focus is visible");
      await page.getByLabel("API key").fill("strata_0000000000000000_not-a-real-key-not-a-real-key-not-a-re");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").waitFor();
      assert.match((await page.getByRole("alert").textContent()) ?? "", /not valid/i);
      await shot(page, shots, "02-sign-in-refused-1280");

      await signIn(page, server.url, alice.key, "alice");
      assert.ok(!page.url().includes(alice.key), "the key must never be in the URL");
      const stored = await page.evaluate<string | null>("sessionStorage.getItem('strata.apiKey')");
      assert.equal(stored, alice.key);
      assert.equal(await page.evaluate<number>("localStorage.length"), 0, "nothing in localStorage");
      assert.equal(await page.evaluate<string>("document.cookie"), "", "no cookies");
      // A reload keeps the tab signed in; signing out forgets the key.
      await page.reload();
      await page.getByTestId("signed-in-user").filter({ hasText: "alice" }).waitFor();
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("API key").waitFor();
      assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('strata.apiKey')"), null);
      onlyLocal(requests);
    } finally {
      await context.close();
    }
  });

  test("upload: drag-and-drop and the file picker, with live progress, then the document list", async () => {
    const { context, page, requests, errors } = await aliceAt();
    try {
      await page.goto(`${server.url}/#/kbs/handbook`);
      await page.getByRole("heading", { name: "handbook", level: 1 }).waitFor();
      await page.getByLabel("Groups", { exact: true }).fill("research");
      await page.getByLabel("Tags").fill("field");
      await dropFiles(page, "[data-testid=dropzone]", [
        { name: "falcon.md", mimeType: "text/markdown", text: FALCON },
        { name: "otters.md", mimeType: "text/markdown", text: OTTERS },
      ]);
      // The picker is the fallback for people who cannot drag: the same list, the same upload.
      await page.getByTestId("file-input").setInputFiles([{ name: "lighthouse.pdf", mimeType: "application/pdf", buffer: PDF }]);
      const staged = page.getByRole("list", { name: "Files to upload" }).getByRole("listitem");
      assert.equal(await staged.count(), 3);
      await shot(page, shots, "03-kb-staged-1280");

      // Record what the live region says while the upload runs.
      await page.evaluate(`(() => {
        window.__progress = [];
        const el = document.querySelector('[data-testid=upload-status]');
        new MutationObserver(() => window.__progress.push(el.textContent)).observe(el, { subtree: true, childList: true, characterData: true });
      })()`);
      await page.getByRole("button", { name: "Upload 3 files" }).click();
      const done = page.getByTestId("ingest-done");
      await done.waitFor({ timeout: 60_000 });
      assert.match((await done.textContent()) ?? "", /Done: 3 added, 0 updated, 0 unchanged, 0 removed/);
      const seen = await page.evaluate<string[]>("window.__progress");
      // Progress from the stream itself (1..3 of 3), not just the "0 of 3" drawn before the first event.
      assert.ok(seen.some((s) => /Ingesting [1-3] of 3: \S+/.test(s)), `progress was never shown: ${JSON.stringify(seen)}`);
      await shot(page, shots, "04-kb-uploaded-1280");

      const rows = page.getByTestId("documents").locator("tbody tr");
      await rows.nth(2).waitFor();
      assert.equal(await rows.count(), 3);
      const table = (await page.getByTestId("documents").textContent()) ?? "";
      for (const s of ["upload://alice/falcon.md", "upload://alice/otters.md", "upload://alice/lighthouse.pdf", "group research", "field"]) assert.ok(table.includes(s), `${s} missing from ${table}`);

      // The API agrees: the documents carry the access list typed into the form.
      const docs = await alice.get<Doc[]>("/api/kbs/handbook/documents");
      assert.equal(docs.length, 3);
      for (const d of docs) assert.deepEqual(d.acl, { users: [], groups: ["research"] });

      // The document viewer shows the extracted text.
      await page.getByRole("link", { name: /Falcon field study|falcon\.md/ }).click();
      await page.getByRole("region", { name: /^Text of/ }).waitFor();
      assert.ok(((await page.getByRole("region", { name: /^Text of/ }).textContent()) ?? "").includes("recalibrated every 14 days"));
      await shot(page, shots, "05-document-1280");
      assert.deepEqual(errors, []);
      onlyLocal(requests);
    } finally {
      await context.close();
    }
  });

  test("chat: the answer streams in, and citation [n] opens its document with exactly the quoted span highlighted", async () => {
    const { context, page, requests, errors } = await aliceAt();
    try {
      await page.goto(`${server.url}/#/chat`);
      const question = "How often are the falcon sensors recalibrated?";
      await page.getByLabel("Your question").fill(question);
      await page.getByLabel("Your question").press("Enter");
      const answer = page.getByTestId("answer").last();
      const chip = answer.locator("button.chip").first();
      await chip.waitFor({ timeout: 60_000 });
      await shot(page, shots, "06-chat-answer-1280");

      // The same question through the API gives the same grounded answer: compare with it.
      const expected = await alice.post<Answer>("/api/kbs/handbook/ask", { question });
      assert.equal(expected.supported, true);
      const uiText = (await answer.locator(".answer-text").textContent()) ?? "";
      assert.equal(uiText.replace(/\s+/g, " ").trim(), expected.answer.replace(/\[(\d+)\]/g, "$1").replace(/\s+/g, " ").trim());
      const n = Number(await chip.getAttribute("data-citation"));
      const citation = expected.citations.find((c) => c.n === n)!;
      assert.ok(citation, `no citation ${n} in ${JSON.stringify(expected.citations)}`);

      await chip.click();
      const pane = page.getByTestId("cited-document");
      const mark = pane.locator("mark.cited");
      await mark.waitFor();
      assert.equal(await mark.textContent(), citation.quote, "the highlighted span is the citation's quote");
      assert.equal(await mark.getAttribute("data-match"), "exact");
      assert.equal(Number(await mark.getAttribute("data-start")), citation.start);
      assert.equal(Number(await mark.getAttribute("data-end")), citation.end);
      const doc = await alice.get<Doc>(`/api/kbs/handbook/documents/${citation.docId}`);
      assert.equal(doc.text.slice(citation.start, citation.end), citation.quote);
      await inView(page, mark);
      await shot(page, shots, "07-chat-citation-1280");
      assert.deepEqual(errors, []);
      onlyLocal(requests);
    } finally {
      await context.close();
    }
  });

  test("chat: a PDF citation shows its page, and the span deep in the document is scrolled into view", async () => {
    const { context, page } = await aliceAt();
    try {
      await page.goto(`${server.url}/#/chat`);
      const question = "When was the lighthouse lens polished?";
      await page.getByLabel("Your question").fill(question);
      await page.getByRole("button", { name: "Ask" }).click();
      const chip = page.getByTestId("answer").last().locator("button.chip").first();
      await chip.waitFor({ timeout: 60_000 });
      const expected = await alice.post<Answer>("/api/kbs/handbook/ask", { question });
      const n = Number(await chip.getAttribute("data-citation"));
      const citation = expected.citations.find((c) => c.n === n)!;
      assert.equal(citation.page, 2, JSON.stringify(citation));
      assert.match((await chip.getAttribute("aria-label")) ?? "", /page 2/);
      await chip.click();
      const pane = page.getByTestId("cited-document");
      assert.equal(await pane.locator("mark.cited").textContent(), citation.quote);
      assert.equal(await pane.getByTestId("cited-page").textContent(), "2");
      await inView(page, pane.locator("mark.cited"));
      await shot(page, shots, "08-chat-pdf-page-1280");
    } finally {
      await context.close();
    }
  });

  test("keyboard: skip link, a citation opened with Enter, closed with Escape, focus back on the chip", async () => {
    const { context, page } = await aliceAt();
    try {
      // A freshly loaded page (the key stays in this tab's sessionStorage): the first Tab from the
      // top of a new document must reach the skip link. (Only changing the hash keeps the document,
      // and with it the focus starting point the sign-in form left behind.)
      await page.goto("about:blank");
      await page.goto(`${server.url}/#/chat`);
      await page.getByTestId("signed-in-user").waitFor();
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate<string>("document.activeElement.textContent"), "Skip to content");
      const outline = await page.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle");
      assert.notEqual(outline, "none", "focus is visible");
      await page.getByLabel("Your question").fill("What is the budget of the second phase of the falcon study?");
      await page.keyboard.press("Enter");
      const chip = page.getByTestId("answer").last().locator("button.chip").first();
      await chip.waitFor({ timeout: 60_000 });
      await chip.focus();
      await page.keyboard.press("Enter");
      await page.getByTestId("cited-document").locator("mark.cited").waitFor();
      assert.equal(await page.evaluate<string>("document.activeElement.id"), "doc-pane-title", "focus moves to the opened document");
      await page.keyboard.press("Escape");
      await page.getByTestId("cited-document").waitFor({ state: "detached" });
      await page.waitForFunction("document.activeElement && document.activeElement.classList.contains('chip')");
      // Streaming text is announced: the conversation is a polite live region.
      assert.equal(await page.getByTestId("messages").getAttribute("aria-live"), "polite");
    } finally {
      await context.close();
    }
  });

  test("admin: add a user, make their key (shown once), create a knowledge base; the new key signs in", async () => {
    const { context, page, errors } = await newContext(browser, DESKTOP);
    let key: string;
    try {
      await signIn(page, server.url, server.adminKey, "admin");
      await page.getByRole("link", { name: "Users and keys" }).click();
      await page.getByRole("heading", { name: "Add a user" }).waitFor();
      const addUser = page.getByRole("region", { name: "Add a user" });
      await addUser.getByLabel("Name").fill("dana");
      await addUser.getByLabel("Groups").fill("research");
      await addUser.getByRole("button", { name: "Add user" }).click();
      await addUser.getByText("Added dana.").waitFor();
      const makeKey = page.getByRole("region", { name: "Make an API key" });
      await makeKey.getByLabel("For user").fill("dana");
      await makeKey.getByLabel("ingest").check();
      await makeKey.getByRole("button", { name: "Make key" }).click();
      key = (await page.getByTestId("new-key").textContent()) ?? "";
      assert.match(key, /^strata_/);
      await page.getByRole("cell", { name: "dana", exact: true }).first().waitFor();
      await shot(page, shots, "11-admin-users-keys-1280");

      await page.getByRole("link", { name: "Knowledge bases" }).click();
      const create = page.getByRole("region", { name: "Create a knowledge base" });
      await create.getByLabel("Name").fill("notes");
      await create.getByLabel("Member groups").fill("research");
      await create.getByRole("button", { name: "Create" }).click();
      await page.getByRole("heading", { name: "notes", level: 1 }).waitFor();
      await page.getByRole("region", { name: "Members" }).getByLabel("Member groups").waitFor();
      assert.equal(await page.getByRole("region", { name: "Members" }).getByLabel("Member groups").inputValue(), "research");
      await shot(page, shots, "12-admin-new-kb-1280");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
    const dana = await newContext(browser, DESKTOP);
    try {
      await signIn(dana.page, server.url, key, "dana");
      await dana.page.goto(`${server.url}/#/kbs`);
      const names = dana.page.getByRole("list", { name: "Knowledge bases" }).getByRole("heading");
      await names.first().waitFor();
      assert.deepEqual((await names.allTextContents()).sort(), ["handbook", "notes"]);
      assert.equal(await dana.page.getByRole("link", { name: "Users and keys" }).count(), 0, "no admin page for dana");
    } finally {
      await dana.context.close();
    }
  });

  test("every page at 390 px (dark) and 1280 px: no sideways scrolling, screenshots kept", async () => {
    const docs = await alice.get<Doc[]>("/api/kbs/handbook/documents");
    const falcon = docs.find((d) => d.source.endsWith("falcon.md"))!;
    const pages: [string, string, string][] = [
      ["#/chat", "chat", "Chat"],
      ["#/kbs", "kbs", "Knowledge bases"],
      ["#/kbs/handbook", "kb", "handbook"],
      [`#/kbs/handbook/docs/${falcon.docId}?start=10&end=40`, "document", "Falcon"],
      ["#/agents", "agent-runs", "Agent runs"],
      ["#/training", "training-runs", "Training runs"],
      ["#/reports", "eval-reports", "Eval reports"],
      ["#/account", "account", "Account"],
    ];
    for (const [v, scheme] of [[PHONE, "dark"], [DESKTOP, "light"]] as const) {
      const { context, page, requests, errors } = await aliceAt(v, scheme);
      try {
        for (const [hash, name, heading] of pages) {
          await page.goto(`${server.url}/${hash}`);
          await page.getByRole("heading", { level: 1, name: new RegExp(heading) }).waitFor();
          await page.waitForLoadState("networkidle");
          const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
          assert.ok(overflow <= 0, `${name} at ${v.name} px scrolls sideways by ${overflow} px`);
          await shot(page, shots, `page-${name}-${v.name}-${scheme}`);
        }
        // The phone chat with a cited document open, as a sheet over the chat.
        await page.goto(`${server.url}/#/chat`);
        await page.getByLabel("Your question").fill("How many otters were counted?");
        await page.getByLabel("Your question").press("Enter");
        const chip = page.getByTestId("answer").last().locator("button.chip").first();
        await chip.waitFor({ timeout: 60_000 });
        await shot(page, shots, `page-chat-answer-${v.name}-${scheme}`);
        await chip.click();
        await inView(page, page.getByTestId("cited-document").locator("mark.cited"));
        await page.screenshot({ path: join(shots, `page-chat-citation-${v.name}-${scheme}.png`) });
        assert.deepEqual(errors.filter((e) => !/status of 501/.test(e)), []);
        onlyLocal(requests);
      } finally {
        await context.close();
      }
    }
    // The admin's page on a phone.
    const { context, page } = await newContext(browser, PHONE, "dark");
    try {
      await signIn(page, server.url, server.adminKey, "admin");
      await page.goto(`${server.url}/#/admin`);
      await page.getByRole("heading", { level: 1, name: "Users and keys" }).waitFor();
      await page.getByRole("region", { name: "API keys", exact: true }).waitFor();
      const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assert.ok(overflow <= 0, `the admin page at 390 px scrolls sideways by ${overflow} px`);
      await shot(page, shots, "page-admin-390-dark");
    } finally {
      await context.close();
    }
  });
});

/** The element is inside the viewport (and not hidden by its scroll box). */
async function inView(page: Page, locator: ReturnType<Page["locator"]>): Promise<void> {
  await locator.waitFor();
  await page.waitForTimeout(100);
  const box = await locator.boundingBox();
  const vp = page.viewportSize()!;
  assert.ok(box, "no box");
  assert.ok(box.y >= 0 && box.y + Math.min(box.height, 40) <= vp.height, `the highlighted span is off screen: ${JSON.stringify(box)} in ${JSON.stringify(vp)}`);
  // Not clipped by the text box's own scrolling: the element at its centre is the mark (or inside it).
  const hit = await page.evaluate<boolean>(`(() => { const e = document.elementFromPoint(${box.x + Math.min(box.width, 20) / 2}, ${box.y + Math.min(box.height, 16) / 2}); return !!e && !!e.closest('mark.cited'); })()`);
  assert.ok(hit, "the highlighted span is scrolled out of its box");
}
