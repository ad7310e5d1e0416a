// Strata's chat messages, tools and tool calls to the wire format and back. The reverse direction
// (wire → Strata) serves both our client (tool calls in answers) and the OpenAI-compatible server.
import { StrataError } from "../../../core/errors.js";
import type { ChatMessage, GenerateRequest, ToolCall, ToolDefinition } from "../../types.js";
import { firstIssue, wireMessageSchema, type WireMessage, type WireResponseToolCall, type WireTool, type WireToolCall } from "./wire.js";
import { z } from "zod";

/** A tool call from its parts; the arguments must be a JSON object (empty text counts as {}). */
export function toolCallFromParts(id: string, name: string, rawArguments: string): ToolCall {
  if (rawArguments.trim() === "") return { id, name, arguments: {}, rawArguments };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawArguments);
  } catch (e) {
    throw new StrataError(
      "MODEL_OUTPUT_INVALID",
      `the model called tool "${name}" with arguments that are not valid JSON (${(e as Error).message}): ${JSON.stringify(rawArguments.slice(0, 80))}`,
      "retry, lower the temperature, or use a model that is better at tool calling",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new StrataError("MODEL_OUTPUT_INVALID", `the model called tool "${name}" with arguments that are not a JSON object: ${JSON.stringify(rawArguments.slice(0, 80))}`, "retry, or use a model that is better at tool calling");
  }
  return { id, name, arguments: parsed as Record<string, unknown>, rawArguments };
}

/** A tool call as a server returned it; servers that omit ids get stable ones by position. */
export function fromWireToolCall(call: WireResponseToolCall, index: number): ToolCall {
  const args = call.function.arguments;
  const raw = typeof args === "string" ? args : args ? JSON.stringify(args) : "";
  return toolCallFromParts(call.id || `call_${index}`, call.function.name, raw);
}

export function toWireToolCall(call: ToolCall): WireToolCall {
  // Prefer the model's exact text so a replayed conversation is byte-for-byte what it said.
  const args = call.rawArguments !== "" ? call.rawArguments : JSON.stringify(call.arguments);
  return { id: call.id, type: "function", function: { name: call.name, arguments: args } };
}

/** Strata messages → wire messages; a tool message must say which call it answers. */
export function toWireMessages(messages: ChatMessage[]): WireMessage[] {
  if (messages.length === 0) throw new StrataError("USAGE", "the request has no messages", "pass at least one message, e.g. { role: \"user\", content: \"Hello\" }");
  return messages.map((m, i): WireMessage => {
    if (m.role === "tool") {
      if (!m.toolCallId) throw new StrataError("USAGE", `message ${i} has role "tool" but no toolCallId`, "set toolCallId to the id of the tool call this message answers");
      return { role: "tool", content: m.content, tool_call_id: m.toolCallId };
    }
    if (m.role === "assistant" && m.toolCalls?.length) {
      return { role: "assistant", content: m.content === "" ? null : m.content, tool_calls: m.toolCalls.map(toWireToolCall) };
    }
    return { role: m.role, content: m.content };
  });
}

/** Wire messages (a client's request to our server) → Strata messages. */
export function fromWireMessages(input: unknown): ChatMessage[] {
  const parsed = z.array(wireMessageSchema).safeParse(input);
  if (!parsed.success) throw new StrataError("USAGE", `messages are not valid chat messages: ${firstIssue(parsed.error)}`, 'send [{ "role": "user", "content": "…" }, …]');
  return parsed.data.map((m): ChatMessage => {
    const content = typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => p.text ?? "").join("");
    const role = m.role === "developer" ? "system" : m.role;
    const out: ChatMessage = { role, content };
    if (m.tool_calls?.length) out.toolCalls = m.tool_calls.map(fromWireToolCall);
    if (m.tool_call_id) out.toolCallId = m.tool_call_id;
    if (m.name && role === "tool") out.name = m.name;
    return out;
  });
}

export function toWireTools(tools: ToolDefinition[]): WireTool[] {
  return tools.map((t) => ({
    type: "function",
    function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters },
  }));
}

export function toWireToolChoice(choice: NonNullable<GenerateRequest["toolChoice"]>, tools: ToolDefinition[] | undefined): string | { type: "function"; function: { name: string } } {
  if (typeof choice === "string") return choice;
  if (!tools?.some((t) => t.name === choice.name)) {
    throw new StrataError("USAGE", `toolChoice names tool "${choice.name}", which is not among the request's tools`, `add "${choice.name}" to tools or choose one of: ${(tools ?? []).map((t) => t.name).join(", ") || "(no tools)"}`);
  }
  return { type: "function", function: { name: choice.name } };
}
