// The OpenAI chat-completions and embeddings wire format, as Zod schemas for what servers send us
// and plain types for what we send. Only the fields Strata uses are checked; the rest are ignored,
// so servers that add their own fields (Ollama, vLLM, llama.cpp) still pass.
import { z } from "zod";

export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface WireMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | null;
  tool_calls?: WireToolCall[];
  tool_call_id?: string;
}

export interface WireTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

const usage = z.object({
  prompt_tokens: z.number().int().nonnegative().optional(),
  completion_tokens: z.number().int().nonnegative().optional(),
});

// Some servers send arguments as an object instead of a JSON string; both are accepted.
const toolCall = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish() }),
});

export const chatCompletionSchema = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), tool_calls: z.array(toolCall).nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usage.nullish(),
});
export type WireCompletion = z.infer<typeof chatCompletionSchema>;
export type WireResponseToolCall = z.infer<typeof toolCall>;

export const chatChunkSchema = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().int().nonnegative().nullish(),
                  id: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usage.nullish(),
  // vLLM and others report a failure that happens mid-stream as an event carrying `error`.
  error: z.union([z.string(), z.object({ message: z.string() })]).nullish(),
});
export type WireChunk = z.infer<typeof chatChunkSchema>;

export const embeddingsSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative().nullish(), embedding: z.array(z.number()) })),
});

// Messages as a client sends them (for the server side of the protocol): content may be a string,
// null, or a list of text parts.
const contentPart = z.object({ type: z.string(), text: z.string().optional() });
export const wireMessageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  tool_calls: z.array(toolCall).nullish(),
  tool_call_id: z.string().nullish(),
  name: z.string().nullish(),
});
export type WireIncomingMessage = z.infer<typeof wireMessageSchema>;

/** "choices.0.message.content: expected string" — the first problem Zod found, for messages. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  return `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`;
}
