import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildChatBody } from "../../../src/model/providers/openai/chat-request.js";
import { fromWireMessages, fromWireToolCall, toWireMessages } from "../../../src/model/providers/openai/messages.js";
import type { ChatMessage } from "../../../src/model/types.js";
import { isStrataError } from "../../helpers/errors.js";

const isCode = isStrataError;

const conversation: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Weather in Paris?" },
  { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: { city: "Paris" }, rawArguments: '{"city": "Paris"}' }] },
  { role: "tool", content: '{"temp": 21}', toolCallId: "call_1", name: "weather" },
  { role: "assistant", content: "21 °C." },
];

describe("message mapping", () => {
  it("maps Strata messages to the wire, keeping the model's exact argument text", () => {
    assert.deepEqual(toWireMessages(conversation), [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city": "Paris"}' } }] },
      { role: "tool", content: '{"temp": 21}', tool_call_id: "call_1" },
      { role: "assistant", content: "21 °C." },
    ]);
  });

  it("serialises arguments when a tool call has no raw text", () => {
    const wire = toWireMessages([{ role: "assistant", content: "x", toolCalls: [{ id: "c", name: "f", arguments: { a: 1 }, rawArguments: "" }] }]);
    assert.equal(wire[0]!.tool_calls![0]!.function.arguments, '{"a":1}');
    assert.equal(wire[0]!.content, "x");
  });

  it("round-trips through the wire format", () => {
    const back = fromWireMessages(JSON.parse(JSON.stringify(toWireMessages(conversation))));
    assert.deepEqual(back, [
      conversation[0],
      conversation[1],
      { role: "assistant", content: "", toolCalls: conversation[2]!.toolCalls },
      { role: "tool", content: '{"temp": 21}', toolCallId: "call_1" },
      conversation[4],
    ]);
  });

  it("reads clients' variants: text parts, developer role, object arguments, missing ids", () => {
    const msgs = fromWireMessages([
      { role: "developer", content: "rules" },
      { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
      { role: "assistant", content: null, tool_calls: [{ type: "function", function: { name: "f", arguments: { x: 1 } } }] },
    ]);
    assert.deepEqual(msgs[0], { role: "system", content: "rules" });
    assert.deepEqual(msgs[1], { role: "user", content: "ab" });
    assert.deepEqual(msgs[2]!.toolCalls, [{ id: "call_0", name: "f", arguments: { x: 1 }, rawArguments: '{"x":1}' }]);
  });

  it("rejects bad messages with USAGE naming the problem", () => {
    assert.throws(() => toWireMessages([]), isCode("USAGE", /no messages/));
    assert.throws(() => toWireMessages([{ role: "tool", content: "x" }]), isCode("USAGE", /message 0 .*toolCallId/));
    assert.throws(() => fromWireMessages([{ role: "robot", content: "x" }]), isCode("USAGE", /0\.role/));
    assert.throws(() => fromWireMessages("hello"), isCode("USAGE"));
  });

  it("rejects tool-call arguments that are not a JSON object with MODEL_OUTPUT_INVALID", () => {
    assert.throws(() => fromWireToolCall({ id: "c", function: { name: "f", arguments: "{city: Paris" } }, 0), isCode("MODEL_OUTPUT_INVALID", /tool "f".*not valid JSON/));
    assert.throws(() => fromWireToolCall({ id: "c", function: { name: "f", arguments: "[1,2]" } }, 0), isCode("MODEL_OUTPUT_INVALID", /not a JSON object/));
    assert.deepEqual(fromWireToolCall({ id: "c", function: { name: "f", arguments: "" } }, 0).arguments, {});
  });
});

describe("buildChatBody", () => {
  const messages: ChatMessage[] = [{ role: "user", content: "hi" }];

  it("sends only what was set, keeping 0 values", () => {
    assert.deepEqual(buildChatBody("m", { messages }, false), { model: "m", messages: [{ role: "user", content: "hi" }] });
    const body = buildChatBody("m", { messages, temperature: 0, topP: 0.9, seed: 0, maxTokens: 16, stop: ["\n"] }, false);
    assert.deepEqual(body, { model: "m", messages: [{ role: "user", content: "hi" }], temperature: 0, top_p: 0.9, seed: 0, max_tokens: 16, stop: ["\n"] });
    assert.ok(!("top_k" in body) && !("repetition_penalty" in body) && !("stream" in body));
  });

  it("adds top_k and both repetition-penalty spellings only when set", () => {
    const body = buildChatBody("m", { messages, topK: 40, repetitionPenalty: 1.1 }, false);
    assert.equal(body.top_k, 40);
    assert.equal(body.repetition_penalty, 1.1);
    assert.equal(body.repeat_penalty, 1.1);
  });

  it("maps tools, tool choice, response schema and streaming", () => {
    const tools = [{ name: "weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } } } }];
    const schema = { title: "City report!", type: "object", properties: { city: { type: "string" } } };
    const body = buildChatBody("m", { messages, tools, toolChoice: { name: "weather" }, responseSchema: schema }, true);
    assert.deepEqual(body.tools, [{ type: "function", function: { name: "weather", description: "Weather now", parameters: tools[0]!.parameters } }]);
    assert.deepEqual(body.tool_choice, { type: "function", function: { name: "weather" } });
    assert.deepEqual(body.response_format, { type: "json_schema", json_schema: { name: "City_report_", schema, strict: true } });
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(buildChatBody("m", { messages, toolChoice: "required", tools }, false).tool_choice, "required");
  });

  it("rejects a tool choice naming an unknown tool, and a bad maxTokens", () => {
    assert.throws(() => buildChatBody("m", { messages, toolChoice: { name: "nope" }, tools: [] }, false), isCode("USAGE", /"nope"/));
    assert.throws(() => buildChatBody("m", { messages, maxTokens: 0 }, false), isCode("USAGE", /maxTokens/));
    assert.throws(() => buildChatBody("m", { messages, maxTokens: 1.5 }, false), isCode("USAGE", /maxTokens/));
  });
});
