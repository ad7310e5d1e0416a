// The tools a server agent run may have: the calculator, and search and ask over the knowledge
// bases the run names, always with its owner's rights (user and groups read fresh, membership
// checked on every call through the registry, documents filtered inside the store's query, as
// /api/kbs/:kb/search does). Tools that reach outside the server (files, SQL, HTTP, shell, MCP)
// are not offered over HTTP at all. Results are documents' text: untrusted, fenced and screened by
// the runtime like any tool output.
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { answerWithModel } from "../../knowledge/answer/generative.js";
import { MAX_QUERY_CHARS } from "../../knowledge/limits.js";
import type { LanguageModel } from "../../model/types.js";
import { calculatorTool } from "../../agents/tools/calculator.js";
import { defineTool, type Tool } from "../../agents/tools/tool.js";
import type { ToolFactories } from "../../agents/run-spec.js";
import type { Caller } from "../accounts.js";
import { searchAs } from "../answering.js";
import type { ServerContext } from "../context.js";

/** The tools a run started over HTTP may name. */
export const HTTP_AGENT_TOOLS = ["calculator", "kb_search", "kb_ask"] as const;
export type HttpAgentTool = (typeof HTTP_AGENT_TOOLS)[number];

const SNIPPET_CHARS = 1_200;

/**
 * Who a run acts for when it runs: its owner as the accounts know them now (groups changed since
 * the start apply; a user with no admin key left loses admin's membership of every base).
 */
export function actingCaller(ctx: ServerContext, owner: string): Caller {
  const groups = ctx.accounts.getUser(owner)?.groups ?? [];
  const now = Date.now();
  const admin = ctx.accounts.listKeys(owner).some((k) => !k.revokedAt && (!k.expiresAt || Date.parse(k.expiresAt) > now) && k.scopes.includes("admin"));
  return { keyId: "", user: owner, groups, scopes: admin ? ["read", "admin"] : ["read"], principal: { user: owner, groups } };
}

function kbArgument(kbs: readonly string[]): z.ZodOptional<z.ZodType<string>> {
  const names = kbs.length > 0 ? z.enum(kbs as [string, ...string[]]) : z.string();
  return names.optional().describe(`which knowledge base (${kbs.join(", ")}); default: ${kbs.length > 1 ? "all of them" : kbs[0]}`);
}

function searchTool(ctx: ServerContext, kbs: readonly string[], caller: Caller): Tool {
  return defineTool({
    name: "kb_search",
    description: "Searches the knowledge bases and returns the best-matching passages with their knowledge base, document, title and exact character span (cite them by docId and span).",
    input: z.object({
      query: z.string().min(1).max(MAX_QUERY_CHARS).describe("what to look for, in words"),
      k: z.number().int().min(1).max(20).optional().describe("how many passages (default 5)"),
      kb: kbArgument(kbs),
    }),
    risk: "read",
    run: async ({ query, k, kb }, tc) => {
      const limit = k ?? 5;
      const hits = [];
      for (const name of kb ? [kb] : kbs) {
        const found = await ctx.kbs.use(name, caller, (base) => searchAs(base, caller, ctx.models, { query, k: limit }, tc.signal));
        hits.push(...found.map((h) => ({ kb: name, ...h })));
      }
      hits.sort((a, b) => b.score - a.score);
      return {
        results: hits.slice(0, limit).map((h, i) => ({
          rank: i + 1,
          kb: h.kb,
          docId: h.docId,
          title: h.title,
          source: h.source,
          chunkId: h.chunkId,
          start: h.start,
          end: h.end,
          text: h.text.length > SNIPPET_CHARS ? `${h.text.slice(0, SNIPPET_CHARS)}…` : h.text,
        })),
      };
    },
  });
}

function askTool(ctx: ServerContext, kbs: readonly string[], caller: Caller, model: LanguageModel): Tool {
  return defineTool({
    name: "kb_ask",
    description: "Answers a question from one knowledge base with a citation for every sentence, or says the knowledge base does not contain the answer.",
    input: z.object({ question: z.string().min(1).max(MAX_QUERY_CHARS), kb: kbArgument(kbs) }),
    risk: "read",
    timeoutMs: 120_000,
    run: async ({ question, kb }, tc) => {
      const name = kb ?? (kbs.length === 1 ? kbs[0] : undefined);
      if (!name) throw new StrataError("TOOL_ARGS_INVALID", "kb_ask needs to know which knowledge base to ask", `pass kb: one of ${kbs.join(", ")}`);
      const a = await ctx.kbs.use(name, caller, (base) => answerWithModel(base, question, { model, access: caller.principal, signal: tc.signal, traceKind: "agent" }));
      return {
        kb: name,
        answer: a.answer,
        supported: a.supported,
        mode: a.mode,
        citations: a.citations.map((c) => ({ n: c.n, docId: c.docId, title: c.title, source: c.source, start: c.start, end: c.end, quote: c.quote })),
      };
    },
  });
}

/** Tool factories for run-spec's toolBoxFor: only the HTTP-safe tools exist here. */
export function serverToolFactories(ctx: ServerContext, o: { kbs: readonly string[]; caller: Caller; model: LanguageModel }): ToolFactories {
  const needKbs = (name: string): void => {
    if (o.kbs.length === 0) throw new StrataError("USAGE", `${name} needs knowledge bases to search`, "name them in `kbs` (GET /api/kbs lists yours)");
  };
  return {
    calculator: () => calculatorTool(),
    kb_search: () => {
      needKbs("kb_search");
      return searchTool(ctx, o.kbs, o.caller);
    },
    kb_ask: () => {
      needKbs("kb_ask");
      return askTool(ctx, o.kbs, o.caller, o.model);
    },
  };
}
