// A caller's own conversations and traces, across the knowledge bases the caller may use. Someone
// else's conversation or trace answers 404, the same as one that does not exist.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { turnsOf } from "../../knowledge/conversations.js";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import type { RouteTable } from "../route.js";
import { conversationIdSchema } from "./query.js";

const summary = z.object({ id: z.string(), kb: z.string(), title: z.string(), createdAt: z.string(), updatedAt: z.string(), messages: z.number() });
const citation = z.object({ n: z.number(), docId: z.string(), source: z.string(), title: z.string(), chunkId: z.string(), page: z.number().nullable(), start: z.number(), end: z.number(), quote: z.string(), score: z.number() });

interface StoredAnswerData {
  mode?: string;
  supported?: boolean;
  citations?: unknown[];
  traceId?: string;
  model?: string;
  abstention?: string;
}

function answerData(data: unknown): StoredAnswerData {
  return data !== null && typeof data === "object" ? (data as StoredAnswerData) : {};
}

export function registerConversationRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext): void {
  routes.add(app, {
    method: "GET",
    url: "/api/conversations",
    summary: "The caller's conversations in every knowledge base the caller may use, most recent first",
    tag: "conversations",
    auth: "read",
    response: z.array(summary),
    handler: async ({ caller }) => {
      const lists = await ctx.kbs.eachUsable(caller, (kb, info) => kb.store.conversations.listOwn(caller.principal).map((c) => ({ ...c, kb: info.name })));
      return lists.flat().sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id));
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/conversations/:id",
    summary: "One of the caller's conversations with its messages and citations",
    tag: "conversations",
    auth: "read",
    params: z.object({ id: conversationIdSchema }),
    response: summary.omit({ title: true, messages: true }).extend({
      messages: z.array(
        z.object({
          ordinal: z.number(),
          role: z.enum(["user", "assistant"]),
          content: z.string(),
          createdAt: z.string(),
          citations: z.array(citation).optional(),
          supported: z.boolean().optional(),
          mode: z.string().optional(),
          traceId: z.string().optional(),
          model: z.string().optional(),
          abstention: z.string().optional(),
        }),
      ),
      turns: z.array(z.object({ question: z.string(), answer: z.string(), askedAt: z.string(), supported: z.boolean().nullable(), citations: z.array(citation), traceId: z.string().nullable() })),
    }),
    handler: async ({ params, caller }) => {
      const found = await ctx.kbs.eachUsable(caller, (kb, info) => {
        const store = kb.store.conversations;
        if (!store.isOwnedBy(params.id, caller.principal)) return undefined;
        const session = store.find(params.id, caller.principal)!;
        const messages = store.messages(params.id, caller.principal);
        return {
          id: session.id,
          kb: info.name,
          createdAt: session.createdAt,
          updatedAt: session.updatedAt,
          messages: messages.map((m) => {
            const d = m.role === "assistant" ? answerData(m.data) : {};
            return {
              ordinal: m.ordinal,
              role: m.role,
              content: m.content,
              createdAt: m.createdAt,
              ...(m.role === "assistant"
                ? { citations: d.citations ?? [], supported: d.supported, mode: d.mode, traceId: d.traceId, model: d.model, abstention: d.abstention }
                : {}),
            };
          }),
          turns: turnsOf(messages),
        };
      });
      const conversation = found.find((c) => c !== undefined);
      if (!conversation) throw new ServerError("NOT_FOUND", `there is no conversation ${params.id} of yours`, "list yours with GET /api/conversations");
      return conversation;
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/traces/:id",
    summary: "A trace of one of the caller's answers: retrieval, assembly, generation and verification spans",
    tag: "conversations",
    auth: "read",
    params: z.object({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, "a trace id") }),
    handler: async ({ params, caller }) => {
      const found = await ctx.kbs.eachUsable(caller, (kb, info) => {
        const t = kb.store.traces.get(params.id, caller.principal);
        return t && { kb: info.name, ...t };
      });
      const trace = found.find((t) => t !== undefined);
      if (!trace) throw new ServerError("NOT_FOUND", `there is no trace ${params.id} of yours`, "trace ids come with generated answers (traceId)");
      return trace;
    },
  });
}
