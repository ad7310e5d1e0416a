// Searching and answering for a caller: the one place the server turns a request into a call of
// the knowledge layer, so the Strata API and the OpenAI-compatible RAG model pass exactly the same
// principal (never OWNER), retrieval mode and model choice.
import { randomBytes } from "node:crypto";
import { answerWithModel } from "../knowledge/answer/generative.js";
import type { HistoryTurn } from "../knowledge/answer/prompt.js";
import type { GroundedAnswer } from "../knowledge/answer/types.js";
import { answerGuards, type GuardrailSettings } from "../agents/guardrails/answer-guards.js";
import { chatTurn, extractiveChatTurn } from "../knowledge/conversations.js";
import type { KnowledgeBase, SearchMode } from "../knowledge/knowledge-base.js";
import type { SearchHit } from "../knowledge/types.js";
import type { Caller } from "./accounts.js";
import { ServerError } from "./errors.js";
import type { ModelCatalog } from "./models.js";

export interface SearchRequest {
  query: string;
  k?: number;
  mode?: SearchMode;
  tags?: string[];
}

export interface AskRequest {
  question: string;
  model?: string;
  conversationId?: string;
  k?: number;
  mode?: SearchMode;
  tags?: string[];
  verify?: "flag" | "remove";
}

/** What /api/kbs/:kb/ask answers (GroundedAnswer without its internal retrieval log). */
export type AskResponse = Omit<GroundedAnswer, "trace"> & { conversationId?: string };

function embedderFor(models: ModelCatalog, kb: KnowledgeBase, mode: SearchMode | undefined): { mode: SearchMode; embedder?: ModelCatalog["embedding"] } {
  const e = models.embedding;
  const resolved: SearchMode = mode ?? (e && kb.embeddingModels().some((m) => m.modelId === e.model.id && m.vectors > 0) ? "hybrid" : "lexical");
  if (resolved !== "lexical" && !e) throw new ServerError("USAGE", `${resolved} search needs an embedding model, and this server has none`, "search with mode lexical, or ask the operator to start the server with --embed <ref>");
  return { mode: resolved, embedder: resolved === "lexical" ? undefined : e };
}

export async function searchAs(kb: KnowledgeBase, caller: Caller, models: ModelCatalog, r: SearchRequest, signal: AbortSignal): Promise<SearchHit[]> {
  const { mode, embedder } = embedderFor(models, kb, r.mode);
  return kb.search(r.query, { k: r.k ?? 10, access: caller.principal, mode, embedder: embedder?.model, filter: r.tags && r.tags.length > 0 ? { tags: r.tags } : undefined, signal });
}

function strip(a: GroundedAnswer): Omit<GroundedAnswer, "trace"> {
  const { trace: _trace, ...rest } = a;
  return rest;
}

export function newConversationId(): string {
  return `conv_${randomBytes(12).toString("hex")}`;
}

/**
 * The checks an ask makes before any work: the model exists, the conversation is the caller's
 * own, the search mode is possible. Streaming routes run them before opening the stream, so a
 * refusal is a plain HTTP error. Returns the model that will answer, if any.
 */
export function checkAsk(kb: KnowledgeBase, caller: Caller, models: ModelCatalog, r: AskRequest): ModelCatalog["language"][number] | undefined {
  const served = models.languageModel(r.model);
  if (r.conversationId !== undefined && !kb.store.conversations.isOwnedBy(r.conversationId, caller.principal)) {
    throw new ServerError("NOT_FOUND", `there is no conversation ${r.conversationId} of yours in this knowledge base`, "leave conversationId out to start a new one; list yours with GET /api/conversations");
  }
  if (served) embedderFor(models, kb, r.mode);
  else if (r.mode && r.mode !== "lexical") throw new ServerError("USAGE", `an extractive answer (no language model) searches lexically; mode ${r.mode} needs a model`, "leave mode out, or ask the operator to start the server with --model <ref>");
  return served;
}

/**
 * Answers a question from what the caller may read, as a turn of the caller's conversation: the
 * one named (it must be the caller's own, else NOT_FOUND), or a new one. With a language model
 * (the request's or the server's default) the answer is generated and verified; without one it is
 * extractive.
 */
export async function askAs(
  kb: KnowledgeBase,
  caller: Caller,
  models: ModelCatalog,
  r: AskRequest,
  o: { signal: AbortSignal; onDelta?: (text: string) => void; guardrails?: Partial<GuardrailSettings> },
): Promise<AskResponse> {
  const served = checkAsk(kb, caller, models, r);
  const conversationId = r.conversationId ?? newConversationId();
  const filter = r.tags && r.tags.length > 0 ? { tags: r.tags } : undefined;
  // The server's guardrails (strata serve --redact-pii …) and the knowledge base's own add up.
  const guards = answerGuards(o.guardrails, kb.guardrails());
  if (served) {
    const { mode, embedder } = embedderFor(models, kb, r.mode);
    const a = await chatTurn(kb, conversationId, r.question, {
      model: served.model,
      access: caller.principal,
      k: r.k ?? 8,
      filter,
      search: { mode, embedder: embedder?.model },
      verify: r.verify ?? "flag",
      guards,
      onDelta: o.onDelta,
      signal: o.signal,
    });
    return { ...strip(a), model: served.id, conversationId };
  }
  const a = await extractiveChatTurn(kb, conversationId, r.question, { access: caller.principal, k: r.k ?? 8, filter, guards });
  return { ...strip(a), conversationId };
}

/**
 * A stateless answer for /v1's `strata-rag/<kb>` models: earlier user/assistant turns of the
 * request are the history; nothing is stored but the trace (owned by the caller).
 */
export async function answerStateless(
  kb: KnowledgeBase,
  caller: Caller,
  models: ModelCatalog,
  question: string,
  history: HistoryTurn[],
  o: { signal: AbortSignal; temperature?: number; seed?: number; maxTokens?: number; guardrails?: Partial<GuardrailSettings> },
): Promise<Omit<GroundedAnswer, "trace">> {
  const served = models.languageModel(undefined);
  const guards = answerGuards(o.guardrails, kb.guardrails());
  if (!served) return strip(await kb.answer(question, { access: caller.principal, previousQuestions: history.map((t) => t.question), guards }));
  const { mode, embedder } = embedderFor(models, kb, undefined);
  const a = await answerWithModel(kb, question, {
    model: served.model,
    access: caller.principal,
    search: { mode, embedder: embedder?.model },
    history,
    guards,
    temperature: o.temperature,
    seed: o.seed,
    maxAnswerTokens: o.maxTokens,
    signal: o.signal,
    traceKind: "openai",
  });
  return { ...strip(a), model: served.id };
}
