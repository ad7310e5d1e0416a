// Puts a streamed answer back together: text deltas in order, tool calls from fragments keyed by
// their index (the id and name come in the first fragment, the arguments in many), and the finish
// reason, usage and model from whichever chunk carries them.
import type { ToolCall } from "../../types.js";
import { toolCallFromParts } from "./messages.js";
import type { AnswerParts } from "./chat-result.js";
import type { WireChunk } from "./wire.js";

interface PartialCall {
  id: string;
  name: string;
  args: string;
}

export class StreamAssembler {
  private text = "";
  private finishReason: string | undefined;
  private usage: AnswerParts["usage"];
  private model: string | undefined;
  private readonly calls = new Map<number, PartialCall>();
  private lastIndex = -1;

  /** Takes one chunk; returns the text it adds (possibly ""). */
  add(chunk: WireChunk): string {
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.usage = chunk.usage;
    let added = "";
    // We never ask for n > 1, so the first choice is the answer.
    const choice = chunk.choices?.[0];
    if (!choice) return added;
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const delta = choice.delta;
    if (delta?.content) {
      added = delta.content;
      this.text += added;
    }
    for (const part of delta?.tool_calls ?? []) {
      // Servers that omit the index start a new call with each new id and continue the last one otherwise.
      const index = part.index ?? (part.id && !this.hasId(part.id) ? this.calls.size : Math.max(this.lastIndex, 0));
      this.lastIndex = index;
      let call = this.calls.get(index);
      if (!call) {
        call = { id: "", name: "", args: "" };
        this.calls.set(index, call);
      }
      if (part.id && !call.id) call.id = part.id;
      if (part.function?.name && !call.name) call.name = part.function.name;
      if (part.function?.arguments) call.args += part.function.arguments;
    }
    return added;
  }

  private hasId(id: string): boolean {
    for (const c of this.calls.values()) if (c.id === id) return true;
    return false;
  }

  /** True once a chunk said why the answer ended. */
  get finished(): boolean {
    return this.finishReason !== undefined;
  }

  /** The assembled tool calls in index order; throws MODEL_OUTPUT_INVALID for arguments that are not JSON. */
  toolCalls(): ToolCall[] {
    return [...this.calls.entries()].sort(([a], [b]) => a - b).map(([index, c]) => toolCallFromParts(c.id || `call_${index}`, c.name, c.args));
  }

  parts(toolCalls: ToolCall[]): AnswerParts {
    return { text: this.text, toolCalls, finishReason: this.finishReason, usage: this.usage, model: this.model };
  }
}
