// `strata serve` driven by OpenAI's official `openai` npm client: the built CLI serves a scripted
// OpenAI-protocol upstream (a real HTTP server on 127.0.0.1) as model "scripted" and "embed-8";
// the client lists models, completes chats (plain, streamed with usage, with tools, with a JSON
// schema), embeds, asks the strata-rag model of a knowledge base for cited answers, and gets the
// client's own error classes for a wrong key, an unknown model and a base it may not use.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { tempDir } from "../helpers/paths.js";
import { deterministicVector, type OpenAiServer } from "../helpers/openai-server.js";
import { Client, fixture, startScriptedUpstream, uploadForm } from "../server/helpers.js";
import { startServe, type ServeProcess } from "../server/serve-process.js";

const ADMIN = "e2e-admin-key-0123456789abcdefghij";
let upstream: OpenAiServer;
let serve: ServeProcess;
let openai: OpenAI;
let outsiderKey: string;

before(async () => {
  upstream = await startScriptedUpstream();
  serve = await startServe(["--data", tempDir("strata-e2e-openai-"), "--model", `scripted=${upstream.ref("scripted")}`, "--embed", `embed-8=${upstream.ref("embed-8")}`], { STRATA_ADMIN_KEY: ADMIN });
  const http = new Client(serve.url);
  for (const [name, groups] of [["dana", ["research"]], ["omar", []]] as const) await http.post("/api/users", ADMIN, { name, groups });
  const dana = (await http.post("/api/keys", ADMIN, { user: "dana", scopes: ["read"] })).json<{ key: string }>().key;
  outsiderKey = (await http.post("/api/keys", ADMIN, { user: "omar", scopes: ["read"] })).json<{ key: string }>().key;
  assert.equal((await http.post("/api/kbs", ADMIN, { name: "museum", members: { users: [], groups: ["research"] } })).status, 201);
  for (const [file, acl] of [["public/museum-guide.md", ""], ["research/survey-plan.md", "research"]] as const) {
    const r = await http.request("POST", "/api/kbs/museum/documents", { key: ADMIN, form: uploadForm([{ name: file.split("/")[1]!, bytes: fixture(file) }], { acl_groups: acl }) });
    assert.equal(r.status, 200, r.text);
  }
  openai = new OpenAI({ apiKey: dana, baseURL: `${serve.url}/v1`, maxRetries: 0 });
});

after(async () => {
  await serve?.stop();
  await upstream?.close();
});

interface StrataField {
  kb: string;
  supported: boolean;
  citations: { docId: string; quote: string; start: number; end: number }[];
  traceId?: string;
}

test("models.list: the served models and strata-rag/<kb> for each base the key's user may use", async () => {
  const ids: string[] = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ["scripted", "embed-8", "strata-rag/museum"]);
  const one = await openai.models.retrieve("strata-rag/museum");
  assert.equal(one.id, "strata-rag/museum");
});

test("chat.completions.create: a completion from the configured model, with usage", async () => {
  const c = await openai.chat.completions.create({ model: "scripted", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Say hello." }], temperature: 0, max_tokens: 20 });
  assert.equal(c.object, "chat.completion");
  assert.equal(c.model, "scripted");
  assert.equal(c.choices[0]!.message.content, "Hello from the scripted model.");
  assert.equal(c.choices[0]!.finish_reason, "stop");
  assert.deepEqual(c.usage, { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 });
  const sent = upstream.requests[upstream.requests.length - 1]!.body;
  assert.deepEqual(sent.messages?.map((m) => m.role), ["system", "user"]);
  assert.equal(sent.max_tokens, 20);
});

test("chat.completions.create with stream: deltas that add up to the answer, then usage", async () => {
  const stream = await openai.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "Say hello." }], stream: true, stream_options: { include_usage: true } });
  let text = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "Hello from the scripted model.");
  assert.equal(finish, "stop");
  assert.equal(usage?.completion_tokens, 5);
});

test("tools: the model's tool call comes back in OpenAI's shape, streamed or not", async () => {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const c = await openai.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "Weather in Oslo?" }], tools, tool_choice: "auto" });
  const call = c.choices[0]!.message.tool_calls?.[0];
  assert.equal(c.choices[0]!.finish_reason, "tool_calls");
  assert.ok(call && call.type === "function");
  assert.equal(call.function.name, "get_weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Oslo" });
  const sent = upstream.requests[upstream.requests.length - 1]!.body;
  assert.equal(sent.tools?.[0]?.function.name, "get_weather");

  // The answer to the tool call goes back as a tool message.
  const follow = await openai.chat.completions.create({
    model: "scripted",
    messages: [{ role: "user", content: "Weather in Oslo?" }, { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: call.function }] }, { role: "tool", tool_call_id: call.id, content: "sunny" }],
  });
  assert.equal(follow.choices[0]!.message.content, "Hello from the scripted model.");
  const roles = upstream.requests[upstream.requests.length - 1]!.body.messages?.map((m) => m.role);
  assert.deepEqual(roles, ["user", "assistant", "tool"]);

  const stream = await openai.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "Weather?" }], tools, stream: true });
  let name = "";
  let args = "";
  for await (const chunk of stream) {
    for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
      name += tc.function?.name ?? "";
      args += tc.function?.arguments ?? "";
    }
  }
  assert.equal(name, "get_weather");
  assert.deepEqual(JSON.parse(args), { city: "Oslo" });
});

test("response_format json_schema: the schema goes upstream and the JSON comes back", async () => {
  const c = await openai.chat.completions.create({
    model: "scripted",
    messages: [{ role: "user", content: "Answer in JSON." }],
    response_format: { type: "json_schema", json_schema: { name: "answer", strict: true, schema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false } } },
  });
  assert.deepEqual(JSON.parse(c.choices[0]!.message.content ?? ""), { answer: "ok" });
  const sent = upstream.requests[upstream.requests.length - 1]!.body.response_format;
  assert.equal(sent?.type, "json_schema");
  assert.deepEqual((sent?.json_schema?.schema as { required: string[] }).required, ["answer"]);
});

test("embeddings.create: the configured embedding model's vectors (base64 by default in the client, and float)", async () => {
  const e = await openai.embeddings.create({ model: "embed-8", input: ["harbour", "lighthouse"] });
  assert.equal(e.data.length, 2);
  const expected = deterministicVector("lighthouse", 8);
  e.data[1]!.embedding.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-6));
  const f = await openai.embeddings.create({ model: "embed-8", input: "harbour", encoding_format: "float" });
  assert.equal(f.data[0]!.embedding.length, 8);
  assert.ok(f.usage.prompt_tokens > 0);
});

test("strata-rag/<kb>: a cited answer from the base with the caller's rights, in `strata` (response and last streamed chunk)", async () => {
  const c = await openai.chat.completions.create({ model: "strata-rag/museum", messages: [{ role: "user", content: "What is the sonar sled of the wreck survey called?" }] });
  const strata = (c as unknown as { strata: StrataField }).strata;
  assert.equal(strata.kb, "museum");
  assert.equal(strata.supported, true);
  assert.match(c.choices[0]!.message.content ?? "", /Kestrel/);
  assert.match(strata.citations[0]!.quote, /Kestrel/);
  assert.match(strata.traceId ?? "", /^trc_/);

  const stream = await openai.chat.completions.create({ model: "strata-rag/museum", messages: [{ role: "user", content: "How much does a standard admission cost?" }], stream: true });
  let text = "";
  let last: StrataField | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    const s = (chunk as unknown as { strata?: StrataField }).strata;
    if (s) last = s;
  }
  assert.match(text, /9 pounds/);
  assert.ok(last && last.citations.length > 0);
});

test("errors are the client's own classes: wrong key 401, unknown model 404, a base the user may not use 404", async () => {
  const wrong = new OpenAI({ apiKey: "strata_0123456789abcdef_" + "C".repeat(43), baseURL: `${serve.url}/v1`, maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  await assert.rejects(openai.chat.completions.create({ model: "gpt-nonexistent", messages: [{ role: "user", content: "hi" }] }), (e: unknown) => e instanceof OpenAI.NotFoundError && /no model/.test(e.message));
  const outsider = new OpenAI({ apiKey: outsiderKey, baseURL: `${serve.url}/v1`, maxRetries: 0 });
  await assert.rejects(outsider.chat.completions.create({ model: "strata-rag/museum", messages: [{ role: "user", content: "Kestrel?" }] }), (e: unknown) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(openai.chat.completions.create({ model: "scripted", messages: [] }), (e: unknown) => e instanceof OpenAI.BadRequestError);
  assert.ok(!serve.stderr().includes(ADMIN), "the admin key is not in the logs");
});
