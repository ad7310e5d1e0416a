import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { StrataError } from "../../../src/core/errors.js";
import { createOpenAiLanguageModel } from "../../../src/model/providers/openai/index.js";
import type { GenerateRequest, GenerateResult, StreamEvent } from "../../../src/model/types.js";
import { costOf } from "../../../src/model/usage.js";
import {
  breakStream,
  deadServerUrl,
  failTimes,
  hang,
  replyJson,
  replyRaw,
  replyText,
  replyToolCall,
  replyToolCalls,
  routes,
  sequence,
  startOpenAiServer,
  writeSse,
  type Handler,
  type OpenAiServer,
} from "../../helpers/openai-server.js";
import { isStrataError } from "../../helpers/errors.js";

const servers: OpenAiServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function serve(handler: Handler, apiKey?: string): Promise<OpenAiServer> {
  const s = await startOpenAiServer({ handler, apiKey });
  servers.push(s);
  return s;
}

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: "user", content }], ...extra });

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

function finishOf(events: StreamEvent[]): GenerateResult {
  const last = events.at(-1);
  assert.ok(last?.type === "finish", "the stream ends with a finish event");
  return last.result;
}

const rejectsWith = isStrataError;

/** The parts of a result that generate() and stream() must agree on (latency differs). */
const comparable = (r: GenerateResult) => ({ ...r, latencyMs: 0 });

const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 20 };

describe("OpenAI provider: generate", () => {
  it("sends the conversation and reads text, finish reason, usage and model", async () => {
    const s = await serve(replyText("Paris.", { model: "served-model" }));
    const model = await createOpenAiLanguageModel(s.ref("tiny"), { apiKey: "sk-test-1" });
    assert.equal(model.id, s.ref("tiny"));
    assert.equal(model.provider, "openai");
    const r = await model.generate(ask("Capital of France?", { temperature: 0, maxTokens: 8 }));
    assert.equal(r.text, "Paris.");
    assert.equal(r.finishReason, "stop");
    assert.deepEqual(r.toolCalls, []);
    assert.deepEqual(r.usage, { inputTokens: 7, outputTokens: 3 });
    assert.equal(r.model, "served-model");
    assert.ok(r.latencyMs >= 0);
    const req = s.requests[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/chat/completions");
    assert.equal(req.headers.authorization, "Bearer sk-test-1");
    assert.deepEqual(req.body, { model: "tiny", messages: [{ role: "user", content: "Capital of France?" }], temperature: 0, max_tokens: 8 });
  });

  it("sends no Authorization header without a key", async () => {
    const s = await serve(replyText("ok"));
    await (await createOpenAiLanguageModel(s.ref())).generate(ask("hi"));
    assert.equal(s.requests[0]!.headers.authorization, undefined);
  });

  it("reads tool calls, and sends the tool round trip back in the next request", async () => {
    const s = await serve(sequence(replyToolCall("weather", { city: "Paris" }, { id: "call_w" }), replyText("21 °C in Paris.")));
    const model = await createOpenAiLanguageModel(s.ref());
    const tools = [{ name: "weather", description: "Current weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
    const first = await model.generate(ask("Weather in Paris?", { tools, toolChoice: "auto" }));
    assert.equal(first.finishReason, "tool_calls");
    assert.deepEqual(first.toolCalls, [{ id: "call_w", name: "weather", arguments: { city: "Paris" }, rawArguments: '{"city":"Paris"}' }]);
    assert.equal(first.text, "");
    assert.deepEqual(s.requests[0]!.body.tools, [{ type: "function", function: { name: "weather", description: "Current weather", parameters: tools[0]!.parameters } }]);
    assert.equal(s.requests[0]!.body.tool_choice, "auto");

    const second = await model.generate({
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        { role: "tool", content: '{"temp":21}', toolCallId: "call_w", name: "weather" },
      ],
      tools,
    });
    assert.equal(second.text, "21 °C in Paris.");
    assert.deepEqual(s.requests[1]!.body.messages!.slice(1), [
      { role: "assistant", content: null, tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", content: '{"temp":21}', tool_call_id: "call_w" },
    ]);
  });

  it("maps finish reasons: length, and tool calls under a plain 'stop'", async () => {
    const s = await serve(routes({ chat: sequence(replyText("abc", { finishReason: "length" }), replyToolCall("f", {}, { finishReason: "stop" })) }));
    const model = await createOpenAiLanguageModel(s.ref());
    assert.equal((await model.generate(ask("x"))).finishReason, "length");
    assert.equal((await model.generate(ask("x"))).finishReason, "tool_calls");
  });

  it("estimates usage when the server reports none", async () => {
    const s = await serve(replyText("12345678", { usage: null }));
    const r = await (await createOpenAiLanguageModel(s.ref())).generate(ask("abcdefghijkl"));
    assert.deepEqual(r.usage, { inputTokens: 3, outputTokens: 2 }); // 12 chars / 4, 8 chars / 4
  });

  it("prices usage from the price table, by reference or by model name", async () => {
    const s = await serve(replyText("ok", { usage: { prompt_tokens: 1200, completion_tokens: 300 } }));
    const price = { inputPerMillion: 0.15, outputPerMillion: 0.6 };
    const byName = await (await createOpenAiLanguageModel(s.ref("gpt-4o-mini"), { prices: { "gpt-4o-mini": price } })).generate(ask("x"));
    assert.equal(byName.usage.costUsd, costOf({ inputTokens: 1200, outputTokens: 300 }, price));
    assert.ok(Math.abs(byName.usage.costUsd! - 0.00036) < 1e-12); // 1200·0.15/1e6 + 300·0.6/1e6
    const byRef = await (await createOpenAiLanguageModel(s.ref("m"), { prices: { [s.ref("m")]: { inputPerMillion: 1, outputPerMillion: 1 } } })).generate(ask("x"));
    assert.ok(Math.abs(byRef.usage.costUsd! - 0.0015) < 1e-12);
    const unpriced = await (await createOpenAiLanguageModel(s.ref("other"), { prices: { "gpt-4o-mini": price } })).generate(ask("x"));
    assert.equal(unpriced.usage.costUsd, undefined);
  });

  it("asks for json_schema output and returns the parsed JSON", async () => {
    const s = await serve(replyText('{"city":"Paris","population":2100000}'));
    const schema = { type: "object", properties: { city: { type: "string" }, population: { type: "integer" } }, required: ["city", "population"], additionalProperties: false };
    const r = await (await createOpenAiLanguageModel(s.ref())).generate(ask("Describe Paris", { responseSchema: schema }));
    assert.deepEqual(r.json, { city: "Paris", population: 2100000 });
    assert.deepEqual(s.requests[0]!.body.response_format, { type: "json_schema", json_schema: { name: "response", schema, strict: true } });
  });

  it("rejects an answer that is not valid JSON for a JSON-schema request", async () => {
    const s = await serve(replyText("The city is Paris."));
    const model = await createOpenAiLanguageModel(s.ref());
    await assert.rejects(model.generate(ask("x", { responseSchema: { type: "object" } })), rejectsWith("MODEL_OUTPUT_INVALID", /not valid JSON/, /The city is Paris/));
    await assert.rejects(collect(model.stream(ask("x", { responseSchema: { type: "object" } }))), rejectsWith("MODEL_OUTPUT_INVALID", /not valid JSON/));
  });

  it("rejects a body that is not JSON, or JSON that is not a completion", async () => {
    const s = await serve(sequence(replyRaw(200, "<html>hello</html>", "text/html"), replyJson(200, { choices: "nope" }), replyJson(200, { choices: [{ message: { content: 5 } }] })));
    const model = await createOpenAiLanguageModel(s.ref());
    await assert.rejects(model.generate(ask("x")), rejectsWith("MODEL_OUTPUT_INVALID", /not JSON/, /<html>/, /\/v1/));
    await assert.rejects(model.generate(ask("x")), rejectsWith("MODEL_OUTPUT_INVALID", /not a chat completion \(choices/));
    await assert.rejects(model.generate(ask("x")), rejectsWith("MODEL_OUTPUT_INVALID", /choices\.0\.message\.content/));
  });

  it("rejects tool-call arguments that are not JSON", async () => {
    const s = await serve(replyToolCall("f", "{not json"));
    await assert.rejects((await createOpenAiLanguageModel(s.ref())).generate(ask("x")), rejectsWith("MODEL_OUTPUT_INVALID", /tool "f"/, /not valid JSON/));
  });

  it("rejects a bad request before sending it", async () => {
    const s = await serve(replyText("x"));
    const model = await createOpenAiLanguageModel(s.ref());
    await assert.rejects(model.generate({ messages: [] }), rejectsWith("USAGE", /no messages/));
    assert.equal(s.requests.length, 0);
  });

  it("estimates countTokens as chars/4", async () => {
    const model = await createOpenAiLanguageModel("openai:http://127.0.0.1:9/v1#m");
    assert.equal(await model.countTokens("abcdefghi"), 3);
  });

  it("rejects references that are not openai: and bad options", async () => {
    await assert.rejects(createOpenAiLanguageModel("gguf:./x.gguf"), rejectsWith("USAGE", /not an openai: model reference/));
    await assert.rejects(createOpenAiLanguageModel("openai:http://127.0.0.1:1/v1"), rejectsWith("USAGE", /names no model/));
    await assert.rejects(createOpenAiLanguageModel("openai:http://h/v1#m", { timeoutMs: 0 }), rejectsWith("USAGE", /timeoutMs/));
    await assert.rejects(createOpenAiLanguageModel("openai:http://h/v1#m", { maxRetries: -1 }), rejectsWith("USAGE", /maxRetries/));
  });
});

describe("OpenAI provider: stream", () => {
  it("streams text deltas split at awkward byte boundaries and finishes with the full result", async () => {
    const text = "Héllo wörld — 😀 streaming across byte boundaries.";
    const s = await serve(replyText(text, { splitBytes: 5, chunkSize: 2 }));
    const events = await collect((await createOpenAiLanguageModel(s.ref())).stream(ask("hi")));
    const deltas = events.filter((e) => e.type === "text-delta");
    assert.ok(deltas.length > 5, "many deltas");
    assert.equal(deltas.map((e) => (e.type === "text-delta" ? e.text : "")).join(""), text);
    const r = finishOf(events);
    assert.equal(r.text, text);
    assert.deepEqual(r.usage, { inputTokens: 7, outputTokens: 3 });
    assert.equal(s.requests[0]!.body.stream, true);
    assert.deepEqual(s.requests[0]!.body.stream_options, { include_usage: true });
    assert.equal(s.requests[0]!.headers.accept, "text/event-stream");
  });

  it("assembles tool-call deltas by index and emits them before finish", async () => {
    const s = await serve(replyToolCalls([{ name: "weather", args: { city: "Paris" } }, { name: "time", args: { zone: "Europe/Paris" } }], { chunkSize: 4, splitBytes: 7 }));
    const events = await collect((await createOpenAiLanguageModel(s.ref())).stream(ask("x")));
    assert.deepEqual(events.map((e) => e.type), ["tool-call", "tool-call", "finish"]);
    const r = finishOf(events);
    assert.equal(r.finishReason, "tool_calls");
    assert.deepEqual(r.toolCalls.map((c) => [c.id, c.name, c.arguments]), [["call_1", "weather", { city: "Paris" }], ["call_2", "time", { zone: "Europe/Paris" }]]);
  });

  it("gives the same result through generate and stream for the same request", async () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
    const cases: Array<[string, Handler, GenerateRequest]> = [
      ["text", replyText("Bonjour, ça va? 😀", { splitBytes: 3 }), ask("Say hello", { temperature: 0.2, topK: 40, seed: 7, stop: ["END"] })],
      ["tool calls", replyToolCalls([{ name: "a", args: { n: 1 } }, { name: "b", args: { s: "é" } }], { splitBytes: 11 }), ask("x", { tools: [{ name: "a", parameters: {} }, { name: "b", parameters: {} }] })],
      ["json", replyText('{"answer":"42"}', { chunkSize: 1 }), ask("x", { responseSchema: schema })],
      ["no usage", replyText("estimate me", { usage: null }), ask("count this prompt")],
    ];
    for (const [name, handler, request] of cases) {
      const s = await serve(handler);
      const model = await createOpenAiLanguageModel(s.ref("same"), { prices: { same: { inputPerMillion: 3, outputPerMillion: 9 } } });
      const whole = await model.generate(request);
      const streamed = finishOf(await collect(model.stream(request)));
      assert.deepEqual(comparable(streamed), comparable(whole), name);
      // The two requests differ only in asking for a stream.
      const [g, st] = [s.requests[0]!.body, s.requests[1]!.body];
      assert.deepEqual({ ...st, stream: undefined, stream_options: undefined }, { ...g, stream: undefined, stream_options: undefined }, name);
    }
  });

  it("accepts a server that ignores stream:true and answers whole", async () => {
    const s = await serve((_req, res) => replyText("whole answer")({ ..._req, body: { ..._req.body, stream: false } }, res, 0));
    const events = await collect((await createOpenAiLanguageModel(s.ref())).stream(ask("x")));
    assert.deepEqual(events.map((e) => e.type), ["text-delta", "finish"]);
    assert.equal(finishOf(events).text, "whole answer");
  });

  it("fails clearly on a broken SSE event (invalid JSON in a data line), after the good deltas", async () => {
    const s = await serve(breakStream("Hello there", "invalid-json"));
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of (await createOpenAiLanguageModel(s.ref())).stream(ask("x"))) if (e.type === "text-delta") seen.push(e.text);
      })(),
      rejectsWith("MODEL_OUTPUT_INVALID", /broken event/, /invalid JSON in a data line/, /oops/),
    );
    assert.ok(seen.length > 0, "the deltas before the broken event were delivered");
  });

  it("fails clearly when the connection is cut mid-stream", async () => {
    const s = await serve(breakStream("Hello there", "cut"));
    await assert.rejects(collect((await createOpenAiLanguageModel(s.ref())).stream(ask("x"))), rejectsWith("MODEL_UNREACHABLE", /closed before the answer was complete/, /check its log/));
  });

  it("fails clearly when the stream ends without a finish reason or [DONE]", async () => {
    const s = await serve(async (_req, res) => writeSse(res, [`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] })}\n\n`]));
    await assert.rejects(collect((await createOpenAiLanguageModel(s.ref())).stream(ask("x"))), rejectsWith("MODEL_OUTPUT_INVALID", /ended after 1 events without finishing/));
  });

  it("reports an error event sent mid-stream as a server error", async () => {
    const s = await serve(async (_req, res) => writeSse(res, [`data: ${JSON.stringify({ error: { message: "CUDA out of memory" } })}\n\n`]));
    await assert.rejects(collect((await createOpenAiLanguageModel(s.ref())).stream(ask("x"))), rejectsWith("MODEL_SERVER_ERROR", /failed mid-stream: CUDA out of memory/));
  });
});

describe("OpenAI provider: HTTP failures", () => {
  it("401: a refused key is MODEL_AUTH with a hint to set STRATA_OPENAI_API_KEY", async () => {
    const s = await serve(replyText("ok"), "sk-right-key");
    await assert.rejects((await createOpenAiLanguageModel(s.ref(), { apiKey: "sk-wrong-key-98765" })).generate(ask("x")), rejectsWith("MODEL_AUTH", /HTTP 401/, /not accepted/, /STRATA_OPENAI_API_KEY/));
    await assert.rejects((await createOpenAiLanguageModel(s.ref())).generate(ask("x")), rejectsWith("MODEL_AUTH", /needs an API key/, /STRATA_OPENAI_API_KEY/));
    assert.equal(s.requests.length, 2, "a 401 is not retried");
    const ok = await (await createOpenAiLanguageModel(s.ref(), { apiKey: "sk-right-key" })).generate(ask("x"));
    assert.equal(ok.text, "ok");
  });

  it("403 is MODEL_AUTH too", async () => {
    const s = await serve(replyJson(403, { error: { message: "forbidden" } }));
    await assert.rejects((await createOpenAiLanguageModel(s.ref())).generate(ask("x")), rejectsWith("MODEL_AUTH", /HTTP 403/));
  });

  it("404: wrong base URL or model name, naming the URL", async () => {
    const s = await serve(replyJson(404, { error: { message: "model 'nope' not found" } }));
    const model = await createOpenAiLanguageModel(s.ref("nope"));
    await assert.rejects(model.generate(ask("x")), rejectsWith("MODEL_NOT_FOUND", new RegExp(`POST ${s.url}/chat/completions returned 404 for model "nope"`), /model 'nope' not found/, /base URL/, /models lists them/));
    assert.equal(s.requests.length, 1, "a 404 is not retried");
  });

  it("404 from a base URL missing /v1 (the server's router answers)", async () => {
    const s = await serve(replyText("x"));
    const base = s.url.replace(/\/v1$/, "/wrong");
    await assert.rejects((await createOpenAiLanguageModel(`openai:${base}#m`)).generate(ask("x")), rejectsWith("MODEL_NOT_FOUND", /\/wrong\/chat\/completions/));
  });

  it("400: passes on the server's own message, without retrying", async () => {
    const s = await serve(replyJson(400, { error: { message: "This model's maximum context length is 4096 tokens" } }));
    await assert.rejects((await createOpenAiLanguageModel(s.ref(), fast)).generate(ask("x")), rejectsWith("MODEL_BAD_REQUEST", /HTTP 400: This model's maximum context length is 4096 tokens/));
    assert.equal(s.requests.length, 1);
  });

  it("400 about the feature the request used: MODEL_UNSUPPORTED (tools, schemas); the same 400 without it stays MODEL_BAD_REQUEST", async () => {
    const lm = await createOpenAiLanguageModel((await serve(replyJson(400, { error: { message: "tools are not supported for this model" } }))).ref(), fast);
    assert.deepEqual([lm.specificationVersion, lm.capabilities?.tools], ["strata.language-model.v1", "maybe"]);
    const tools = [{ name: "f", description: "d", parameters: { type: "object" } }];
    await assert.rejects(lm.generate({ ...ask("x"), tools }), rejectsWith("MODEL_UNSUPPORTED", /tool calls are not supported by the server at .*tools are not supported for this model/));
    await assert.rejects(lm.generate(ask("x")), rejectsWith("MODEL_BAD_REQUEST"));
    const schemaLm = await createOpenAiLanguageModel((await serve(replyJson(400, { error: { message: "response_format json_schema is unsupported" } }))).ref(), fast);
    await assert.rejects(schemaLm.generate({ ...ask("x"), responseSchema: { type: "object" } }), rejectsWith("MODEL_UNSUPPORTED", /JSON-schema output/));
  });

  it("429 then success: retries, honouring Retry-After, and counts the attempts", async () => {
    const s = await serve(failTimes(2, 429, replyText("finally"), { retryAfter: "0.05" }));
    const log: string[] = [];
    const r = await (await createOpenAiLanguageModel(s.ref(), { ...fast, retryMaxDelayMs: 5000, maxRetries: 3, onLog: (l) => log.push(l) })).generate(ask("x"));
    assert.equal(r.text, "finally");
    assert.equal(s.requests.length, 3, "two failures, then the answer");
    assert.equal(log.length, 2);
    assert.match(log[0]!, /HTTP 429 .*retry 1 of 3 in 0\.1 s/); // Retry-After 0.05 s, not the 1 ms backoff
    assert.match(log[1]!, /retry 2 of 3/);
  });

  it("429 every time: MODEL_RATE_LIMITED after maxRetries + 1 attempts", async () => {
    const s = await serve(failTimes(100, 429, replyText("never")));
    await assert.rejects((await createOpenAiLanguageModel(s.ref(), { ...fast, maxRetries: 2 })).generate(ask("x")), rejectsWith("MODEL_RATE_LIMITED", /HTTP 429\) after 3 attempts/, /maxRetries/));
    assert.equal(s.requests.length, 3);
  });

  it("500 once then success; 500 every time is MODEL_SERVER_ERROR after the retries", async () => {
    const once = await serve(failTimes(1, 500, replyText("recovered")));
    assert.equal((await (await createOpenAiLanguageModel(once.ref(), fast)).generate(ask("x"))).text, "recovered");
    assert.equal(once.requests.length, 2);

    const always = await serve(failTimes(100, 500, replyText("never"), { message: "model crashed" }));
    await assert.rejects((await createOpenAiLanguageModel(always.ref(), { ...fast, maxRetries: 1 })).generate(ask("x")), rejectsWith("MODEL_SERVER_ERROR", /HTTP 500 after 2 attempts: model crashed/, /server's log/));
    assert.equal(always.requests.length, 2);
    await assert.rejects(collect((await createOpenAiLanguageModel(always.ref(), { ...fast, maxRetries: 0 })).stream(ask("x"))), rejectsWith("MODEL_SERVER_ERROR", /HTTP 500: model crashed/));
  });

  it("a server that is down: MODEL_UNREACHABLE naming the URL, retried, with a hint to start it", async () => {
    const url = await deadServerUrl();
    const log: string[] = [];
    const model = await createOpenAiLanguageModel(`openai:${url}#m`, { ...fast, maxRetries: 2, onLog: (l) => log.push(l) });
    await assert.rejects(model.generate(ask("x")), rejectsWith("MODEL_UNREACHABLE", new RegExp(`cannot connect to ${url}: connection refused \\(3 attempts\\)`), /start the model server/));
    assert.equal(log.length, 2);
    assert.match(log[0]!, /ECONNREFUSED/);
  });

  it("timeout: TIMEOUT naming the URL and the limit, not retried", async () => {
    const s = await serve(hang());
    const model = await createOpenAiLanguageModel(s.ref(), { ...fast, timeoutMs: 150, maxRetries: 2 });
    await assert.rejects(model.generate(ask("x")), rejectsWith("TIMEOUT", /no answer from POST .*\/chat\/completions within 150 ms/, /timeoutMs/));
    assert.equal(s.requests.length, 1);
  });

  it("timeout also covers a stream that stops sending", async () => {
    const s = await serve(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] })}\n\n`);
    });
    await assert.rejects(collect((await createOpenAiLanguageModel(s.ref(), { timeoutMs: 150 })).stream(ask("x"))), rejectsWith("TIMEOUT"));
  });

  it("abort: cancelling before or during the request gives ABORTED (mid-stream: the contract, openai/conformance.test.ts)", async () => {
    let arrived!: () => void;
    const s = await serve((req, res) => {
      arrived();
      if (req.body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] })}\n\n`);
      }
    });
    const model = await createOpenAiLanguageModel(s.ref());

    const pre = new AbortController();
    pre.abort();
    await assert.rejects(model.generate(ask("x", { signal: pre.signal })), rejectsWith("ABORTED"));
    assert.equal(s.requests.length, 0, "nothing sent once cancelled");

    const during = new AbortController();
    const got = new Promise<void>((r) => (arrived = r));
    const pending = model.generate(ask("x", { signal: during.signal }));
    await got;
    during.abort();
    await assert.rejects(pending, rejectsWith("ABORTED"));
  });

  it("never puts the API key in error messages, hints or logs", async () => {
    const key = "sk-live-SECRET-abcdef123456";
    const s = await serve(
      routes({
        chat: sequence(
          replyJson(400, { error: { message: `bad request from key ${key}` } }),
          // maxRetries 1: the 500 is sent twice
          replyJson(500, { error: { message: `internal: ${key}` } }),
          replyJson(500, { error: { message: `internal: ${key}` } }),
          replyJson(404, { error: { message: `no model for ${key}` } }),
          replyJson(401, { error: { message: `Incorrect API key provided: ${key.slice(0, 3)}…${key.slice(-4)}` } }),
        ),
      }),
    );
    const log: string[] = [];
    const model = await createOpenAiLanguageModel(s.ref(), { ...fast, apiKey: key, maxRetries: 1, onLog: (l) => log.push(l) });
    const errors: StrataError[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await model.generate(ask("x"));
      } catch (e) {
        assert.ok(e instanceof StrataError);
        errors.push(e);
      }
    }
    assert.deepEqual(errors.map((e) => e.code), ["MODEL_BAD_REQUEST", "MODEL_SERVER_ERROR", "MODEL_NOT_FOUND", "MODEL_AUTH"]);
    for (const text of [...errors.flatMap((e) => [e.message, e.hint]), ...log]) {
      assert.ok(!text.includes(key), `key leaked: ${text}`);
      assert.ok(!text.includes(key.slice(-4)), `part of the key leaked: ${text}`);
    }
    assert.match(errors[0]!.message, /bad request from key \*\*\*/, "the server's message is kept, the key masked");
  });

  it("joins paths before a base URL's query string, and keeps its values out of messages", async () => {
    const s = await serve(sequence(replyText("ok"), (req, res) => replyJson(404, { error: { message: `unknown path ${req.path}` } })(req, res, 0)));
    const model = await createOpenAiLanguageModel(`openai:${s.url}?api-version=SECRETQ#m`);
    assert.equal((await model.generate(ask("x"))).text, "ok");
    assert.equal(s.requests[0]!.path, "/chat/completions?api-version=SECRETQ");
    await assert.rejects(model.generate(ask("x")), (e: unknown) => {
      assert.ok(e instanceof StrataError && e.code === "MODEL_NOT_FOUND");
      assert.match(e.message, /unknown path \/chat\/completions\?api-version=\*\*\*/);
      assert.ok(!`${e.message} ${e.hint}`.includes("SECRETQ"), e.message);
      return true;
    });
  });
});
