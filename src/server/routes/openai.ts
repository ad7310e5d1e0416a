// The OpenAI-compatible API: /v1/models, /v1/chat/completions (JSON or SSE, tools,
// response_format) and /v1/embeddings, backed by the models the operator configured. A model id
// `strata-rag/<kb>` answers from that knowledge base with the caller's rights; its verified
// citations ride along in a `strata` field (of the response, or of the last streamed chunk).
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { HistoryTurn } from "../../knowledge/answer/prompt.js";
import type { GroundedAnswer } from "../../knowledge/answer/types.js";
import { estimateTokens } from "../../model/usage.js";
import type { ChatMessage, GenerateRequest, GenerateResult, JsonSchema, StreamEvent, ToolCall } from "../../model/types.js";
import { answerStateless } from "../answering.js";
import { spend, type ServerContext } from "../context.js";
import { ServerError, toApiError, openAiErrorBody } from "../errors.js";
import { RAG_PREFIX } from "../models.js";
import type { RouteTable } from "../route.js";
import { EventStream } from "../sse.js";

const textPart = z.object({ type: z.string(), text: z.string().optional() }).loose();
const toolCallSchema = z.object({ id: z.string(), type: z.literal("function"), function: z.object({ name: z.string(), arguments: z.string() }) }).loose();
const messageSchema = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCallSchema).optional(),
    tool_call_id: z.string().optional(),
  })
  .loose();
const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

const chatBody = z
  .object({
    model: z.string().min(1).max(200),
    messages: z.array(messageSchema).min(1).max(2000),
    stream: nullish(z.boolean()),
    stream_options: nullish(z.object({ include_usage: z.boolean().optional() }).loose()),
    temperature: nullish(z.number().min(0).max(2)),
    top_p: nullish(z.number().min(0).max(1)),
    max_tokens: nullish(z.number().int().min(1)),
    max_completion_tokens: nullish(z.number().int().min(1)),
    stop: nullish(z.union([z.string(), z.array(z.string()).max(4)])),
    seed: nullish(z.number().int()),
    n: nullish(z.literal(1)),
    tools: z
      .array(z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1).max(64), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional(), strict: nullish(z.boolean()) }).loose() }).loose())
      .max(128)
      .optional(),
    tool_choice: z.union([z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }).loose()]).optional(),
    response_format: z
      .union([
        z.object({ type: z.literal("text") }),
        z.object({ type: z.literal("json_object") }),
        z.object({ type: z.literal("json_schema"), json_schema: z.object({ name: z.string(), description: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional(), strict: nullish(z.boolean()) }).loose() }),
      ])
      .optional(),
    user: z.string().optional(),
  })
  .loose();
type ChatBody = z.output<typeof chatBody>;

const embeddingsBody = z
  .object({
    model: z.string().min(1).max(200),
    input: z.union([z.string().max(200_000), z.array(z.string().max(200_000)).min(1).max(2048)]),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().positive().optional(),
    user: z.string().optional(),
  })
  .loose();

function textOf(content: z.output<typeof messageSchema>["content"]): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p) => {
      if (p.type !== "text" || typeof p.text !== "string") throw new ServerError("USAGE", `message content of type "${p.type}" is not supported`, "send text content only");
      return p.text;
    })
    .join("");
}

function parseArguments(raw: string): Record<string, unknown> {
  try {
    const v = JSON.parse(raw) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function toChatMessages(messages: ChatBody["messages"]): ChatMessage[] {
  return messages.map((m): ChatMessage => {
    const content = textOf(m.content);
    if (m.role === "tool") {
      if (!m.tool_call_id) throw new ServerError("USAGE", "a tool message needs tool_call_id", "echo the id of the tool call it answers");
      return { role: "tool", content, toolCallId: m.tool_call_id, ...(m.name ? { name: m.name } : {}) };
    }
    if (m.role === "assistant" && m.tool_calls?.length) {
      const toolCalls: ToolCall[] = m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: parseArguments(c.function.arguments), rawArguments: c.function.arguments }));
      return { role: "assistant", content, toolCalls };
    }
    return { role: m.role === "developer" ? "system" : m.role, content };
  });
}

function generateRequest(b: ChatBody, signal: AbortSignal): GenerateRequest {
  const r: GenerateRequest = { messages: toChatMessages(b.messages), signal };
  if (b.tools?.length) r.tools = b.tools.map((t) => ({ name: t.function.name, ...(t.function.description ? { description: t.function.description } : {}), parameters: (t.function.parameters ?? { type: "object", properties: {} }) as JsonSchema }));
  if (b.tool_choice !== undefined) r.toolChoice = typeof b.tool_choice === "string" ? b.tool_choice : { name: b.tool_choice.function.name };
  const rf = b.response_format;
  if (rf?.type === "json_object") r.responseSchema = { type: "object" };
  if (rf?.type === "json_schema") {
    const schema = (rf.json_schema.schema ?? { type: "object" }) as JsonSchema;
    r.responseSchema = typeof schema.title === "string" ? schema : { title: rf.json_schema.name, ...schema };
  }
  if (b.temperature !== undefined && b.temperature !== null) r.temperature = b.temperature;
  if (b.top_p !== undefined && b.top_p !== null) r.topP = b.top_p;
  const max = b.max_completion_tokens ?? b.max_tokens;
  if (max !== undefined && max !== null) r.maxTokens = max;
  if (b.stop !== undefined && b.stop !== null) r.stop = typeof b.stop === "string" ? [b.stop] : b.stop;
  if (b.seed !== undefined && b.seed !== null) r.seed = b.seed;
  return r;
}

const wireToolCall = (c: ToolCall, index?: number) => ({ ...(index !== undefined ? { index } : {}), id: c.id, type: "function" as const, function: { name: c.name, arguments: c.rawArguments } });
const usageOf = (u: { inputTokens: number; outputTokens: number } | undefined) => ({ prompt_tokens: u?.inputTokens ?? 0, completion_tokens: u?.outputTokens ?? 0, total_tokens: (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0) });
const finishOf = (f: GenerateResult["finishReason"]): string => (f === "aborted" ? "stop" : f);

/** What a RAG answer adds to an OpenAI response. */
function strataField(a: Omit<GroundedAnswer, "trace">, kb: string) {
  return {
    kb,
    answer: a.answer,
    mode: a.mode,
    supported: a.supported,
    citations: a.citations,
    sentences: a.sentences,
    ...(a.traceId ? { traceId: a.traceId } : {}),
    ...(a.abstention ? { abstention: a.abstention } : {}),
    ...(a.model ? { model: a.model } : {}),
  };
}

/** The question (the last message, from the user) and the earlier user → assistant turns. */
function ragTurns(messages: ChatMessage[]): { question: string; history: HistoryTurn[] } {
  const last = messages[messages.length - 1];
  if (!last || last.role !== "user" || last.content.trim() === "") throw new ServerError("USAGE", "the last message must be the user's question", "end messages with {role: 'user', content: '<question>'}");
  const history: HistoryTurn[] = [];
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i]!;
    const next = messages[i + 1];
    if (m.role === "user" && next?.role === "assistant") history.push({ question: m.content, answer: next.content });
  }
  return { question: last.content, history };
}

export function registerOpenAiRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext, startedAt: number): void {
  const created = Math.floor(startedAt / 1000);
  const modelList = async (request: FastifyRequest) => {
    const caller = request.caller!;
    const ids = [...ctx.models.language.map((m) => m.id), ...(ctx.models.embedding ? [ctx.models.embedding.id] : []), ...ctx.kbs.listUsable(caller).map((k) => RAG_PREFIX + k.name)];
    return ids.map((id) => ({ id, object: "model" as const, created, owned_by: "strata" }));
  };
  const modelSchema = z.object({ id: z.string(), object: z.literal("model"), created: z.number(), owned_by: z.string() });

  routes.add(app, {
    method: "GET",
    url: "/v1/models",
    summary: "Models: the configured language and embedding models, and strata-rag/<kb> for each knowledge base the caller may use",
    tag: "openai",
    auth: "read",
    openai: true,
    response: z.object({ object: z.literal("list"), data: z.array(modelSchema) }),
    handler: async ({ raw }) => ({ object: "list", data: await modelList(raw) }),
  });

  routes.add(app, {
    method: "GET",
    url: "/v1/models/:model",
    summary: "One model (ids with a slash, like strata-rag/<kb>, URL-encoded)",
    tag: "openai",
    auth: "read",
    openai: true,
    params: z.object({ model: z.string().max(200) }),
    response: modelSchema,
    handler: async ({ raw, params }) => {
      const m = (await modelList(raw)).find((x) => x.id === params.model);
      if (!m) throw new ServerError("NOT_FOUND", `there is no model "${params.model.slice(0, 100)}" that you may use`, "list models with GET /v1/models");
      return m;
    },
  });

  routes.add(app, {
    method: "POST",
    url: "/v1/chat/completions",
    summary: "Chat completions (stream, tools, response_format); model strata-rag/<kb> answers from a knowledge base with citations in `strata`",
    tag: "openai",
    auth: "read",
    openai: true,
    body: chatBody,
    events: { data: "chat.completion.chunk objects, then [DONE]; errors as {error:{…}}" },
    handler: async ({ body, raw, signal }, reply) => {
      if (body.model.startsWith(RAG_PREFIX)) return ragCompletion(body, raw, reply, signal);
      const served = ctx.models.language.find((m) => m.id === body.model);
      if (!served) {
        throw new ServerError("NOT_FOUND", `there is no model "${body.model.slice(0, 100)}" that you may use`, "list models with GET /v1/models");
      }
      const request = generateRequest(body, signal);
      const id = `chatcmpl-${randomBytes(12).toString("hex")}`;
      const now = Math.floor(Date.now() / 1000);
      if (!body.stream) {
        const r = await served.model.generate(request);
        spend(raw, r.usage);
        return {
          id,
          object: "chat.completion",
          created: now,
          model: served.id,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: r.toolCalls.length > 0 && r.text === "" ? null : r.text, refusal: null, ...(r.toolCalls.length > 0 ? { tool_calls: r.toolCalls.map((c) => wireToolCall(c)) } : {}) },
              finish_reason: finishOf(r.finishReason),
              logprobs: null,
            },
          ],
          usage: usageOf(r.usage),
        };
      }
      // The first event is awaited before the stream opens, so an unreachable model is a plain error.
      const iterator = served.model.stream(request)[Symbol.asyncIterator]();
      let first = await iterator.next();
      const events = new EventStream(reply);
      const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
        events.data({ id, object: "chat.completion.chunk", created: now, model: served.id, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra });
      try {
        chunk({ role: "assistant", content: "" });
        let toolIndex = 0;
        let finished: GenerateResult | undefined;
        while (!first.done) {
          const e: StreamEvent = first.value;
          if (e.type === "text-delta") chunk({ content: e.text });
          else if (e.type === "tool-call") chunk({ tool_calls: [wireToolCall(e.call, toolIndex++)] });
          else finished = e.result;
          if (events.closed) break;
          first = await iterator.next();
        }
        if (finished) spend(raw, finished.usage);
        chunk({}, finished ? finishOf(finished.finishReason) : "stop");
        if (body.stream_options?.include_usage) events.data({ id, object: "chat.completion.chunk", created: now, model: served.id, choices: [], usage: usageOf(finished?.usage) });
        events.data("[DONE]");
      } catch (e) {
        const err = toApiError(e);
        if (!err.expected) raw.log.error({ err: e }, "chat completion failed mid-stream");
        events.data(openAiErrorBody(err));
      } finally {
        await iterator.return?.();
        events.end();
      }
      return reply;
    },
  });

  async function ragCompletion(body: ChatBody, raw: FastifyRequest, reply: FastifyReply, signal: AbortSignal): Promise<unknown> {
    const caller = raw.caller!;
    const kbName = body.model.slice(RAG_PREFIX.length);
    if (body.tools?.length || (body.response_format && body.response_format.type !== "text")) {
      throw new ServerError("USAGE", `${RAG_PREFIX}<kb> models answer in text with citations; tools and response_format are not supported`, "call a configured language model for tools or structured output");
    }
    const { question, history } = ragTurns(toChatMessages(body.messages));
    const a = await ctx.kbs.use(kbName, caller, (kb) =>
      answerStateless(kb, caller, ctx.models, question, history, {
        guardrails: ctx.guardrails,
        signal,
        temperature: body.temperature ?? undefined,
        seed: body.seed ?? undefined,
        maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      }),
    ).catch((e: unknown) => {
      if (e instanceof ServerError && e.code === "NOT_FOUND" && !ctx.kbs.listUsable(caller).some((k) => k.name === kbName)) {
        throw new ServerError("NOT_FOUND", `there is no model "${body.model.slice(0, 100)}" that you may use`, "list models with GET /v1/models");
      }
      throw e;
    });
    spend(raw, a.usage);
    const id = `chatcmpl-${randomBytes(12).toString("hex")}`;
    const now = Math.floor(Date.now() / 1000);
    const strata = strataField(a, kbName);
    if (!body.stream) {
      return {
        id,
        object: "chat.completion",
        created: now,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: a.answer, refusal: null }, finish_reason: "stop", logprobs: null }],
        usage: usageOf(a.usage),
        strata,
      };
    }
    // Streamed only after verification, so the streamed text is exactly the verified answer.
    const events = new EventStream(reply);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
      events.data({ id, object: "chat.completion.chunk", created: now, model: body.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra });
    chunk({ role: "assistant", content: "" });
    for (const piece of a.answer.match(/[\s\S]{1,64}(?=\s|$)|[\s\S]{1,64}/g) ?? []) chunk({ content: piece });
    chunk({}, "stop", { strata });
    if (body.stream_options?.include_usage) events.data({ id, object: "chat.completion.chunk", created: now, model: body.model, choices: [], usage: usageOf(a.usage) });
    events.data("[DONE]");
    events.end();
    return reply;
  }

  routes.add(app, {
    method: "POST",
    url: "/v1/embeddings",
    summary: "Embeddings from the configured embedding model",
    tag: "openai",
    auth: "read",
    openai: true,
    body: embeddingsBody,
    response: z.object({ object: z.literal("list"), data: z.array(z.object({ object: z.literal("embedding"), index: z.number(), embedding: z.union([z.array(z.number()), z.string()]) })), model: z.string(), usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }) }),
    handler: async ({ body, raw, signal }) => {
      const e = ctx.models.embedding;
      if (!e || e.id !== body.model) {
        throw new ServerError("NOT_FOUND", `there is no embedding model "${body.model.slice(0, 100)}"`, e ? `use ${e.id}` : "the server runs without an embedding model (strata serve --embed <ref>)");
      }
      if (body.dimensions !== undefined && body.dimensions !== e.model.dimensions) throw new ServerError("USAGE", `${e.id} makes ${e.model.dimensions}-dimensional vectors, not ${body.dimensions}`, "leave dimensions out");
      const texts = typeof body.input === "string" ? [body.input] : body.input;
      const vectors = await e.model.embed(texts, { signal });
      const tokens = texts.reduce((n, t) => n + estimateTokens(t), 0);
      spend(raw, { inputTokens: tokens, outputTokens: 0 });
      return {
        object: "list",
        data: vectors.map((v, index) => ({ object: "embedding", index, embedding: body.encoding_format === "base64" ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v) })),
        model: e.id,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  });
}
