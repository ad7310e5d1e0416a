// The GenerateResult of a finished answer, built the same way whether it came whole (generate)
// or in pieces (stream): finish reason, usage (reported or estimated), cost, parsed JSON.
import { estimateTokens, priceFor, withCost } from "../../usage.js";
import type { FinishReason, GenerateRequest, GenerateResult, ToolCall } from "../../types.js";
import type { OpenAiConfig } from "./config.js";
import { parseJsonOutput } from "./json-output.js";

export function mapFinishReason(reason: string | null | undefined, toolCalls: number): FinishReason {
  switch (reason) {
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      // "stop", "eos" (some local servers), or none at all: a tool call still means tool_calls.
      return toolCalls > 0 ? "tool_calls" : "stop";
  }
}

/** Prompt size by the chars/4 rule, for servers that report no usage. */
export function estimateInputTokens(request: GenerateRequest): number {
  let n = 0;
  for (const m of request.messages) {
    n += estimateTokens(m.content);
    for (const c of m.toolCalls ?? []) n += estimateTokens(c.name + c.rawArguments);
  }
  if (request.tools?.length) n += estimateTokens(JSON.stringify(request.tools));
  return n;
}

export interface AnswerParts {
  text: string;
  toolCalls: ToolCall[];
  finishReason: string | null | undefined;
  usage: { prompt_tokens?: number | undefined; completion_tokens?: number | undefined } | null | undefined;
  model: string | null | undefined;
}

export function buildResult(cfg: OpenAiConfig, request: GenerateRequest, parts: AnswerParts, startedAt: number): GenerateResult {
  const finishReason = mapFinishReason(parts.finishReason, parts.toolCalls.length);
  const inputTokens = parts.usage?.prompt_tokens ?? estimateInputTokens(request);
  const outputTokens = parts.usage?.completion_tokens ?? estimateTokens(parts.text + parts.toolCalls.map((c) => c.name + c.rawArguments).join(""));
  const model = parts.model || cfg.model;
  const price = priceFor(cfg.prices, cfg.ref) ?? priceFor(cfg.prices, model);
  const result: GenerateResult = {
    text: parts.text,
    toolCalls: parts.toolCalls,
    finishReason,
    usage: withCost({ inputTokens, outputTokens }, price),
    model,
    latencyMs: performance.now() - startedAt,
  };
  // A tool call answers instead of the JSON, so there is nothing to parse then.
  if (request.responseSchema && parts.toolCalls.length === 0) result.json = parseJsonOutput(parts.text, request.responseSchema, finishReason);
  return result;
}
