// A follow-up ("how long again?") searched as written finds nothing about what it follows up. Before
// retrieval it is made standalone from the conversation: with a model, by a rewrite prompt (the
// rewrite is kept in the trace); without one, by carrying the previous question's content terms.
import type { LanguageModel } from "../../model/types.js";
import { questionTerms } from "./extractive.js";
import type { HistoryTurn } from "./prompt.js";

export type CondenseMethod = "none" | "terms" | "model";

export interface CondensedQuestion {
  /** What retrieval searches for. */
  query: string;
  method: CondenseMethod;
  /** The model's standalone question, when it gave a usable one. */
  rewritten?: string;
}

/** Words that point back at an earlier turn: a question with one of them leans on the previous question. */
const ANAPHORA = new Set(["it", "its", "they", "them", "their", "that", "this", "those", "these", "there", "then", "he", "she", "his", "her", "again", "also", "else", "more", "one", "ones"]);
/** A rewrite longer than this is not a question; the terms fallback is used instead. */
const MAX_REWRITE_CHARS = 500;

const words = (q: string): string[] => q.split(/\s+/).filter(Boolean);
const contentWords = (q: string): string[] => words(q).filter((w) => questionTerms(w).length > 0);

/** A follow-up: fewer than two content terms of its own, or a word that points back. */
export function isFollowUp(question: string): boolean {
  return contentWords(question).length < 2 || words(question).some((w) => ANAPHORA.has(w.toLowerCase().replace(/[^a-z]/g, "")));
}

/**
 * Without a model: the question's content words, plus the previous question's when the question
 * is a follow-up. `previous` are the earlier questions, oldest first.
 */
export function condenseByTerms(question: string, previous: string[]): CondensedQuestion {
  const own = contentWords(question);
  const last = previous[previous.length - 1];
  if (!last || !isFollowUp(question)) return { query: own.join(" "), method: "none" };
  const carried = contentWords(last).filter((w) => !own.some((o) => o.toLowerCase() === w.toLowerCase()));
  return { query: [...own, ...carried].join(" "), method: "terms" };
}

const REWRITE_SYSTEM =
  "You rewrite the last question of a conversation so that it can be understood without the conversation. " +
  "Keep its meaning; name what it refers to. Reply with the rewritten question only, on one line.";

/**
 * With a model: for a follow-up, a standalone question written by the model (one short extra call);
 * falls back to the terms rule when the reply is unusable or the call fails.
 */
export async function condenseWithModel(model: LanguageModel, question: string, history: HistoryTurn[], signal?: AbortSignal): Promise<CondensedQuestion> {
  const previous = history.map((t) => t.question);
  // A question that stands on its own costs no extra model call.
  if (history.length === 0 || !isFollowUp(question)) return condenseByTerms(question, previous);
  const recent = history.slice(-3);
  const transcript = recent.map((t) => `User: ${t.question}\nAssistant: ${t.answer.slice(0, 400)}`).join("\n");
  let text: string;
  try {
    const result = await model.generate({
      messages: [
        { role: "system", content: REWRITE_SYSTEM },
        { role: "user", content: `Conversation:\n${transcript}\n\nLast question: ${question}\n\nRewritten question:` },
      ],
      temperature: 0,
      maxTokens: 96,
      signal,
    });
    text = result.text;
  } catch (e) {
    if (signal?.aborted) throw e;
    return condenseByTerms(question, previous); // the answer itself will meet the same failure, with its own message
  }
  const rewritten = cleanRewrite(text);
  if (!rewritten) return condenseByTerms(question, previous);
  // The rewrite leads; the question's own words stay, so a bad rewrite cannot lose them.
  const own = contentWords(question);
  const extra = contentWords(rewritten).filter((w) => !own.some((o) => o.toLowerCase() === w.toLowerCase()));
  return { query: [...own, ...extra].join(" "), method: "model", rewritten };
}

function cleanRewrite(text: string): string | undefined {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "");
  if (!line) return undefined;
  const t = line.replace(/^(rewritten|standalone)? ?question:\s*/i, "").replace(/^["'“]|["'”]$/g, "").trim();
  return t !== "" && t.length <= MAX_REWRITE_CHARS && contentWords(t).length > 0 ? t : undefined;
}
