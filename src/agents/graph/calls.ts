// What a node's tool calls and human gates return (the types shared by the node context, the
// approval gate and the agent loop).
import type { JsonValue } from "../types.js";

/** The outcome of one tool call, as a node (and the model) sees it. */
export interface ToolCallOutcome {
  callId: string;
  tool: string;
  ok: boolean;
  value?: JsonValue;
  error?: { code: string; message: string; hint: string };
  /** Set when a person rejected the call. */
  rejected?: { by: string; comment: string | null };
  /** What the model reads: the result (fenced when untrusted) or the error. */
  content: string;
  /** True when the result came from the journal (the call ran before, e.g. before a crash). */
  replayed: boolean;
}

export interface ApprovalDecision {
  approved: boolean;
  by: string;
  /** The payload as approved (edited when the person changed it). */
  payload: JsonValue;
  comment: string | null;
}

export interface ToolCallRequest {
  callId: string;
  name: string;
  args: unknown;
}
