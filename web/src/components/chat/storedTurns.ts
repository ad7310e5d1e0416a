import type { Citation } from "../../api.ts";
import type { StoredTurn } from "./turn.ts";

/**
 * The turns of a conversation from GET /api/conversations/:id, read leniently: its turns
 * {question, answer, citations} or its messages (a user message, then the assistant's reply).
 */
export function storedTurns(raw: Record<string, unknown>): StoredTurn[] {
  type Msg = { role?: string; content?: string; citations?: Citation[]; supported?: boolean; mode?: string; traceId?: string; model?: string };
  const mk = (question: string, answerText: string, citations: Citation[], supported: boolean | null | undefined, extra: { traceId?: string | null; mode?: string; model?: string }) => ({
    question,
    streamed: "",
    status: "done" as const,
    fromHistory: extra.mode !== "extractive" && extra.mode !== "generative",
    answer: {
      answer: answerText,
      mode: extra.mode === "generative" ? ("generative" as const) : ("extractive" as const),
      supported: supported ?? true,
      citations,
      sentences: [],
      ...(extra.traceId ? { traceId: extra.traceId } : {}),
      ...(extra.model ? { model: extra.model } : {}),
    },
  });
  const messages = raw.messages as Msg[] | undefined;
  if (Array.isArray(messages)) {
    const out: StoredTurn[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.role !== "user") continue;
      const r = messages[i + 1]?.role === "assistant" ? messages[i + 1] : undefined;
      out.push(mk(m.content ?? "", r?.content ?? "", r?.citations ?? [], r?.supported, { traceId: r?.traceId, mode: r?.mode, model: r?.model }));
    }
    return out;
  }
  const turns = raw.turns as { question?: string; answer?: string; citations?: Citation[]; supported?: boolean | null; traceId?: string | null }[] | undefined;
  return Array.isArray(turns) ? turns.map((t) => mk(t.question ?? "", t.answer ?? "", t.citations ?? [], t.supported, { traceId: t.traceId })) : [];
}
