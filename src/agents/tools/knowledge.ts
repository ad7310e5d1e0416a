// Knowledge-base tools: search and ask, always with the identity of the person the agent works for,
// so the store's access lists hold inside agent runs exactly as they do in `strata search`/`ask`.
// Results are documents' text — untrusted data, fenced and screened by the runtime.
import { z } from "zod";
import { answerWithModel } from "../../knowledge/answer/generative.js";
import type { KnowledgeBase, SearchMode } from "../../knowledge/knowledge-base.js";
import { MAX_QUERY_CHARS } from "../../knowledge/limits.js";
import type { Access } from "../../knowledge/store/access.js";
import type { EmbeddingModel, LanguageModel } from "../../model/types.js";
import { defineTool, type Tool } from "./tool.js";

export interface KnowledgeToolOptions {
  kb: KnowledgeBase;
  /** Whose rights apply: OWNER (the local operator) or a principal {user, groups}. */
  access: Access;
  /** Most results per search (default 5, the model may ask for up to `maxK`). */
  k?: number;
  maxK?: number;
  mode?: SearchMode;
  embedder?: EmbeddingModel;
  /** Characters of each hit's text returned (default 1,200). */
  snippetChars?: number;
  /** With a model, kb_ask writes a verified generative answer; without, it answers extractively. */
  model?: LanguageModel;
  /** Name prefix (default "kb_"). */
  prefix?: string;
}

export function knowledgeTools(o: KnowledgeToolOptions): Tool[] {
  const prefix = o.prefix ?? "kb_";
  const maxK = o.maxK ?? 20;
  const snippet = o.snippetChars ?? 1_200;
  const search = defineTool({
    name: `${prefix}search`,
    description: "Searches the knowledge base and returns the best-matching passages with their document, title and exact character span (cite them by docId and span).",
    input: z.object({
      query: z.string().min(1).max(MAX_QUERY_CHARS).describe("what to look for, in words"),
      k: z.number().int().min(1).max(maxK).optional().describe(`how many passages (default ${o.k ?? 5})`),
    }),
    risk: "read",
    run: async ({ query, k }, ctx) => {
      const hits = await o.kb.search(query, { k: k ?? o.k ?? 5, access: o.access, mode: o.mode, embedder: o.embedder, signal: ctx.signal });
      return {
        results: hits.map((h) => ({
          rank: h.rank,
          docId: h.docId,
          title: h.title,
          source: h.source,
          chunkId: h.chunkId,
          headingPath: h.headingPath,
          start: h.start,
          end: h.end,
          text: h.text.length > snippet ? `${h.text.slice(0, snippet)}…` : h.text,
        })),
      };
    },
  });
  const ask = defineTool({
    name: `${prefix}ask`,
    description: "Answers a question from the knowledge base with a citation for every sentence, or says the knowledge base does not contain the answer.",
    input: z.object({ question: z.string().min(1).max(MAX_QUERY_CHARS) }),
    risk: "read",
    timeoutMs: 120_000,
    run: async ({ question }, ctx) => {
      const a = o.model
        ? await answerWithModel(o.kb, question, { model: o.model, access: o.access, signal: ctx.signal, traceKind: "agent" })
        : await o.kb.answer(question, { access: o.access });
      return {
        answer: a.answer,
        supported: a.supported,
        mode: a.mode,
        citations: a.citations.map((c) => ({ n: c.n, docId: c.docId, title: c.title, source: c.source, start: c.start, end: c.end, quote: c.quote })),
      };
    },
  });
  return [search, ask];
}
