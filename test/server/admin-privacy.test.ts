// docs/api.md: admins see every run, but not other users' prompts. A user's prompt carries a
// canary (an agent goal, a question with its conversation and trace, a chat completion); then the
// admin walks every GET route of /openapi.json, with every id the user's requests produced, and no
// answer may contain the canary.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { embedDeterministic, replyText, replyToolCall, routes, startOpenAiServer, type Handler, type OpenAiServer } from "../helpers/openai-server.js";
import { setUpMuseum, startTestServer, type Museum, type TestServer } from "./helpers.js";

const CANARY = "Zqcanary7741";

const agentModel: Handler = async (req, res, n) => {
  const messages = req.body.messages ?? [];
  const goal = String(messages.find((m) => m.role === "user")?.content ?? "");
  if (messages.some((m) => m.role === "tool")) return replyText("Done.")(req, res, n);
  const search = /search: (.+)$/.exec(goal);
  if (search) return replyToolCall("kb_search", { query: search[1] })(req, res, n);
  return replyText("Nothing to do.")(req, res, n);
};

let t: TestServer;
let upstream: OpenAiServer;
let museum: Museum;
const ids = new Set<string>();

function collectIds(v: unknown): void {
  if (Array.isArray(v)) v.forEach(collectIds);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string" && /^(id|conversationId|traceId|docId)$/.test(k)) ids.add(x);
      else collectIds(x);
    }
  }
}

before(async () => {
  upstream = await startOpenAiServer(routes({ chat: agentModel, embeddings: embedDeterministic(8) }));
  t = await startTestServer({ model: true, upstream });
  museum = await setUpMuseum(t);
  const dana = museum.keys.dana!;
  const run = await t.client.post("/api/agent-runs", dana, { goal: `search: ${CANARY} vault`, kbs: ["museum"], tools: ["kb_search"] });
  assert.equal(run.status, 202, run.text);
  collectIds(run.json());
  const id = run.json<{ id: string }>().id;
  for (let i = 0; i < 200 && (await t.client.get(`/api/agent-runs/${id}`, dana)).json<{ status: string }>().status === "running"; i++) await new Promise((r) => setTimeout(r, 50));
  const ask = await t.client.post("/api/kbs/museum/ask", dana, { question: `What does ${CANARY} say about the museum?` });
  collectIds(ask.json());
  const chat = await t.client.post("/v1/chat/completions", dana, { model: "scripted", messages: [{ role: "user", content: `Say ${CANARY}` }] });
  assert.equal(chat.status, 200, chat.text);
  for (const path of ["/api/kbs/museum/documents", "/api/conversations"]) collectIds((await t.client.get(path, dana)).json());
});
after(async () => {
  await t?.close();
  await upstream?.close();
});

test("the user's own views hold the canary (so the walk below can see a leak)", async () => {
  const runs = await t.client.get("/api/agent-runs", museum.keys.dana!);
  assert.ok(runs.text.includes(CANARY));
});

test("an admin walking every GET route sees no prompt of another user", async () => {
  const spec = (await t.client.get("/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
  const values: Record<string, string[]> = { kb: ["museum"], name: ["dana"], model: ["scripted"], id: [...ids], docId: [...ids] };
  let walked = 0;
  for (const [path, ops] of Object.entries(spec.paths)) {
    if (!("get" in ops)) continue;
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const urls = params.reduce<string[]>((acc, p) => acc.flatMap((u) => (values[p] ?? ["x"]).map((v) => u.replace(`{${p}}`, encodeURIComponent(v)))), [path]);
    for (const url of urls) {
      const r = await t.client.request("GET", url, { key: t.adminKey, headers: url.endsWith("/events") ? { accept: "text/event-stream" } : {} });
      walked++;
      assert.ok(!r.text.includes(CANARY), `GET ${url} (admin) shows another user's prompt: ${r.text.slice(0, 300)}`);
    }
  }
  assert.ok(walked >= 20, `only ${walked} requests walked`);
});
