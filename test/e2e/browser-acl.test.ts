// Access control as people see it in the web UI: a user sees none of another group's documents —
// not in the knowledge-base list's counts, the document list, search, chat answers and citations,
// earlier conversations, nor by opening the document's address directly; a user outside the
// knowledge base sees no knowledge base at all. Alice (research) is the control who does see hers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ApiClient, artifactsDir, assertWebBuilt, browserSkipReason, DESKTOP, launchBrowser, newContext, PHONE, shot, signIn, startServer, type Server } from "../helpers/browser.js";
import { repoRoot } from "../helpers/paths.js";

interface Doc { docId: string; title: string; source: string }
interface Answer { answer: string; citations: { docId: string; quote: string }[] }

const SECRET = `# Heron project

The project code name is BLUEHERON and its budget is 91,000 euros.
`;
const OPS = `# Boiler room

The boiler pressure is checked every Monday by the caretaker.
`;
const PUBLIC = `# Visitor guide

The museum opens at 10:00 every day except Tuesday.
`;

const skip = browserSkipReason() ?? (existsSync(join(repoRoot(), "dist", "src", "cli", "commands", "serve.js")) ? undefined : "`strata serve` is not built yet (dist/src/cli/commands/serve.js); browser tests skipped");

/** Uploads one file through the API (multipart), as the client's user. */
async function upload(client: ApiClient, kb: string, name: string, text: string, acl: { users?: string[]; groups?: string[] }): Promise<void> {
  const form = new FormData();
  form.append("files", new Blob([text], { type: "text/markdown" }), name);
  if (acl.users?.length) form.append("acl_users", acl.users.join(","));
  if (acl.groups?.length) form.append("acl_groups", acl.groups.join(","));
  const res = await fetch(`${client.base}/api/kbs/${kb}/documents`, { method: "POST", headers: { authorization: `Bearer ${client.key}` }, body: form });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal((JSON.parse(body) as { added: number }).added, 1, body);
}

describe("web UI access control in Chromium", { skip: skip ?? false }, () => {
  let server: Server;
  let browser: Browser;
  let alice: ApiClient;
  let bob: ApiClient;
  let carol: ApiClient;
  let secret: Doc;
  let shots: string;

  before(async () => {
    assertWebBuilt();
    shots = artifactsDir("browser-acl");
    console.log(`browser-acl screenshots: ${shots}`);
    server = await startServer();
    const admin = new ApiClient(server.url, server.adminKey);
    alice = await admin.user("alice", ["research"]);
    bob = await admin.user("bob", ["ops"]);
    carol = await admin.user("carol", []);
    await admin.post("/api/kbs", { name: "shared", members: { users: [], groups: ["research", "ops"] } });
    await upload(alice, "shared", "heron.md", SECRET, { groups: ["research"] });
    await upload(bob, "shared", "boiler.md", OPS, { groups: ["ops"] });
    await upload(admin, "shared", "guide.md", PUBLIC, {});
    // Alice has a conversation about the secret; it must stay hers.
    await alice.post<Answer>("/api/kbs/shared/ask", { question: "What is the project code name?" });
    secret = (await alice.get<Doc[]>("/api/kbs/shared/documents")).find((d) => d.source.endsWith("heron.md"))!;
    assert.ok(secret, "alice reads her own document");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("control: alice sees her group's document in the list, in search and cited in chat", async () => {
    const { context, page } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, alice.key, "alice");
      await page.goto(`${server.url}/#/kbs/shared`);
      await page.getByTestId("documents").waitFor();
      assert.ok(((await page.getByTestId("documents").textContent()) ?? "").includes("heron.md"));
      await page.getByRole("searchbox").fill("BLUEHERON");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await page.getByTestId("search-results").locator("li").first().waitFor();
      await page.goto(`${server.url}/#/chat`);
      await page.getByLabel("Your question").fill("What is the project code name?");
      await page.getByLabel("Your question").press("Enter");
      await page.getByTestId("answer").last().locator("button.chip").first().waitFor({ timeout: 60_000 });
      assert.ok(((await page.getByTestId("answer").last().textContent()) ?? "").includes("BLUEHERON"));
    } finally {
      await context.close();
    }
  });

  test("bob (ops) sees none of research's documents: list, counts, search, chat, history, direct address", async () => {
    for (const v of [DESKTOP, PHONE]) {
      const { context, page } = await newContext(browser, v);
      try {
        await signIn(page, server.url, bob.key, "bob");

        await page.goto(`${server.url}/#/kbs`);
        const card = page.getByRole("list", { name: "Knowledge bases" }).getByRole("listitem");
        await card.first().waitFor();
        assert.match((await card.first().textContent()) ?? "", /2 documents/, "counts only what bob may read");

        await page.goto(`${server.url}/#/kbs/shared`);
        await page.getByTestId("documents").waitFor();
        const list = (await page.getByTestId("documents").textContent()) ?? "";
        assert.ok(list.includes("boiler.md") && list.includes("guide.md"), list);
        assert.ok(!list.includes("heron") && !list.includes("Heron"), `bob sees the research document: ${list}`);
        assert.equal(await page.getByTestId("documents").locator("tbody tr").count(), 2);

        await page.getByRole("searchbox").fill("BLUEHERON budget project code name");
        await page.getByRole("button", { name: "Search", exact: true }).click();
        const results = page.getByTestId("search-results");
        await results.getByText(/No passage you may read matches|\d/).first().waitFor();
        assert.ok(!((await results.textContent()) ?? "").includes("BLUEHERON"));
        await shot(page, shots, `bob-kb-search-${v.name}`);

        await page.goto(`${server.url}/#/chat`);
        await page.getByLabel("Your question").fill("Tell me the code name of the project");
        await page.getByLabel("Your question").press("Enter");
        const answer = page.getByTestId("answer").last();
        await answer.locator(".answer-text").waitFor({ timeout: 60_000 });
        const text = (await answer.textContent()) ?? "";
        assert.ok(!text.includes("BLUEHERON") && !text.includes("91,000"), `bob's answer leaks: ${text}`);
        for (const chip of await answer.locator("button.chip").all()) assert.ok(!((await chip.getAttribute("aria-label")) ?? "").includes("heron"));
        // Earlier conversations: bob's own only (alice's is titled by her question).
        await page.getByText("Earlier conversations").click();
        await page.locator(".history-list li").first().waitFor();
        const history = (await page.locator(".history-list").textContent()) ?? "";
        assert.ok(history.includes("Tell me the code name of the project"), history);
        assert.ok(!history.includes("What is the project code name?"), `bob sees alice's conversation: ${history}`);
        await shot(page, shots, `bob-chat-${v.name}`);

        await page.goto(`${server.url}/#/kbs/shared/docs/${secret.docId}`);
        await page.getByRole("alert").waitFor();
        assert.match((await page.getByRole("alert").textContent()) ?? "", /no document/i);
        assert.equal(await page.locator(".doc-text").count(), 0);
        await shot(page, shots, `bob-direct-address-${v.name}`);
      } finally {
        await context.close();
      }
    }
    // The API behind the page agrees.
    const docs = await bob.get<Doc[]>("/api/kbs/shared/documents");
    assert.ok(!docs.some((d) => d.docId === secret.docId));
    const conversations = await bob.get<{ id: string }[]>("/api/conversations");
    const alices = await alice.get<{ id: string }[]>("/api/conversations");
    assert.ok(!conversations.some((c) => alices.some((a) => a.id === c.id)), "bob lists alice's conversation");
  });

  test("carol (no group, not a member) sees no knowledge base and cannot open one", async () => {
    const { context, page } = await newContext(browser, DESKTOP);
    try {
      await signIn(page, server.url, carol.key, "carol");
      await page.goto(`${server.url}/#/kbs`);
      await page.getByText("There is no knowledge base you may read yet.").waitFor();
      await page.goto(`${server.url}/#/chat`);
      await page.getByText("You can read no knowledge base yet.").waitFor();
      assert.equal(await page.getByLabel("Your question").isDisabled(), true);
      await shot(page, shots, "carol-chat-1280");
      await page.goto(`${server.url}/#/kbs/shared`);
      await page.getByRole("alert").first().waitFor();
      assert.equal(await page.locator(".doc-table").count(), 0);
      await page.goto(`${server.url}/#/kbs/shared/docs/${secret.docId}`);
      await page.getByRole("alert").waitFor();
      assert.equal(await page.locator(".doc-text").count(), 0);
      await shot(page, shots, "carol-direct-address-1280");
    } finally {
      await context.close();
    }
  });
});
