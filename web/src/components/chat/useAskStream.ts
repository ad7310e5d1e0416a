import { useEffect, useRef, useState } from "react";
import { ApiError, enc, type Answer, type Client } from "../../api.ts";
import type { StoredTurn, Turn } from "./turn.ts";

let nextTurnId = 1;

export interface AskStream {
  turns: Turn[];
  /** An answer is still streaming (only one at a time). */
  busy: boolean;
  /** Sends the question and streams its answer into a new turn; false when nothing was sent. */
  ask: (kb: string | undefined, question: string, model: string) => boolean;
  /** Stops the answer that is streaming; its turn keeps what came so far. */
  stop: () => void;
  /** Stops any answer and starts an empty conversation. */
  clear: () => void;
  /** Stops any answer and continues an earlier conversation. */
  resume: (conversationId: string, turns: Array<StoredTurn & { kb: string }>) => void;
}

/** The chat's conversation: its turns, and each question's answer streamed from POST /api/kbs/:kb/ask. */
export function useAskStream(client: Client): AskStream {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [conversationId, setConversationId] = useState<string | undefined>();
  const abortRef = useRef<AbortController | undefined>(undefined);
  const busy = turns.some((t) => t.status === "streaming");

  // Leaving the page stops the answer.
  useEffect(() => () => abortRef.current?.abort(), []);

  const update = (id: number, patch: Partial<Turn> | ((t: Turn) => Partial<Turn>)): void =>
    setTurns((ts) => ts.map((t) => (t.id === id ? { ...t, ...(typeof patch === "function" ? patch(t) : patch) } : t)));

  const streamAnswer = async (id: number, kb: string, body: Record<string, string>, ctrl: AbortController): Promise<void> => {
    try {
      let finished = false;
      await client.stream(
        `/api/kbs/${enc(kb)}/ask`,
        body,
        (event, data) => {
          if (event === "delta") {
            const text = (data as { text?: string }).text ?? "";
            update(id, (t) => ({ streamed: t.streamed + text }));
          } else if (event === "answer" || event === "fallback") {
            const a = data as Answer;
            finished = true;
            update(id, { answer: a, status: "done" });
            if (a.conversationId) setConversationId(a.conversationId);
          } else if (event === "error") {
            const d = data as { code?: string; message?: string; hint?: string };
            finished = true;
            update(id, { status: "error", error: new ApiError(500, d.code ?? "ERROR", d.message ?? "the answer failed", d.hint) });
          }
        },
        ctrl.signal,
      );
      if (!finished) update(id, { status: "error", error: new Error("the server closed the stream before the answer was complete") });
    } catch (err) {
      if (ctrl.signal.aborted) update(id, { status: "stopped" });
      else update(id, { status: "error", error: err });
    } finally {
      if (abortRef.current === ctrl) abortRef.current = undefined;
    }
  };

  const ask = (kb: string | undefined, question: string, model: string): boolean => {
    const q = question.trim();
    if (!q || !kb || busy) return false;
    const id = nextTurnId++;
    setTurns((ts) => [...ts, { id, kb, question: q, streamed: "", status: "streaming" }]);
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    const body: Record<string, string> = { question: q };
    if (model.trim()) body.model = model.trim();
    if (conversationId) body.conversationId = conversationId;
    void streamAnswer(id, kb, body, ctrl);
    return true;
  };

  const stop = (): void => abortRef.current?.abort();

  const clear = (): void => {
    stop();
    setTurns([]);
    setConversationId(undefined);
  };

  const resume = (id: string, earlier: Array<StoredTurn & { kb: string }>): void => {
    stop();
    setConversationId(id);
    setTurns(earlier.map((t) => ({ ...t, id: nextTurnId++ })));
  };

  return { turns, busy, ask, stop, clear, resume };
}
