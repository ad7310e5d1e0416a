// Guardrails around answering, as plain functions the caller passes in (the validators live in
// agents/guardrails; this layer only applies them): an input guard sees the question first and may
// block it; an output guard rewrites what the answer shows (answer, sentences, citation quotes).
// Citation spans are not touched, so they still point at the exact source characters.
import { StrataError } from "../../core/errors.js";
import type { GroundedAnswer } from "./types.js";

export interface GuardFinding {
  validator: string;
  message: string;
  /** True when the finding blocked the text. */
  blocking: boolean;
}

/** Same shape as agents' Validator: the (rewritten) text, whether it passes, what was found. */
export type TextGuard = (text: string) => { ok: boolean; text: string; issues: GuardFinding[] };

export interface AnswerGuards {
  /** Checks the question before retrieval (e.g. a jailbreak screen); not ok = GUARDRAIL_BLOCKED. */
  input?: TextGuard;
  /** Rewrites what the answer shows (e.g. PII redaction). */
  output?: TextGuard;
  /** Names of the guards switched on, for traces. */
  names: string[];
}

/** The question after the input guard; throws GUARDRAIL_BLOCKED when it does not pass. */
export function guardQuestion(question: string, guards: AnswerGuards | undefined): { question: string; findings: GuardFinding[] } {
  if (!guards?.input) return { question, findings: [] };
  const r = guards.input(question);
  const blocked = r.issues.find((i) => i.blocking);
  if (!r.ok && blocked) {
    throw new StrataError("GUARDRAIL_BLOCKED", `the question was blocked by the ${blocked.validator} check: ${blocked.message}`, "rephrase the question; this knowledge base or server screens jailbreak attempts");
  }
  return { question: r.text, findings: r.issues };
}

/** The answer as shown after the output guard, and what the guard changed. */
export function guardAnswer(a: GroundedAnswer, guards: AnswerGuards | undefined): { answer: GroundedAnswer; findings: GuardFinding[] } {
  const out = guards?.output;
  if (!out) return { answer: a, findings: [] };
  const findings: GuardFinding[] = [];
  const apply = (text: string): string => {
    const r = out(text);
    findings.push(...r.issues);
    return r.text;
  };
  const answer: GroundedAnswer = {
    ...a,
    answer: apply(a.answer),
    sentences: a.sentences.map((s) => ({ ...s, text: apply(s.text) })),
    citations: a.citations.map((c) => ({ ...c, quote: apply(c.quote) })),
  };
  return { answer, findings: merge(findings) };
}

/** "redacted 1 email" found in three places reads as one finding per message. */
function merge(findings: GuardFinding[]): GuardFinding[] {
  const seen = new Map<string, GuardFinding>();
  for (const f of findings) seen.set(`${f.validator}\u0000${f.message}`, f);
  return [...seen.values()];
}
