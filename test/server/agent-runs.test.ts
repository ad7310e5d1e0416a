// Agent runs over HTTP against a real server and a scripted OpenAI-protocol model: a run that
// searches a knowledge base and answers; a calculator call that waits for approval, approved with
// edited arguments or rejected; the live event stream; other users' runs are 404 everywhere; the
// model never sees a document its user may not read; clear errors for bad input and no model.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { embedDeterministic, replyText, replyToolCall, routes, startOpenAiServer, type Handler, type OpenAiServer } from "../helpers/openai-server.js";
import { parseSse, setUpMuseum, startTestServer, type Museum, type TestServer } from "./helpers.js";

interface Run {
  id: string;
  status: string;
  goal: string | null;
  owner: string | null;
  answer: string | null;
  pending: { callId: string; tool: string | null; args: Record<string, unknown>; risk: string; reason: string }[];
  timeline: { seq: number; type: string; actor: string; data: Record<string, unknown> }[];
  usage: { inputTokens: number; outputTokens: number; modelCalls: number; toolCalls: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The scripted agent model: "calculate <expr>" calls the calculator, "search: <query>" calls
 * kb_search; once a tool result is in the conversation it answers with that result. Goals with
 * "slowly" wait 300 ms per call, so a stream can watch the run while it works.
 */
const agentModel: Handler = async (req, res, n) => {
  const messages = req.body.messages ?? [];
  const goal = String(messages.find((m) => m.role === "user")?.content ?? "");
  if (/slowly/.test(goal)) await sleep(300);
  const result = [...messages].reverse().find((m) => m.role === "tool");
  if (result) return replyText(`Result seen: ${String(result.content).slice(0, 400)}`)(req, res, n);
  const calc = /calculate (.+)$/.exec(goal);
  if (calc) return replyToolCall("calculator", { expression: calc[1] })(req, res, n);
  const search = /search: (.+)$/.exec(goal);
  if (search) return replyToolCall("kb_search", { query: search[1] })(req, res, n);
  return replyText("Nothing to do.")(req, res, n);
};

let t: TestServer;
let upstream: OpenAiServer;
let museum: Museum;

before(async () => {
  upstream = await startOpenAiServer(routes({ chat: agentModel, embeddings: embedDeterministic(8) }));
  t = await startTestServer({ model: true, upstream });
  museum = await setUpMuseum(t);
});
after(async () => {
  await t?.close();
  await upstream?.close();
});

const errorOf = (r: { json<T>(): T }) => r.json<{ error: { code: string; message: string; hint: string } }>().error;

async function start(key: string, body: Record<string, unknown>): Promise<string> {
  const r = await t.client.post("/api/agent-runs", key, body);
  assert.equal(r.status, 202, r.text);
  return r.json<{ id: string }>().id;
}

/** The run once it has stopped running (completed, waiting, failed). */
async function settled(key: string, id: string): Promise<Run> {
  for (let i = 0; i < 200; i++) {
    const r = await t.client.get(`/api/agent-runs/${id}`, key);
    assert.equal(r.status, 200, r.text);
    const run = r.json<Run>();
    if (run.status !== "running") return run;
    await sleep(50);
  }
  throw new Error(`run ${id} did not stop`);
}

test("a run that calls kb_search and answers completes; its timeline shows the call, the result and the answer", async () => {
  const id = await start(museum.keys.guest!, { goal: "search: When do the lantern walks begin?", kbs: ["museum"], tools: ["kb_search"] });
  const run = await settled(museum.keys.guest!, id);
  assert.equal(run.status, "completed");
  assert.equal(run.owner, "guest");
  assert.match(run.answer ?? "", /^Result seen:/);
  const types = run.timeline.map((e) => e.type);
  for (const ty of ["run.start", "model.request", "model.response", "tool.call", "tool.result", "run.end"]) assert.ok(types.includes(ty), `${ty} in ${types.join(", ")}`);
  const call = run.timeline.find((e) => e.type === "tool.call")!;
  assert.equal(call.data.tool, "kb_search");
  assert.deepEqual(call.data.args, { query: "When do the lantern walks begin?" });
  const result = run.timeline.find((e) => e.type === "tool.result")!;
  assert.match(JSON.stringify(result.data.value), /Lantern walks/);
  assert.equal(run.usage.modelCalls, 2);
  // The run's tokens count against the key that started it.
  const usage = (await t.client.get("/api/usage", museum.keys.guest!)).json<{ inputTokens: number }[]>();
  assert.ok(usage[0]!.inputTokens >= run.usage.inputTokens && run.usage.inputTokens > 0);
});

test("a run's tokens count against its key, but only the key's HTTP requests count as requests", async () => {
  // A fresh key, so its usage row holds this test's requests alone.
  const made = (await t.client.post("/api/keys", t.adminKey, { user: "guest", scopes: ["read"] })).json<{ id: string; key: string }>();
  let requests = 0;
  const id = await start(made.key, { goal: "search: When do the lantern walks begin?", kbs: ["museum"], tools: ["kb_search"] });
  requests++;
  let run: Run;
  for (;;) {
    const r = await t.client.get(`/api/agent-runs/${id}`, made.key);
    requests++;
    run = r.json<Run>();
    if (run.status !== "running") break;
    await sleep(50);
  }
  assert.equal(run.status, "completed");
  assert.ok(run.usage.inputTokens > 0 && run.usage.outputTokens > 0);

  type Usage = { keyId: string; requests: number; inputTokens: number; outputTokens: number };
  const row = async (): Promise<Usage> => (await t.client.get("/api/usage", t.adminKey)).json<Usage[]>().find((u) => u.keyId === made.id)!;
  // A request is counted once its response has been sent: wait for the last one, then a little more.
  for (let i = 0; i < 100 && (await row()).requests < requests; i++) await sleep(20);
  await sleep(100);
  const usage = await row();
  assert.equal(usage.requests, requests, "the start and each read, and nothing for the run's model calls");
  assert.equal(usage.inputTokens, run.usage.inputTokens);
  assert.equal(usage.outputTokens, run.usage.outputTokens);
});

test("a calculator call that needs approval waits; approve with edited arguments resumes it to completion", async () => {
  const key = museum.keys.dana!;
  const id = await start(key, { goal: "calculate 6*7", tools: ["calculator"], approve: ["calculator"] });
  const waiting = await settled(key, id);
  assert.equal(waiting.status, "interrupted");
  assert.equal(waiting.pending.length, 1);
  const p = waiting.pending[0]!;
  assert.equal(p.tool, "calculator");
  assert.deepEqual(p.args, { expression: "6*7" });
  assert.match(p.reason, /needs approval/);
  assert.ok(waiting.timeline.some((e) => e.type === "approval.requested"));

  const bad = await t.client.post(`/api/agent-runs/${id}/approve`, key, { callId: p.callId, args: { expression: 42 } });
  assert.equal(bad.status, 400, "edited arguments are checked against the tool's schema");
  const ok = await t.client.post(`/api/agent-runs/${id}/approve`, key, { callId: p.callId, args: { expression: "6*8" }, comment: "use 8" });
  assert.equal(ok.status, 202, ok.text);
  const done = await settled(key, id);
  assert.equal(done.status, "completed");
  assert.match(done.answer ?? "", /48/);
  const decided = done.timeline.find((e) => e.type === "approval.decided")!;
  assert.equal(decided.actor, "dana");
  assert.deepEqual(decided.data.editedArgs, { expression: "6*8" });
  assert.equal(done.timeline.find((e) => e.type === "tool.call")!.data.approvedBy, "dana");
  const again = await t.client.post(`/api/agent-runs/${id}/approve`, key, { callId: p.callId });
  assert.equal(again.status, 409, "a decided call cannot be decided again");
});

test("reject tells the model, and the run completes without the call", async () => {
  const key = museum.keys.dana!;
  const id = await start(key, { goal: "calculate 2^10", approve: ["calculator"] });
  const waiting = await settled(key, id);
  assert.equal(waiting.status, "interrupted");
  const r = await t.client.post(`/api/agent-runs/${id}/reject`, key, { callId: waiting.pending[0]!.callId, comment: "not needed" });
  assert.equal(r.status, 202, r.text);
  const done = await settled(key, id);
  assert.equal(done.status, "completed");
  assert.match(done.answer ?? "", /rejected/);
  assert.ok(!done.timeline.some((e) => e.type === "tool.call"), "the calculator never ran");
  const last = upstream.requests.filter((q) => q.path === "/chat/completions").at(-1)!;
  assert.match(JSON.stringify(last.body.messages), /not needed/, "the model read the rejection and its reason");
});

test("the event stream delivers the run, each step as it happens, and the end", async () => {
  const key = museum.keys.omar!;
  const id = await start(key, { goal: "slowly calculate 3+4" });
  const r = await t.client.request("GET", `/api/agent-runs/${id}/events`, { key, headers: { accept: "text/event-stream" } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = parseSse(r.text);
  assert.equal(events[0]!.event, "run");
  const items = events.filter((e) => e.event === "item").map((e) => (e.data as { type: string }).type);
  assert.ok(items.includes("model.response") && items.includes("tool.result"), items.join(", "));
  assert.deepEqual(events.at(-1), { event: "end", data: { status: "completed" } });
  const final = events.at(-2)!.data as Run;
  assert.match(final.answer ?? "", /7/);
  // A stream of a run that is not running answers at once.
  const quick = parseSse((await t.client.request("GET", `/api/agent-runs/${id}/events`, { key })).text);
  assert.deepEqual(quick.map((e) => e.event), ["run", "run", "end"]);
});

test("another user's run is 404 on every route and missing from their list; admins see it without its retrieved text", async () => {
  const owner = museum.keys.dana!;
  const id = await start(owner, { goal: "calculate 1+1", approve: ["calculator"] });
  const waiting = await settled(owner, id);
  const other = museum.keys.omar!;
  const missing = "thr_0000000000000000";
  for (const run of [id, missing]) {
    const answers = [
      await t.client.get(`/api/agent-runs/${run}`, other),
      await t.client.get(`/api/agent-runs/${run}/events`, other),
      await t.client.post(`/api/agent-runs/${run}/approve`, other, {}),
      await t.client.post(`/api/agent-runs/${run}/reject`, other, { callId: waiting.pending[0]!.callId }),
      await t.client.post(`/api/agent-runs/${run}/resume`, other, {}),
    ];
    for (const a of answers) {
      assert.equal(a.status, 404, a.text);
      assert.equal(errorOf(a).message, `there is no agent run ${run} of yours`);
    }
  }
  const list = (await t.client.get("/api/agent-runs", other)).json<Run[]>();
  assert.ok(!list.some((r) => r.id === id));
  assert.ok(list.every((r) => r.owner === "omar"));
  const all = (await t.client.get("/api/agent-runs", t.adminKey)).json<Run[]>();
  assert.ok(all.some((r) => r.id === id), "admins see every run");
  const seen = (await t.client.get(`/api/agent-runs/${id}`, t.adminKey)).json<Run>();
  assert.ok(seen.timeline.filter((e) => e.type === "model.response").every((e) => e.data.text === undefined), "an admin does not see another user's model texts");
  assert.equal((await t.client.post(`/api/agent-runs/${id}/reject`, owner, { callId: waiting.pending[0]!.callId })).status, 202);
  await settled(owner, id);
});

test("kb_search in a run never returns, nor shows the model, a document its user may not read", async () => {
  const before = upstream.requests.length;
  const id = await start(museum.keys.guest!, { goal: "search: Who keeps the vault combination?", kbs: ["museum"], tools: ["kb_search"] });
  const run = await settled(museum.keys.guest!, id);
  assert.equal(run.status, "completed");
  const erin = museum.docs.find((d) => d.file === "erin-note.md")!;
  const seenByModel = upstream.requests.slice(before).map((q) => q.rawBody).join("\n");
  assert.ok(seenByModel.includes("kb_search"), "the model was called with the tool");
  for (const marker of [...erin.markers, erin.docId!]) {
    assert.ok(!seenByModel.includes(marker), `the model never saw ${marker}`);
    assert.ok(!JSON.stringify(run).includes(marker), `the run never shows ${marker}`);
  }
  // mallory belongs to the right groups but is not a member of the base: she cannot name it.
  const r = await t.client.post("/api/agent-runs", museum.keys.mallory!, { goal: "search: vault", kbs: ["museum"] });
  assert.equal(r.status, 404);
});

test("bad input is a 400 naming the field; no served model is a clear error with a hint", async () => {
  const key = museum.keys.dana!;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ goal: "x", tools: ["web_search"] }, /tools/],
    [{ goal: "x", tools: ["shell"] }, /tools/],
    [{ goal: "x", tools: ["calculator"], approve: ["http_get"] }, /approve/],
    [{ goal: "x".repeat(4001) }, /goal/],
    [{ goal: "   " }, /goal/],
    [{ goal: "x", unknown: 1 }, /unknown/],
    [{ goal: "x", tools: ["calculator"], approve: ["kb_search"] }, /approve names kb_search/],
    [{ goal: "x", tools: ["kb_search"] }, /need knowledge bases/],
    [{ goal: "x", budget: { steps: 0 } }, /budget\.steps/],
  ];
  for (const [body, message] of cases) {
    const r = await t.client.post("/api/agent-runs", key, body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
    assert.equal(errorOf(r).code, "USAGE");
    assert.match(errorOf(r).message, message);
  }
  assert.equal((await t.client.get("/api/agent-runs/not-a-run", key)).status, 400);
  assert.equal((await t.client.post("/api/agent-runs", key, { goal: "x", model: "nope" })).status, 404);

  const bare = await startTestServer();
  try {
    const r = await bare.client.post("/api/agent-runs", bare.adminKey, { goal: "calculate 1+1" });
    assert.equal(r.status, 400);
    assert.match(errorOf(r).message, /no language model/);
    assert.match(errorOf(r).hint, /strata serve --model/);
  } finally {
    await bare.close();
  }
});

test("the routes are in /openapi.json with their scope", async () => {
  const doc = (await t.client.get("/openapi.json")).json<{ paths: Record<string, Record<string, { "x-strata-scope"?: string }>> }>();
  for (const [path, method] of [["/api/agent-runs", "post"], ["/api/agent-runs", "get"], ["/api/agent-runs/{id}", "get"], ["/api/agent-runs/{id}/events", "get"], ["/api/agent-runs/{id}/approve", "post"], ["/api/agent-runs/{id}/reject", "post"], ["/api/agent-runs/{id}/resume", "post"]] as const) {
    assert.equal(doc.paths[path]?.[method]?.["x-strata-scope"], "read", `${method} ${path}`);
  }
});
