// The ACL leak suite: every reader × every document × every route that can show document content
// (knowledge-base list, document list and show, search, ask as JSON and SSE, the OpenAI-compatible
// RAG model, conversation history, traces, deletion, upload, agent runs and their knowledge tools),
// with a language model and without.
// A leak is any of a document's marker strings, or its id, in anything a caller who may not read
// it receives — or in the prompt the model was sent on that caller's behalf. Expected: zero.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseSse, READERS, type Reply, setUpMuseum, startTestServer, uploadForm, type Museum, type MuseumDoc, type TestServer } from "./helpers.js";

let t: TestServer;
let m: Museum;
const USERS = Object.keys(READERS);
let checks = 0;

before(async () => {
  t = await startTestServer({ model: true });
  m = await setUpMuseum(t);
});
after(async () => {
  await t?.close();
});

const mayRead = (user: string, d: MuseumDoc): boolean => READERS[user]!.reads.includes(d.file);

/** Fails when `text` holds a marker or the id of a document `user` may not read. */
function assertNoLeak(text: string, user: string, where: string, allowIds: string[] = []): void {
  for (const d of m.docs) {
    if (mayRead(user, d)) continue;
    for (const marker of d.markers) assert.ok(!text.includes(marker), `${where}: ${user} received "${marker}" from ${d.file}`);
    if (!allowIds.includes(d.docId!)) assert.ok(!text.includes(d.docId!), `${where}: ${user} received the id of ${d.file}`);
    checks++;
  }
}

/** Fails when a prompt sent upstream since `from` holds text `user` may not read. */
function assertPromptsClean(from: number, user: string, where: string): void {
  for (const r of t.upstream!.requests.slice(from)) assertNoLeak(JSON.stringify(r.body.messages ?? r.body.input ?? ""), user, `${where} (prompt sent to the model)`);
}

test("knowledge bases and /v1/models: members see the base, with counts of what they may read; a non-member sees nothing", async () => {
  for (const user of USERS) {
    const r = await t.client.get("/api/kbs", m.keys[user]);
    assert.equal(r.status, 200);
    const kbs = r.json<{ name: string; documents: number }[]>();
    if (READERS[user]!.member) assert.deepEqual(kbs.map((k) => [k.name, k.documents]), [["museum", READERS[user]!.reads.length]], user);
    else assert.deepEqual(kbs, [], user);
    const models = await t.client.get("/v1/models", m.keys[user]);
    assert.equal(models.json<{ data: { id: string }[] }>().data.some((x) => x.id === "strata-rag/museum"), READERS[user]!.member, user);
  }
});

test("document lists hold exactly the readable documents; a non-member gets 404", async () => {
  for (const user of USERS) {
    const r = await t.client.get("/api/kbs/museum/documents", m.keys[user]);
    assertNoLeak(r.text, user, "GET documents");
    if (!READERS[user]!.member) {
      assert.equal(r.status, 404, user);
      continue;
    }
    assert.equal(r.status, 200);
    assert.deepEqual(r.json<{ source: string }[]>().map((d) => d.source.split("/").pop()).sort(), [...READERS[user]!.reads].sort(), user);
  }
});

test("document show: 200 with the text for a reader; for anyone else the same 404 as a document that does not exist", async () => {
  const missing = await t.client.get("/api/kbs/museum/documents/doc_0000000000000000", m.keys.guest);
  assert.equal(missing.status, 404);
  for (const user of USERS) {
    for (const d of m.docs) {
      const r = await t.client.get(`/api/kbs/museum/documents/${d.docId}`, m.keys[user]);
      assertNoLeak(r.text, user, `GET document ${d.file}`, [d.docId!]);
      if (mayRead(user, d)) {
        assert.equal(r.status, 200, `${user} ${d.file}`);
        assert.ok(r.json<{ text: string }>().text.includes(d.markers[0]!));
      } else {
        assert.equal(r.status, 404, `${user} ${d.file}`);
        const body = r.json<{ error: { code: string; message: string; hint: string } }>().error;
        const none = missing.json<{ error: { code: string; message: string; hint: string } }>().error;
        assert.equal(body.code, none.code);
        // A member is told the same as for a missing document; a non-member, that the base does not exist.
        if (READERS[user]!.member) assert.equal(body.message.replace(d.docId!, "ID"), none.message.replace("doc_0000000000000000", "ID"), "no existence leak");
        else assert.match(body.message, /no knowledge base "museum"/);
      }
    }
  }
});

test("search: each document's own words find it for its readers only", async () => {
  for (const user of USERS) {
    for (const d of m.docs) {
      for (const mode of ["lexical", "hybrid"] as const) {
        const r = await t.client.post("/api/kbs/museum/search", m.keys[user], { query: d.markers[0], k: 10, mode });
        assertNoLeak(r.text, user, `search "${d.markers[0]}" (${mode})`);
        if (!READERS[user]!.member) {
          assert.equal(r.status, 404);
          continue;
        }
        assert.equal(r.status, 200, r.text);
        const ids = r.json<{ results: { docId: string }[] }>().results.map((h) => h.docId);
        if (mode === "lexical") assert.equal(ids.includes(d.docId!), mayRead(user, d), `${user} searching ${d.file}`);
        for (const id of ids) assert.ok(m.docs.some((x) => x.docId === id && mayRead(user, x)));
      }
    }
  }
});

interface AskAnswer {
  answer: string;
  supported: boolean;
  citations: { docId: string; quote: string }[];
  traceId?: string;
  conversationId?: string;
}

const conversations: Record<string, string[]> = {};
const traces: Record<string, string[]> = {};

test("ask (JSON and SSE, generated by the model): answers, citations and the model's prompts hold only readable text", async () => {
  for (const user of USERS) {
    for (const d of m.docs) {
      for (const sse of [false, true]) {
        const from = t.upstream!.requests.length;
        const r = await t.client.post("/api/kbs/museum/ask", m.keys[user], { question: d.question }, sse ? { accept: "text/event-stream" } : {});
        const where = `ask "${d.question}"${sse ? " (SSE)" : ""}`;
        assertNoLeak(r.text, user, where);
        assertPromptsClean(from, user, where);
        if (!READERS[user]!.member) {
          assert.equal(r.status, 404, where);
          assert.equal(t.upstream!.requests.length, from, "a refused caller costs no model call");
          continue;
        }
        assert.equal(r.status, 200, r.text);
        const a = sse ? (parseSse(r.text).find((e) => e.event === "answer")!.data as AskAnswer) : r.json<AskAnswer>();
        if (sse) assert.ok(parseSse(r.text).some((e) => e.event === "delta"), "deltas stream before the answer");
        for (const c of a.citations) assert.ok(m.docs.some((x) => x.docId === c.docId && mayRead(user, x)));
        if (mayRead(user, d)) {
          assert.equal(a.supported, true, `${user}: ${a.answer}`);
          assert.ok(a.citations.some((c) => c.docId === d.docId), `${user} cites ${d.file}`);
        }
        (conversations[user] ??= []).push(a.conversationId!);
        if (a.traceId) (traces[user] ??= []).push(a.traceId);
      }
    }
  }
});

test("the OpenAI-compatible strata-rag model answers with the caller's rights; a non-member gets 404 for the model", async () => {
  for (const user of USERS) {
    for (const d of m.docs) {
      for (const stream of [false, true]) {
        const from = t.upstream!.requests.length;
        const r = await t.client.post("/v1/chat/completions", m.keys[user], { model: "strata-rag/museum", stream, messages: [{ role: "user", content: d.question }] });
        const where = `strata-rag "${d.question}"${stream ? " (stream)" : ""}`;
        assertNoLeak(r.text, user, where);
        assertPromptsClean(from, user, where);
        if (!READERS[user]!.member) {
          assert.equal(r.status, 404, where);
          assert.equal(r.json<{ error: { code: string } }>().error.code, "NOT_FOUND");
          continue;
        }
        assert.equal(r.status, 200, r.text);
        const strata = stream
          ? (parseSse(r.text).map((e) => e.data as { strata?: AskAnswer }).find((c) => c.strata)!.strata as AskAnswer)
          : r.json<{ strata: AskAnswer }>().strata;
        for (const c of strata.citations) assert.ok(m.docs.some((x) => x.docId === c.docId && mayRead(user, x)));
        if (mayRead(user, d)) assert.ok(strata.citations.some((c) => c.docId === d.docId), `${user} cites ${d.file}`);
      }
    }
  }
});

test("conversation history and traces: each user reads their own; anyone else's is a 404", async () => {
  for (const owner of USERS.filter((u) => READERS[u]!.member)) {
    assert.ok((conversations[owner] ?? []).length > 0 && (traces[owner] ?? []).length > 0, `${owner} has conversations and traces`);
    const list = await t.client.get("/api/conversations", m.keys[owner]);
    assert.deepEqual(list.json<{ id: string }[]>().map((c) => c.id).sort(), [...conversations[owner]!].sort());
    for (const user of USERS) {
      for (const id of conversations[owner]!.slice(0, 3)) {
        const r = await t.client.get(`/api/conversations/${id}`, m.keys[user]);
        assertNoLeak(r.text, user, `conversation of ${owner}`);
        assert.equal(r.status, user === owner ? 200 : 404, `${user} reading ${owner}'s conversation`);
        // Continuing someone else's conversation is refused the same way.
        if (user !== owner && READERS[user]!.member) {
          const cont = await t.client.post("/api/kbs/museum/ask", m.keys[user], { question: "And what else?", conversationId: id });
          assert.equal(cont.status, 404);
        }
      }
      for (const id of traces[owner]!.slice(0, 3)) {
        const r = await t.client.get(`/api/traces/${id}`, m.keys[user]);
        assertNoLeak(r.text, user, `trace of ${owner}`);
        assert.equal(r.status, user === owner ? 200 : 404, `${user} reading ${owner}'s trace`);
      }
    }
    for (const user of USERS.filter((u) => u !== owner)) {
      const others = await t.client.get("/api/conversations", m.keys[user]);
      for (const id of conversations[owner]!) assert.ok(!others.text.includes(id));
    }
  }
});

test("deleting and uploading: a document one may not read cannot be deleted; a non-member cannot upload", async () => {
  const ingest: Record<string, string> = {};
  for (const user of ["guest", "mallory"]) {
    ingest[user] = (await t.client.post("/api/keys", t.adminKey, { user, scopes: ["read", "ingest"] })).json<{ key: string }>().key;
  }
  const survey = m.docs.find((d) => d.file === "survey-plan.md")!;
  const del = await t.client.del(`/api/kbs/museum/documents/${survey.docId}`, ingest.guest);
  assert.equal(del.status, 404);
  assert.equal((await t.client.get(`/api/kbs/museum/documents/${survey.docId}`, m.keys.dana)).status, 200, "still there");
  const up = await t.client.request("POST", "/api/kbs/museum/documents", { key: ingest.mallory, form: uploadForm([{ name: "x.md", bytes: Buffer.from("# X\n\nhello\n") }]) });
  assert.equal(up.status, 404);
  // An upload with the name of someone else's document makes the uploader's own copy; the original keeps its text and access list.
  const same = await t.client.request("POST", "/api/kbs/museum/documents", { key: ingest.guest, form: uploadForm([{ name: "survey-plan.md", bytes: Buffer.from("# Survey\n\nReplaced by guest.\n") }]) });
  assert.equal(same.json<{ added: number }>().added, 1);
  const original = await t.client.get(`/api/kbs/museum/documents/${survey.docId}`, m.keys.dana);
  assert.ok(original.json<{ text: string }>().text.includes("Kestrel"));
  assert.equal((await t.client.get(`/api/kbs/museum/documents/${survey.docId}`, m.keys.guest)).status, 404);
  const guestCopy = (await t.client.get("/api/kbs/museum/documents", m.keys.guest)).json<{ source: string }[]>();
  assert.ok(guestCopy.some((d) => d.source === "upload://guest/survey-plan.md"));
  const cleanup = guestCopy.find((d) => d.source === "upload://guest/survey-plan.md") as unknown as { docId: string };
  assert.equal((await t.client.del(`/api/kbs/museum/documents/${cleanup.docId}`, ingest.guest)).status, 200);
});

test("agent runs: kb_search and kb_ask in each user's runs show, and send the model, only what that user may read; someone else's run is a 404", async () => {
  const settled = async (key: string, id: string): Promise<Reply> => {
    for (let i = 0; i < 400; i++) {
      const r = await t.client.get(`/api/agent-runs/${id}`, key);
      if (r.status !== 200 || r.json<{ status: string }>().status !== "running") return r;
      await new Promise((done) => setTimeout(done, 25));
    }
    throw new Error(`agent run ${id} did not stop`);
  };
  const runs: { user: string; id: string }[] = [];
  for (const user of USERS) {
    for (const d of m.docs) {
      for (const verb of ["search", "ask"]) {
        const from = t.upstream!.requests.length;
        const started = await t.client.post("/api/agent-runs", m.keys[user], { goal: `${verb}: ${d.question}`, kbs: ["museum"], tools: ["kb_search", "kb_ask"] });
        assertNoLeak(started.text, user, `agent run start (${verb} "${d.question}")`);
        if (!READERS[user]!.member) {
          assert.equal(started.status, 404, `${user} may not name the base`);
          continue;
        }
        assert.equal(started.status, 202, started.text);
        const id = started.json<{ id: string }>().id;
        runs.push({ user, id });
        const run = await settled(m.keys[user]!, id);
        assert.equal(run.json<{ status: string }>().status, "completed", run.text);
        assertNoLeak(run.text, user, `agent run ${verb} "${d.question}"`);
        assertPromptsClean(from, user, `agent run ${verb} "${d.question}"`);
        // The echoing model repeats what kb_search found: a reader's run does show the document.
        if (verb === "search" && mayRead(user, d)) assert.ok(d.markers.some((x) => run.text.includes(x)), `${user}'s search run found ${d.file}`);
      }
    }
  }
  for (const user of USERS) {
    const list = await t.client.get("/api/agent-runs", m.keys[user]);
    assertNoLeak(list.text, user, "agent run list");
    const mine = new Set(list.json<{ id: string }[]>().map((r) => r.id));
    for (const r of runs) {
      assert.equal(mine.has(r.id), r.user === user, `${user}'s list and ${r.user}'s run`);
      if (r.user === user) continue;
      for (const path of [`/api/agent-runs/${r.id}`, `/api/agent-runs/${r.id}/events`]) assert.equal((await t.client.get(path, m.keys[user])).status, 404, `${user} GET ${path}`);
      assert.equal((await t.client.post(`/api/agent-runs/${r.id}/approve`, m.keys[user], {})).status, 404, `${user} approves ${r.user}'s run`);
    }
  }
});

test("without a language model (extractive answers) ask and strata-rag leak nothing either", async (ctx) => {
  await t.close();
  const upstream = t.upstream;
  t = await startTestServer({ dataDir: t.dataDir });
  t.upstream = upstream;
  for (const user of USERS) {
    for (const d of m.docs) {
      const ask = await t.client.post("/api/kbs/museum/ask", m.keys[user], { question: d.question });
      assertNoLeak(ask.text, user, `extractive ask "${d.question}"`);
      const rag = await t.client.post("/v1/chat/completions", m.keys[user], { model: "strata-rag/museum", messages: [{ role: "user", content: d.question }] });
      assertNoLeak(rag.text, user, `extractive strata-rag "${d.question}"`);
      if (!READERS[user]!.member) {
        assert.equal(ask.status, 404);
        assert.equal(rag.status, 404);
        continue;
      }
      const a = ask.json<AskAnswer & { mode: string }>();
      assert.equal(a.mode, "extractive");
      if (mayRead(user, d)) assert.ok(a.citations.some((c) => c.docId === d.docId), `${user} ${d.file}: ${a.answer}`);
      for (const c of a.citations) assert.ok(m.docs.some((x) => x.docId === c.docId && mayRead(user, x)));
    }
  }
  assert.ok(checks > 500, `ran ${checks} leak checks`);
  ctx.diagnostic(`${checks} (user, document, response) leak checks, each over every marker and the document id`);
});
