// Conversations over a knowledge base: each turn is answered by the same grounded pipeline as a
// single question, with the most recent turns of the session in the prompt, and stored with its
// citations and trace id. A session belongs to the user who started it.
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import { answerWithModel, type GenerativeOptions } from "./answer/generative.js";
import { citationSchema } from "./answer/citation.js";
import type { AnswerGuards } from "./answer/guard.js";
import type { HistoryTurn } from "./answer/prompt.js";
import type { AnswerCitation, GroundedAnswer } from "./answer/types.js";
import type { KnowledgeBase } from "./knowledge-base.js";
import type { Access } from "./store/access.js";
import type { ConversationInfo, StoredMessage } from "./store/conversation-store.js";
import type { SearchFilter } from "./types.js";

export interface ChatTurnOptions extends Omit<GenerativeOptions, "history" | "traceKind" | "traceAttributes"> {
  /** Earlier turns offered to the prompt (default 6); the context budget may keep fewer. */
  historyTurns?: number;
}

export interface ConversationTurn {
  question: string;
  answer: string;
  askedAt: string;
  supported: boolean | null;
  citations: AnswerCitation[];
  traceId: string | null;
}

export interface ConversationHistory {
  session: ConversationInfo;
  turns: ConversationTurn[];
}

// What a stored assistant message carries; read back leniently (older rows may lack fields).
const storedAnswerSchema = z.object({
  supported: z.boolean().optional(),
  citations: z.array(citationSchema).optional(),
  traceId: z.string().optional(),
});

/** Pairs each question with the answer that followed it. */
export function turnsOf(messages: StoredMessage[]): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== "user") continue;
    const next = messages[i + 1];
    const reply = next?.role === "assistant" ? next : undefined;
    const data = storedAnswerSchema.safeParse(reply?.data ?? {});
    turns.push({
      question: m.content,
      answer: reply?.content ?? "",
      askedAt: m.createdAt,
      supported: data.success ? (data.data.supported ?? null) : null,
      citations: data.success ? (data.data.citations ?? []) : [],
      traceId: data.success ? (data.data.traceId ?? null) : null,
    });
  }
  return turns;
}

/** A session's stored turns; another user's session is a FORBIDDEN error, an unknown one NOT_FOUND. */
export function conversationHistory(kb: KnowledgeBase, sessionId: string, access: Access): ConversationHistory {
  const store = kb.store.conversations;
  const session = store.find(sessionId, access);
  if (!session) return notFound(sessionId);
  return { session, turns: turnsOf(store.messages(sessionId, access)) };
}

function notFound(sessionId: string): never {
  throw new StrataError("NOT_FOUND", `there is no session ${sessionId}`, "start it with `strata chat --session <id>`, or check the id and --kb");
}

/**
 * Answers one turn of a session and stores question and answer together. The caller must own the
 * session (or it is new); that is checked before the model is called, so nobody pays for a refused turn.
 */
export async function chatTurn(kb: KnowledgeBase, sessionId: string, question: string, opts: ChatTurnOptions): Promise<GroundedAnswer> {
  const store = kb.store.conversations;
  store.checkWritable(sessionId, opts.access);
  const recent = store.messages(sessionId, opts.access, { last: 2 * (opts.historyTurns ?? 6) });
  const history: HistoryTurn[] = turnsOf(recent)
    .filter((t) => t.answer !== "")
    .map((t) => ({ question: t.question, answer: t.answer }));
  const answer = await answerWithModel(kb, question, { ...opts, history, traceKind: "chat", traceAttributes: { session: sessionId, historyOffered: history.length } });
  store.append(sessionId, opts.access, [
    { role: "user", content: question },
    {
      role: "assistant",
      content: answer.answer,
      data: { mode: answer.mode, supported: answer.supported, citations: answer.citations, sentences: answer.sentences, usage: answer.usage, traceId: answer.traceId, abstention: answer.abstention, model: answer.model },
    },
  ]);
  return answer;
}

/**
 * A turn without a language model: an extractive answer, where a follow-up carries the previous
 * question's content terms into retrieval; stored like a model's turn.
 */
export async function extractiveChatTurn(kb: KnowledgeBase, sessionId: string, question: string, opts: { access: Access; k?: number; filter?: SearchFilter; guards?: AnswerGuards }): Promise<GroundedAnswer> {
  const store = kb.store.conversations;
  store.checkWritable(sessionId, opts.access);
  const previousQuestions = turnsOf(store.messages(sessionId, opts.access, { last: 6 })).map((t) => t.question);
  const a = await kb.answer(question, { access: opts.access, k: opts.k, filter: opts.filter, previousQuestions, guards: opts.guards });
  store.append(sessionId, opts.access, [
    { role: "user", content: a.question },
    { role: "assistant", content: a.answer, data: { mode: a.mode, supported: a.supported, citations: a.citations, sentences: a.sentences, ...(a.trace.condensed ? { condensed: a.trace.condensed } : {}) } },
  ]);
  return a;
}
