// A GenerateRequest as the JSON body of POST /chat/completions.
import { StrataError } from "../../../core/errors.js";
import type { GenerateRequest, JsonSchema } from "../../types.js";
import { toWireMessages, toWireToolChoice, toWireTools } from "./messages.js";

/** OpenAI wants a schema name of letters, digits, '_' and '-' (at most 64): the schema's title when it fits. */
function schemaName(schema: JsonSchema): string {
  const title = typeof schema.title === "string" ? schema.title.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 64) : "";
  return title || "response";
}

export function buildChatBody(model: string, request: GenerateRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: toWireMessages(request.messages) };
  if (request.tools?.length) body.tools = toWireTools(request.tools);
  if (request.toolChoice !== undefined) body.tool_choice = toWireToolChoice(request.toolChoice, request.tools);
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.maxTokens !== undefined) {
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) throw new StrataError("USAGE", `maxTokens must be a whole number ≥ 1, got ${request.maxTokens}`, "pass a positive maxTokens or leave it unset");
    body.max_tokens = request.maxTokens;
  }
  if (request.stop?.length) body.stop = request.stop;
  // Not part of OpenAI's API (which rejects unknown fields), so sent only when asked for:
  // Ollama, vLLM and llama.cpp's server read top_k; vLLM names the penalty repetition_penalty,
  // llama.cpp repeat_penalty, and each ignores the other's name.
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.repetitionPenalty !== undefined) {
    body.repetition_penalty = request.repetitionPenalty;
    body.repeat_penalty = request.repetitionPenalty;
  }
  if (request.responseSchema) {
    body.response_format = { type: "json_schema", json_schema: { name: schemaName(request.responseSchema), schema: request.responseSchema, strict: true } };
  }
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}
