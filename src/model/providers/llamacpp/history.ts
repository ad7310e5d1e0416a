// Our chat messages → node-llama-cpp's chat history. node-llama-cpp keeps a tool call and its result
// together inside the model's turn, so each "tool" message is folded into the assistant call it answers.
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import { StrataError } from "../../../core/errors.js";
import type { ChatMessage } from "../../types.js";

export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  if (messages.length === 0) throw new StrataError("USAGE", "the request has no messages", "send at least one user message");
  const history: ChatHistoryItem[] = [];
  const openCalls = new Map<string, ChatModelFunctionCall>();
  messages.forEach((m, i) => {
    if (typeof m.content !== "string") throw new StrataError("USAGE", `message ${i} (${m.role}) has no text content`, "content must be a string (use \"\" for none)");
    switch (m.role) {
      case "system":
        history.push({ type: "system", text: m.content });
        return;
      case "user":
        history.push({ type: "user", text: m.content });
        return;
      case "assistant": {
        const item: ChatModelResponse = { type: "model", response: m.content ? [m.content] : [] };
        for (const call of m.toolCalls ?? []) {
          const fc: ChatModelFunctionCall = { type: "functionCall", name: call.name, params: call.arguments, result: undefined };
          openCalls.set(call.id, fc);
          item.response.push(fc);
        }
        history.push(item);
        return;
      }
      case "tool": {
        const fc = m.toolCallId === undefined ? undefined : openCalls.get(m.toolCallId);
        if (!fc) {
          throw new StrataError("USAGE", `message ${i} is a tool result for call "${m.toolCallId ?? "(no id)"}", which no earlier assistant message made`, "set toolCallId to the id of the assistant's tool call it answers");
        }
        fc.result = parseResult(m.content);
        openCalls.delete(m.toolCallId!);
        return;
      }
      default:
        throw new StrataError("USAGE", `message ${i} has unknown role "${String((m as { role: unknown }).role)}"`, "roles are system, user, assistant and tool");
    }
  });
  if (openCalls.size > 0) {
    const [id, fc] = [...openCalls.entries()][0]!;
    throw new StrataError("USAGE", `the assistant's call to ${fc.name} (id "${id}") has no tool message with its result`, "add a tool message answering every tool call before asking the model again");
  }
  return history;
}

// A result that is JSON is shown to the model as JSON, anything else as the text it is.
function parseResult(content: string): unknown {
  const t = content.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return content;
    }
  }
  return content;
}
