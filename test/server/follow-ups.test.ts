// Follow-up questions through the API without a language model: a conversation's next question
// and /v1's strata-rag messages carry the previous question's content terms into retrieval.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fixture, startTestServer, uploadForm, type TestServer } from "./helpers.js";

let t: TestServer;
before(async () => {
  t = await startTestServer();
  assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "museum" })).status, 201);
  const r = await t.client.request("POST", "/api/kbs/museum/documents", { key: t.adminKey, form: uploadForm([{ name: "museum-guide.md", bytes: fixture("public/museum-guide.md") }]) });
  assert.equal(r.status, 200, r.text);
});
after(async () => {
  await t?.close();
});

interface Ask { answer: string; supported: boolean; conversationId: string }

test("a conversation's follow-up is answered from what the previous question was about", async () => {
  const first = (await t.client.post("/api/kbs/museum/ask", t.adminKey, { question: "When do the lantern walks begin?" })).json<Ask>();
  assert.equal(first.supported, true);
  const alone = (await t.client.post("/api/kbs/museum/ask", t.adminKey, { question: "Where do they go?" })).json<Ask>();
  assert.equal(alone.supported, false, "without the conversation the follow-up finds nothing");
  const next = (await t.client.post("/api/kbs/museum/ask", t.adminKey, { question: "Where do they go?", conversationId: first.conversationId })).json<Ask>();
  assert.equal(next.supported, true);
  assert.match(next.answer, /old pier/);
});

test("/v1 strata-rag: earlier user turns of the request condense the last question", async () => {
  const messages = [
    { role: "user", content: "When do the lantern walks begin?" },
    { role: "assistant", content: "Lantern walks begin at 20:15." },
    { role: "user", content: "Where do they go?" },
  ];
  const r = await t.client.post("/v1/chat/completions", t.adminKey, { model: "strata-rag/museum", messages });
  assert.equal(r.status, 200, r.text);
  const content = r.json<{ choices: { message: { content: string } }[] }>().choices[0]!.message.content;
  assert.match(content, /old pier/);
});
