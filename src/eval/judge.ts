// A judge model scores answers on a fixed rubric (relevance, coherence, factual accuracy, 1–5),
// prefers one of two answers with both orders tried (position-swapped, so a judge that always
// picks the first answer shows up as inconsistent), and decides whether passages support a
// statement (for the citation and faithfulness metrics). Output the judge cannot be parsed from is
// asked again; after the last retry the item is counted as failed — never as a zero.

import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LanguageModel } from "../model/types.js";
import type { SupportJudge } from "./citation-metrics.js";

export const RUBRIC_VERSION = "rubric-1";

/** The fixed rubric prompt (changing it changes RUBRIC_VERSION, so stored judged runs stay comparable). */
export const RUBRIC_PROMPT = `You grade an answer to a question, given the sources the answer was drawn from.
Score three things from 1 (worst) to 5 (best):
- relevance: does the answer address what was asked? (5 = fully, 1 = not at all)
- coherence: is the answer clear, well-formed and consistent? (5 = fully, 1 = incoherent)
- factual_accuracy: is every statement true according to the sources and the reference answer when one is given? (5 = all correct, 1 = mostly wrong)
A correct refusal ("the sources do not answer this") to a question the sources do not answer is relevant and accurate.
Reply with one JSON object and nothing else: {"relevance": <1-5>, "coherence": <1-5>, "factual_accuracy": <1-5>}`;

export const PAIRWISE_PROMPT = `You compare two answers to the same question, given the sources.
Prefer the answer that is more relevant, more accurate according to the sources, and clearer. Ignore the order in which they are shown and their length.
Reply with one JSON object and nothing else: {"better": "1"} or {"better": "2"} or {"better": "tie"}`;

export const SUPPORT_PROMPT = `You check whether a statement is fully supported by the passages: every fact in it must be stated in or follow directly from the passages.
Reply with one JSON object and nothing else: {"supported": true} or {"supported": false}`;

export interface RubricScores {
  relevance: number;
  coherence: number;
  factual_accuracy: number;
}

export interface JudgeInput {
  question: string;
  answer: string;
  contexts: readonly string[];
  reference?: string;
}

export type JudgeOutcome<T> = { ok: true; value: T; attempts: number } | { ok: false; error: string; attempts: number; lastOutput: string };

export interface JudgeOptions {
  /** Asks again after unparseable output this many times (default 2: three tries in all). */
  retries?: number;
  temperature?: number;
  seed?: number;
  maxTokens?: number;
  signal?: AbortSignal;
}

/** The first JSON object in a text (models wrap JSON in prose or code fences). */
export function firstJsonObject(text: string): unknown {
  const start = text.indexOf("{");
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const score = (v: unknown): number | null => {
  const n = typeof v === "string" && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n >= 1 && n <= 5 ? n : null;
};

/** Rubric scores from a judge's reply, or null when any score is missing or outside 1–5. */
export function parseRubric(text: string): RubricScores | null {
  const o = firstJsonObject(text) as Record<string, unknown> | undefined;
  if (!o || typeof o !== "object") return null;
  const relevance = score(o.relevance);
  const coherence = score(o.coherence);
  const factual = score(o.factual_accuracy ?? o.factualAccuracy ?? o.accuracy);
  if (relevance === null || coherence === null || factual === null) return null;
  return { relevance, coherence, factual_accuracy: factual };
}

/** "1", "2" or "tie" from a pairwise reply; null when unreadable. */
export function parsePreference(text: string): "1" | "2" | "tie" | null {
  const o = firstJsonObject(text) as Record<string, unknown> | undefined;
  const v = o && typeof o === "object" ? String(o.better ?? "").trim().toLowerCase() : "";
  return v === "1" || v === "2" || v === "tie" ? v : null;
}

export function parseSupport(text: string): boolean | null {
  const o = firstJsonObject(text) as Record<string, unknown> | undefined;
  const v = o && typeof o === "object" ? o.supported : undefined;
  return typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : null;
}

function sourcesBlock(contexts: readonly string[]): string {
  return contexts.length === 0 ? "(no sources)" : contexts.map((c, i) => `[${i + 1}] ${c}`).join("\n\n");
}

/** Asks the judge until `parse` reads its reply, at most 1 + retries times. Model errors propagate. */
export async function askJudge<T>(model: LanguageModel, system: string, user: string, parse: (text: string) => T | null, opts: JudgeOptions = {}): Promise<JudgeOutcome<T>> {
  const tries = 1 + (opts.retries ?? 2);
  let last = "";
  for (let attempt = 1; attempt <= tries; attempt++) {
    throwIfAborted(opts.signal);
    const messages = [
      { role: "system" as const, content: system },
      { role: "user" as const, content: attempt === 1 ? user : `${user}\n\nYour previous reply could not be read. Reply with the JSON object only.` },
    ];
    const r = await model.generate({ messages, temperature: opts.temperature ?? 0, maxTokens: opts.maxTokens ?? 200, ...(opts.seed !== undefined ? { seed: opts.seed + attempt - 1 } : {}), signal: opts.signal });
    last = r.text;
    const v = parse(r.text);
    if (v !== null) return { ok: true, value: v, attempts: attempt };
  }
  return { ok: false, error: `the judge's reply could not be read after ${tries} tries`, attempts: tries, lastOutput: last.slice(0, 500) };
}

/** Rubric scores of one answer. */
export function judgeRubric(model: LanguageModel, input: JudgeInput, opts: JudgeOptions = {}): Promise<JudgeOutcome<RubricScores>> {
  const user = `Question: ${input.question}\n\nSources:\n${sourcesBlock(input.contexts)}\n\n${input.reference !== undefined ? `Reference answer: ${input.reference}\n\n` : ""}Answer to grade: ${input.answer}`;
  return askJudge(model, RUBRIC_PROMPT, user, parseRubric, opts);
}

export type PairVerdict = "A" | "B" | "tie" | "inconsistent";

/**
 * Which of two answers the judge prefers, asked twice with the order swapped. A preference counts
 * only when both orders agree; "inconsistent" when they contradict (the judge followed position).
 */
export async function judgePair(model: LanguageModel, input: { question: string; contexts: readonly string[]; answerA: string; answerB: string }, opts: JudgeOptions = {}): Promise<JudgeOutcome<PairVerdict>> {
  const ask = (first: string, second: string): Promise<JudgeOutcome<"1" | "2" | "tie">> =>
    askJudge(model, PAIRWISE_PROMPT, `Question: ${input.question}\n\nSources:\n${sourcesBlock(input.contexts)}\n\nAnswer 1: ${first}\n\nAnswer 2: ${second}`, parsePreference, opts);
  const ab = await ask(input.answerA, input.answerB);
  if (!ab.ok) return ab;
  const ba = await ask(input.answerB, input.answerA);
  if (!ba.ok) return { ...ba, attempts: ab.attempts + ba.attempts };
  const first: PairVerdict = ab.value === "1" ? "A" : ab.value === "2" ? "B" : "tie";
  const second: PairVerdict = ba.value === "1" ? "B" : ba.value === "2" ? "A" : "tie";
  return { ok: true, value: first === second ? first : "inconsistent", attempts: ab.attempts + ba.attempts };
}

/** Thrown by a model-backed SupportJudge when the judge's reply stays unreadable. */
export class JudgeFailed extends StrataError {
  constructor(detail: string) {
    super("MODEL_OUTPUT_INVALID", detail, "the item is counted as failed; try a stronger judge model or check its chat template");
  }
}

/** A judge model as a support judge (citation and faithfulness metrics). */
export function modelSupportJudge(model: LanguageModel, opts: JudgeOptions = {}): SupportJudge {
  return async (statement, passages) => {
    if (passages.length === 0) return false;
    const r = await askJudge(model, SUPPORT_PROMPT, `Passages:\n${sourcesBlock(passages)}\n\nStatement: ${statement}`, parseSupport, opts);
    if (!r.ok) throw new JudgeFailed(r.error);
    return r.value;
  };
}

export interface SelfAgreement {
  /** Items judged twice with readable replies both times. */
  pairs: number;
  /** Share of those with identical scores on every criterion. */
  exact: number;
  /** Mean absolute difference per criterion, averaged. */
  meanAbsDiff: number;
}

/** How well the judge agrees with itself across two judgements of the same items. */
export function selfAgreement(pairs: ReadonlyArray<[RubricScores, RubricScores]>): SelfAgreement {
  if (pairs.length === 0) return { pairs: 0, exact: Number.NaN, meanAbsDiff: Number.NaN };
  let exact = 0;
  let diff = 0;
  for (const [a, b] of pairs) {
    const d = [a.relevance - b.relevance, a.coherence - b.coherence, a.factual_accuracy - b.factual_accuracy].map(Math.abs);
    if (d.every((x) => x === 0)) exact++;
    diff += (d[0]! + d[1]! + d[2]!) / 3;
  }
  return { pairs: pairs.length, exact: exact / pairs.length, meanAbsDiff: diff / pairs.length };
}
