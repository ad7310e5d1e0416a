// The LanguageModel contract, written once and run against every provider (Hono runs one router
// suite against each of its routers the same way): each provider's conformance.test.ts calls
// `languageModelConformance` with a factory for a tiny real model of that provider. What a
// provider does beyond the contract (tools on llama.cpp, sliding windows on the builtin engine,
// HTTP failures on the OpenAI client) stays in that provider's own tests.
//
// The contract (src/model/types.ts, capabilities.ts):
// - it declares contract v1 and its capabilities; what it declares unsupported is refused with
//   MODEL_UNSUPPORTED, what it declares supported works;
// - generate equals stream (greedy): the deltas add up to the text, one finish event comes last
//   with the same result;
// - a stop string ends the text right before it (also when streamed), with finish "stop";
// - an abort mid-stream ends the stream with finish "aborted" and the text so far; an aborted
//   signal up front rejects with ABORTED;
// - a consumer that stops reading frees the model for the next request;
// - concurrent requests run one at a time: each gives what it gives alone;
// - close ends a running stream with finish "aborted", later calls are USAGE errors, a second close
//   is harmless.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LANGUAGE_MODEL_SPEC } from "../../src/model/capabilities.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamEvent, Support, ToolDefinition } from "../../src/model/types.js";
import { isStrataError } from "../helpers/errors.js";

export interface ConformanceSubject {
  /** The model under test, shared by the tests that leave it open (closed after the suite). */
  model: LanguageModel;
  /** A fresh instance of the same model, for the close tests (they close it). */
  another(): Promise<LanguageModel>;
  /** Chat prompts this model answers at some length (three; the first is the main one). */
  prompts: [string, string, string];
  /** Releases what the factory set up besides the model (servers, folders). */
  dispose?(): Promise<void>;
}

/** A request long enough that an abort or a close lands in the middle of it. */
const LONG = 100;
/** Each test's limit: a model that is never freed shows up as a timeout here, not a hung run. */
const LIMIT = { timeout: 60_000 };

const chat = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: "user", content }], temperature: 0, ...extra });

interface Collected {
  deltas: string[];
  events: StreamEvent[];
  finish: GenerateResult;
}

async function collect(stream: AsyncIterable<StreamEvent>, onDelta?: (n: number) => void): Promise<Collected> {
  const deltas: string[] = [];
  const events: StreamEvent[] = [];
  for await (const e of stream) {
    events.push(e);
    if (e.type === "text-delta") {
      deltas.push(e.text);
      onDelta?.(deltas.length);
    }
  }
  const last = events.at(-1);
  assert.ok(last?.type === "finish", `the stream ends with a finish event (got ${last?.type})`);
  assert.equal(events.filter((e) => e.type === "finish").length, 1, "exactly one finish event");
  return { deltas, events, finish: last.result };
}

/** The parts of a result that generate and stream must agree on (not latency). */
const comparable = (r: GenerateResult) => ({ text: r.text, toolCalls: r.toolCalls, finishReason: r.finishReason, usage: r.usage, model: r.model, json: r.json });

/** A model may end a byte sequence mid-character right before a stop: that partial character is held back. */
const trimPartial = (x: string): string => x.replace(/\uFFFD+$/, "");

const SUPPORT: Support[] = [true, false, "maybe"];
const TOOL: ToolDefinition = { name: "get_time", description: "The time now", parameters: { type: "object", properties: { utc: { type: "boolean" } }, required: ["utc"] } };
const SCHEMA = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };

/** Registers the contract's tests for one provider. */
export function languageModelConformance(name: string, setup: () => Promise<ConformanceSubject>): void {
  describe(`LanguageModel contract: ${name}`, () => {
    let s: ConformanceSubject;
    let lm: LanguageModel;
    before(async () => {
      s = await setup();
      lm = s.model;
    });
    after(async () => {
      await s?.model.close();
      await s?.dispose?.();
    });

    test("declares contract v1 and its capabilities; a feature declared unsupported is MODEL_UNSUPPORTED, one declared supported works", LIMIT, async () => {
      assert.equal(lm.specificationVersion, LANGUAGE_MODEL_SPEC);
      assert.ok(lm.id.length > 0 && lm.provider.length > 0);
      if (lm.contextLength !== undefined) assert.ok(Number.isInteger(lm.contextLength) && lm.contextLength > 0, String(lm.contextLength));
      const caps = lm.capabilities;
      assert.ok(caps, "capabilities are declared");
      for (const key of ["tools", "jsonSchema", "streaming", "logprobs"] as const) assert.ok(SUPPORT.includes(caps[key]), `${key}: ${String(caps[key])}`);
      assert.equal(caps.logprobs, false, "contract v1's results carry no logprobs");

      const tools = lm.generate(chat(s.prompts[0], { tools: [TOOL], toolChoice: "required", maxTokens: 60, temperature: 0.8, seed: 1 }));
      if (caps.tools === false) await assert.rejects(tools, isStrataError("MODEL_UNSUPPORTED", /tool calls are not supported/));
      else {
        const r = await tools.catch((e: unknown) => {
          assert.equal(caps.tools, "maybe", `declared tools: ${String(e)}`);
          return isStrataError("MODEL_UNSUPPORTED", /tool calls/)(e) && undefined;
        });
        if (r) {
          assert.equal(r.finishReason, "tool_calls");
          assert.ok(r.toolCalls.length >= 1 && r.toolCalls.every((c) => c.name === TOOL.name && typeof c.arguments.utc === "boolean"), JSON.stringify(r.toolCalls));
        }
      }
      const json = lm.generate(chat(s.prompts[0], { responseSchema: SCHEMA, maxTokens: 60, temperature: 0.8, seed: 1 }));
      if (caps.jsonSchema === false) await assert.rejects(json, isStrataError("MODEL_UNSUPPORTED", /JSON-schema output/));
      else {
        const r = await json.catch((e: unknown) => {
          assert.equal(caps.jsonSchema, "maybe", `declared jsonSchema: ${String(e)}`);
          return isStrataError("MODEL_UNSUPPORTED", /JSON-schema/)(e) && undefined;
        });
        if (r) {
          assert.equal(r.finishReason, "stop");
          assert.deepEqual(r.json, JSON.parse(r.text));
          assert.equal(typeof (r.json as { ok: unknown }).ok, "boolean");
        }
      }
      if (caps.streaming === true) {
        const { deltas } = await collect(lm.stream(chat(s.prompts[0], { maxTokens: 16 })));
        assert.ok(deltas.length > 1, `declared streaming: the text arrives in pieces (${deltas.length})`);
      }
    });

    test("generate equals stream (greedy): the deltas add up to the text, and one finish event comes last with the same result", LIMIT, async () => {
      for (const prompt of s.prompts) {
        const request = chat(prompt, { maxTokens: 24 });
        const whole = await lm.generate(request);
        const again = await lm.generate(request);
        const streamed = await collect(lm.stream(request));
        assert.equal(whole.text, again.text, "greedy is deterministic");
        assert.ok(whole.text.length > 0, `${prompt}: an answer`);
        assert.ok(streamed.deltas.every((d) => d.length > 0), "no empty deltas");
        assert.equal(streamed.deltas.join(""), streamed.finish.text);
        assert.deepEqual(comparable(streamed.finish), comparable(whole));
        assert.ok(whole.usage.inputTokens > 0);
        assert.ok(whole.usage.outputTokens >= 1 && whole.usage.outputTokens <= 24, JSON.stringify(whole.usage));
        if (whole.finishReason === "length") assert.equal(whole.usage.outputTokens, 24, "a length finish used every token");
        else assert.equal(whole.finishReason, "stop");
        assert.deepEqual(whole.toolCalls, []);
      }
    });

    test("a stop string ends the text right before it, streamed too, with finish 'stop'", LIMIT, async () => {
      const free = await lm.generate(chat(s.prompts[0], { maxTokens: 40 }));
      // A printable two-character run from the middle whose first occurrence is there.
      const at = [...free.text].findIndex((_, i) => i >= 3 && /^[\x21-\x7e][\x20-\x7e]$/.test(free.text.slice(i, i + 2)) && free.text.indexOf(free.text.slice(i, i + 2)) === i);
      assert.ok(at > 0, `the free text has a printable two-character run: ${JSON.stringify(free.text)}`);
      const stop = free.text.slice(at, at + 2);
      const request = chat(s.prompts[0], { maxTokens: 40, stop: [stop, "zzzz-never"] });
      const cut = await lm.generate(request);
      assert.equal(cut.finishReason, "stop");
      assert.equal(trimPartial(cut.text), trimPartial(free.text.slice(0, at)));
      assert.ok(cut.usage.outputTokens <= free.usage.outputTokens);
      const streamed = await collect(lm.stream(request));
      assert.ok(!streamed.deltas.join("").includes(stop), "the stop string is never streamed");
      assert.deepEqual(comparable(streamed.finish), comparable(cut));
    });

    test("an abort mid-stream ends it with finish 'aborted' and the text so far; an aborted signal up front is ABORTED", LIMIT, async () => {
      const ac = new AbortController();
      const s1 = await collect(lm.stream(chat(s.prompts[2], { maxTokens: LONG, signal: ac.signal })), () => ac.abort());
      assert.equal(s1.finish.finishReason, "aborted");
      assert.equal(s1.finish.text, s1.deltas.join(""));
      assert.ok(s1.finish.usage.outputTokens < LONG, JSON.stringify(s1.finish.usage));
      await assert.rejects(lm.generate(chat(s.prompts[0], { signal: AbortSignal.abort() })), isStrataError("ABORTED"));
      await assert.rejects(collect(lm.stream(chat(s.prompts[0], { signal: AbortSignal.abort() }))), isStrataError("ABORTED"));
    });

    test("a consumer that stops reading frees the model: the next request answers as it does alone", LIMIT, async () => {
      const request = chat(s.prompts[1], { maxTokens: 8 });
      const alone = await lm.generate(request);
      for (let i = 0; i < 2; i++) {
        for await (const e of lm.stream(chat(s.prompts[2], { maxTokens: LONG }))) if (e.type === "text-delta") break;
        assert.equal((await lm.generate(request)).text, alone.text);
      }
    });

    test("concurrent requests run one at a time: each gives what it gives alone", LIMIT, async () => {
      const requests = s.prompts.map((p) => chat(p, { maxTokens: 10 }));
      const alone: string[] = [];
      for (const r of requests) alone.push((await lm.generate(r)).text);
      const together = await Promise.all([...requests.map(async (r) => (await lm.generate(r)).text), collect(lm.stream(requests[0]!)).then((c) => c.finish.text)]);
      assert.deepEqual(together, [...alone, alone[0]]);
    });

    test("close ends a running stream with finish 'aborted'; later calls are USAGE errors; closing twice is harmless", LIMIT, async () => {
      const m = await s.another();
      await m.generate(chat(s.prompts[0], { maxTokens: 1 }));
      let closing: Promise<void> | undefined;
      const running = await collect(m.stream(chat(s.prompts[2], { maxTokens: LONG })), () => (closing ??= m.close()));
      await closing;
      assert.equal(running.finish.finishReason, "aborted");
      assert.equal(running.finish.text, running.deltas.join(""));
      await assert.rejects(m.generate(chat(s.prompts[0])), isStrataError("USAGE", /closed/));
      await assert.rejects(collect(m.stream(chat(s.prompts[0]))), isStrataError("USAGE", /closed/));
      await m.close();
      assert.ok((await lm.generate(chat(s.prompts[0], { maxTokens: 2 }))).usage.outputTokens >= 1, "closing another instance leaves this one open");
    });
  });
}
