// Search and ask over one knowledge base, with the caller's rights inside the store's queries.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { SearchMode } from "../../knowledge/knowledge-base.js";
import { MAX_QUERY_CHARS } from "../../knowledge/limits.js";
import { askAs, checkAsk, searchAs } from "../answering.js";
import { spend, type ServerContext } from "../context.js";
import { toApiError } from "../errors.js";
import type { RouteTable } from "../route.js";
import { EventStream, wantsEventStream } from "../sse.js";
import { kbParam } from "./kbs.js";
import { citationSchema } from "../../knowledge/answer/citation.js";

const mode = z.enum(["lexical", "dense", "hybrid"] satisfies SearchMode[]).describe("lexical (BM25F), dense or hybrid (need the server's --embed model)");
const tags = z.array(z.string().max(100)).max(50).optional().describe("only documents with one of these tags");

const hitSchema = z.object({
  rank: z.number(),
  score: z.number(),
  docId: z.string(),
  source: z.string(),
  title: z.string(),
  chunkId: z.string(),
  headingPath: z.array(z.string()),
  page: z.number().nullable(),
  start: z.number(),
  end: z.number(),
  text: z.string(),
});

export const answerSchema = z.object({
  question: z.string(),
  answer: z.string(),
  mode: z.enum(["extractive", "generative"]),
  supported: z.boolean(),
  citations: z.array(citationSchema),
  sentences: z.array(z.object({ text: z.string(), citations: z.array(z.number()), support: z.number(), supported: z.boolean(), verdict: z.string().optional(), reason: z.string().optional() }).loose()),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number().optional(), estimated: z.boolean().optional() }).optional(),
  traceId: z.string().optional(),
  conversationId: z.string().optional(),
  model: z.string().optional(),
  abstention: z.enum(["no-sources", "model-declined", "no-supported-sentence"]).optional(),
});

export const conversationIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "a conversation id");

export function registerQueryRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext): void {
  routes.add(app, {
    method: "POST",
    url: "/api/kbs/:kb/search",
    summary: "Ranked chunks the caller may read",
    tag: "search",
    auth: "read",
    params: z.object({ kb: kbParam }),
    body: z.object({ query: z.string().min(1).max(MAX_QUERY_CHARS), k: z.number().int().min(1).max(100).optional(), mode: mode.optional(), tags }).strict(),
    response: z.object({ results: z.array(hitSchema) }),
    handler: async ({ params, body, caller, signal }) =>
      ctx.kbs.use(params.kb, caller, async (kb) => ({ results: await searchAs(kb, caller, ctx.models, body, signal) })),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/kbs/:kb/ask",
    summary: "Answer a question with verified citations, as a turn of the caller's conversation; SSE with Accept: text/event-stream",
    tag: "search",
    auth: "read",
    params: z.object({ kb: kbParam }),
    body: z
      .object({
        question: z.string().min(1).max(MAX_QUERY_CHARS),
        model: z.string().max(200).optional().describe("a language model id from GET /v1/models; default: the server's first --model; none configured: an extractive answer"),
        conversationId: conversationIdSchema.optional().describe("continue one of your conversations; omitted: a new one (its id is in the answer)"),
        k: z.number().int().min(1).max(50).optional(),
        mode: mode.optional(),
        tags,
        verify: z.enum(["flag", "remove"]).optional().describe("with a model: flag (default) or remove unsupported sentences"),
      })
      .strict(),
    response: answerSchema,
    events: { delta: "{text}: the model's answer as it is written", answer: "the verified answer (the JSON answer)", error: "{code, message, hint}" },
    handler: async ({ params, body, caller, raw, signal }, reply) => {
      const request = body;
      if (!wantsEventStream(raw)) {
        const a = await ctx.kbs.use(params.kb, caller, (kb) => askAs(kb, caller, ctx.models, request, { signal, guardrails: ctx.guardrails }));
        spend(raw, a.usage);
        return a;
      }
      // Membership, model and conversation are checked before the stream starts, so a refusal is a plain HTTP error.
      await ctx.kbs.use(params.kb, caller, (kb) => checkAsk(kb, caller, ctx.models, request));
      const events = new EventStream(reply);
      try {
        const a = await ctx.kbs.use(params.kb, caller, (kb) => askAs(kb, caller, ctx.models, request, { signal, guardrails: ctx.guardrails, onDelta: (text) => events.send("delta", { text }) }));
        spend(raw, a.usage);
        events.send("answer", a);
      } catch (e) {
        const err = toApiError(e);
        if (!err.expected) raw.log.error({ err: e }, "ask failed");
        events.send("error", { code: err.code, message: err.message, hint: err.hint });
      } finally {
        events.end();
      }
      return reply;
    },
  });
}
