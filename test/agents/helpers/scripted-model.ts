// A deterministic LanguageModel for tests of the agent runtime: each generate() call takes the next
// step of a script (a reply, a tool call, an error), or asks a function that sees the request. The
// runtime — loop, graph, checkpoints, approvals — is what is under test, not the model.
import { StrataError } from "../../../src/core/errors.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamEvent, ToolCall } from "../../../src/model/types.js";

export interface ScriptStep {
  text?: string;
  calls?: Array<{ name: string; args: Record<string, unknown>; id?: string }>;
  json?: unknown;
  usage?: { inputTokens: number; outputTokens: number; costUsd?: number };
  /** Throw this instead of answering. */
  error?: StrataError;
}

export type ScriptEntry = ScriptStep | ((request: GenerateRequest, n: number) => ScriptStep);

export interface ScriptedModel extends LanguageModel {
  readonly requests: GenerateRequest[];
}

export function scriptedModel(script: ScriptEntry[] | ((request: GenerateRequest, n: number) => ScriptStep), opts: { id?: string } = {}): ScriptedModel {
  const requests: GenerateRequest[] = [];
  let n = 0;
  const generate = async (request: GenerateRequest): Promise<GenerateResult> => {
    requests.push(structuredClone({ ...request, signal: undefined }));
    const i = n++;
    const entry = typeof script === "function" ? script : script[i];
    if (entry === undefined) throw new StrataError("INTERNAL", `scripted model: no step ${i + 1} (the script has ${(script as ScriptEntry[]).length})`, "extend the test's script");
    const step = typeof entry === "function" ? entry(request, i) : entry;
    if (step.error) throw step.error;
    const toolCalls: ToolCall[] = (step.calls ?? []).map((c, j) => ({ id: c.id ?? `call_${i + 1}_${j + 1}`, name: c.name, arguments: c.args, rawArguments: JSON.stringify(c.args) }));
    const text = step.text ?? (step.json !== undefined ? JSON.stringify(step.json) : "");
    return {
      text,
      toolCalls,
      finishReason: toolCalls.length ? "tool_calls" : "stop",
      usage: step.usage ?? { inputTokens: 10, outputTokens: 5 },
      model: opts.id ?? "scripted",
      json: request.responseSchema ? (step.json ?? safeJson(text)) : undefined,
      latencyMs: 0,
    };
  };
  return {
    id: opts.id ?? "scripted",
    provider: "scripted",
    contextLength: 8192,
    requests,
    generate,
    async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
      const result = await generate(request);
      if (result.text) yield { type: "text-delta", text: result.text };
      for (const call of result.toolCalls) yield { type: "tool-call", call };
      yield { type: "finish", result };
    },
    countTokens: async (text: string) => Math.ceil(text.length / 4),
    close: async () => undefined,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
