// Grounded answers written by a language model: retrieve what the caller may read, assemble it
// within the model's window as fenced, numbered sources, stream the model's answer, then check
// every sentence against the sources it cites and keep (or flag) only what they support. Each
// step is a span of a trace stored with the caller as owner.
import { z } from "zod";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import { inSpan, Trace, type JsonValue, type Span } from "../../core/trace.js";
import type { EmbeddingModel, LanguageModel } from "../../model/types.js";
import { idf } from "../bm25.js";
import type { KnowledgeBase, SearchOptions } from "../knowledge-base.js";
import { checkQuery } from "../limits.js";
import type { Access } from "../store/access.js";
import { isOwner } from "../store/access.js";
import type { SearchFilter, SearchHit } from "../types.js";
import { dropCitations, splitClaims } from "./citations.js";
import { condenseByTerms, condenseWithModel } from "./condense.js";
import { guardAnswer, guardQuestion, type AnswerGuards, type GuardFinding } from "./guard.js";
import { assembleContext, type ContextSource, type LeftOut } from "./context.js";
import { NOT_FOUND_ANSWER, questionTerms } from "./extractive.js";
import { buildMessages, CANNOT_ANSWER, chooseFence, historyMessages, questionBlock, randomFence, renderSource, systemPrompt, type HistoryTurn } from "./prompt.js";
import type { AnswerCitation, AnswerSentence, AnswerUsage, GroundedAnswer } from "./types.js";
import { contentTerms, declines, verifyClaim, type ClaimCheck, type VerifySource } from "./verify.js";

export type VerifyMode = "flag" | "remove";

export interface GenerativeOptions {
  model: LanguageModel;
  access: Access;
  /** Chunks retrieved before assembly (default 8). */
  k?: number;
  filter?: SearchFilter;
  /** How to retrieve, passed on to kb.search (mode, embedder, reranker, BM25 parameters). */
  search?: Pick<SearchOptions, "mode" | "embedder" | "rerank" | "rerankDepth" | "bm25">;
  /** "flag" keeps unsupported sentences and marks them; "remove" drops them (default "flag"). */
  verify?: VerifyMode;
  /** Least weighted term coverage for a sentence to count as supported (default 0.5). */
  minSupport?: number;
  /** Cap on the context window, in tokens (default: the model's, else 4096). */
  maxContextTokens?: number;
  /** Tokens kept free for the answer (default 512, at most a quarter of the window). */
  maxAnswerTokens?: number;
  temperature?: number;
  seed?: number;
  /** Earlier turns of a conversation, oldest first; the most recent that fit are included. */
  history?: HistoryTurn[];
  /** With history: false carries the previous question's terms instead of asking the model to rewrite (default true). */
  condense?: boolean;
  /** Jailbreak screen on the question, PII redaction of the answer (answer/guard.ts); each logged as a trace span. */
  guards?: AnswerGuards;
  /** Receives the answer's text as the model writes it. */
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
  /** The trace's kind (default "ask"); traces are stored unless `recordTrace` is false. */
  traceKind?: string;
  recordTrace?: boolean;
  /** Extra trace attributes (a chat turn's session id). */
  traceAttributes?: Record<string, JsonValue>;
  /** Fence token generator (tests). */
  fence?: () => string;
}

const DEFAULT_WINDOW = 4096;
const DEFAULT_ANSWER_TOKENS = 512;
/** Share of the prompt budget that earlier turns may use; the sources get the rest. */
const HISTORY_SHARE = 0.25;
/** Tokens per chat message for the template's role markers. */
const MESSAGE_OVERHEAD = 8;

// The finish event comes from a provider parsing a remote reply: check it before trusting it.
const finishSchema = z.object({
  text: z.string(),
  finishReason: z.string(),
  model: z.string(),
  usage: z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative(), costUsd: z.number().nonnegative().optional() }),
});

function findingsAttr(findings: GuardFinding[]): JsonValue {
  return findings.map((f) => ({ validator: f.validator, message: f.message, blocking: f.blocking }));
}

/** The search query without a model: the question's content words, plus the previous question's for a follow-up. */
export function retrievalQuery(question: string, history: HistoryTurn[] = []): string {
  return condenseByTerms(question, history.map((t) => t.question)).query;
}

function accessAttr(access: Access): JsonValue {
  return isOwner(access) ? "owner" : { user: access.user ?? null, groups: access.groups ?? [] };
}

function leftOutAttr(l: LeftOut): JsonValue {
  return { chunkId: l.chunkId, source: l.source, rank: l.rank, reason: l.reason, ...(l.into ? { into: l.into } : {}), ...(l.tokens !== undefined ? { tokens: l.tokens } : {}) };
}

/** The embedder as search sees it, with each embed call recorded as a child span of retrieval. */
function timedEmbedder(model: EmbeddingModel, span: Span): EmbeddingModel {
  return {
    id: model.id,
    get dimensions() {
      return model.dimensions;
    },
    embed: (texts, o) => inSpan(span, "embed-query", () => model.embed(texts, o), { model: model.id, texts: texts.length }),
    close: () => model.close(),
  };
}

interface Assembled {
  sources: ContextSource[];
  history: HistoryTurn[];
  fence: string;
  promptTokens: number;
  maxTokens: number;
  question: string;
}

/** Fits instructions, question, recent history and the best sources into the model's window. */
async function assemble(question: string, hits: SearchHit[], opts: GenerativeOptions, span: Span): Promise<Assembled> {
  const { model } = opts;
  const history = opts.history ?? [];
  const window = Math.min(opts.maxContextTokens ?? Infinity, model.contextLength ?? (opts.maxContextTokens ? Infinity : DEFAULT_WINDOW));
  const maxTokens = Math.max(16, Math.min(opts.maxAnswerTokens ?? DEFAULT_ANSWER_TOKENS, Math.floor(window / 4)));
  const everything = [question, ...history.flatMap((t) => [t.question, t.answer]), ...hits.flatMap((h) => [h.text, h.title, ...h.headingPath])];
  const fence = chooseFence(everything, opts.fence ?? randomFence);
  const count = (t: string): Promise<number> => model.countTokens(t);

  const fixed = (await count(systemPrompt(fence))) + (await count(`Sources:\n\n${questionBlock(question)}`)) + 2 * MESSAGE_OVERHEAD;
  const available = window - maxTokens - fixed;
  if (available <= 0) {
    throw new StrataError("CONTEXT_OVERFLOW", `the instructions and question need ${fixed} tokens, and ${maxTokens} are kept for the answer; the model's window is ${window}`, "shorten the question, or use a model with a larger context window");
  }

  // Recent turns first, within their share; an older turn that does not fit ends the history.
  const kept: HistoryTurn[] = [];
  let historyTokens = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const t = history[i]!;
    const tokens = (await count(historyMessages([t]).map((m) => m.content).join("\n"))) + 2 * MESSAGE_OVERHEAD;
    if (historyTokens + tokens > available * HISTORY_SHARE) break;
    kept.unshift(t);
    historyTokens += tokens;
  }

  const context = await assembleContext(hits, { budget: available - historyTokens, countTokens: count, render: (s) => renderSource(s, fence) + "\n\n", signal: opts.signal });
  if (hits.length > 0 && context.sources.length === 0) {
    const smallest = Math.min(...context.leftOut.filter((l) => l.reason === "budget").map((l) => l.tokens ?? 0));
    throw new StrataError("CONTEXT_OVERFLOW", `no retrieved source fits the model's window of ${window} tokens (the smallest needs ${smallest}, ${available - historyTokens} are free)`, "use a model with a larger context window, or re-ingest with smaller chunks");
  }
  span.set({
    window,
    reservedForAnswer: maxTokens,
    instructionTokens: fixed,
    historyTurns: kept.length,
    historyLeftOut: history.length - kept.length,
    historyTokens,
    sourceTokens: context.tokens,
    sources: context.sources.map((s) => ({ n: s.n, chunkIds: s.chunks.map((c) => c.chunkId), source: s.source, rank: s.rank, tokens: s.tokens })),
    leftOut: context.leftOut.map(leftOutAttr),
  });
  return { sources: context.sources, history: kept, fence, promptTokens: fixed + historyTokens + context.tokens, maxTokens, question };
}

interface Generated {
  text: string;
  usage: AnswerUsage;
  model: string;
  finishReason: string;
}

async function generate(opts: GenerativeOptions, a: Assembled, span: Span): Promise<Generated> {
  const messages = buildMessages({ fence: a.fence, history: a.history, sourceBlocks: a.sources.map((s) => renderSource(s, a.fence)), question: a.question });
  let text = "";
  let finish: unknown;
  for await (const event of opts.model.stream({ messages, maxTokens: a.maxTokens, temperature: opts.temperature ?? 0, seed: opts.seed, signal: opts.signal })) {
    throwIfAborted(opts.signal);
    if (event.type === "text-delta") {
      text += event.text;
      opts.onDelta?.(event.text);
    } else if (event.type === "finish") finish = event.result;
  }
  throwIfAborted(opts.signal);
  let out: Generated;
  if (finish === undefined) {
    // A stream that ended without usage: estimate it, and say so.
    out = { text, usage: { inputTokens: a.promptTokens, outputTokens: await opts.model.countTokens(text), estimated: true }, model: opts.model.id, finishReason: "unknown" };
  } else {
    const r = finishSchema.safeParse(finish);
    if (!r.success) throw new StrataError("MODEL_OUTPUT_INVALID", `the model's final reply is malformed: ${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message}`, "check the model server speaks the OpenAI chat protocol");
    const f = r.data;
    if (f.finishReason === "aborted") throw new StrataError("ABORTED", "the answer was cancelled", "ask again");
    out = { text: text || f.text, usage: { inputTokens: f.usage.inputTokens, outputTokens: f.usage.outputTokens, ...(f.usage.costUsd !== undefined ? { costUsd: f.usage.costUsd } : {}) }, model: f.model, finishReason: f.finishReason };
  }
  span.addUsage(out.usage).set({ model: out.model, finishReason: out.finishReason, chars: out.text.length, output: out.text, usageEstimated: out.usage.estimated === true });
  return out;
}

function idfOf(kb: KnowledgeBase, terms: Iterable<string>): (t: string) => number {
  const stats = kb.store.termStats(terms);
  return (t) => idf(stats.df.get(t)?.df ?? 0, stats.chunks);
}

/** The cited chunk whose span holds the evidence (merged sources hold several). */
function chunkAt(source: ContextSource, at: number): ContextSource["chunks"][number] {
  return source.chunks.find((c) => c.start <= at && at < c.end) ?? source.chunks[0]!;
}

interface Verified {
  answer: string;
  sentences: AnswerSentence[];
  citations: AnswerCitation[];
  supported: boolean;
}

function verifyAnswer(kb: KnowledgeBase, text: string, sources: ContextSource[], opts: GenerativeOptions, span: Span): Verified {
  const mode = opts.verify ?? "flag";
  const claims = splitClaims(text);
  const byN = new Map<number, VerifySource>(sources.map((s) => [s.n, { n: s.n, start: s.start, text: s.text, title: s.title, headingPath: s.headingPath }]));
  const weights = idfOf(kb, claims.flatMap((c) => contentTerms(c.plain)));
  const checks: ClaimCheck[] = claims.map((c) => verifyClaim(c, byN, weights, { minSupport: opts.minSupport }));

  const sentences: AnswerSentence[] = claims.map((c, i) => {
    const k = checks[i]!;
    const removed = mode === "remove" && k.verdict !== "supported";
    return {
      text: c.text,
      citations: k.citations,
      support: k.support,
      supported: k.verdict === "supported",
      verdict: k.verdict,
      reason: k.reason,
      ...(k.invalid.length > 0 ? { invalidCitations: k.invalid } : {}),
      ...(k.unmatched.length > 0 ? { unmatched: k.unmatched } : {}),
      evidence: k.evidence.map(({ n, start, end }) => ({ n, start, end })),
      ...(mode === "remove" ? { removed } : {}),
    };
  });
  const keptIdx = sentences.map((s, i) => (s.removed ? -1 : i)).filter((i) => i >= 0);
  const supported = sentences.some((s) => s.supported);

  // One citation per number the kept sentences cite: the span from its first to its last evidence.
  const citations: AnswerCitation[] = [];
  const used = [...new Set(keptIdx.flatMap((i) => checks[i]!.citations))].sort((a, b) => a - b);
  for (const n of used) {
    const source = sources.find((s) => s.n === n)!;
    // Evidence of supported sentences decides the span; an unsupported one's best match may be unrelated.
    const citing = keptIdx.filter((i) => checks[i]!.citations.includes(n));
    const from = citing.some((i) => sentences[i]!.supported) ? citing.filter((i) => sentences[i]!.supported) : citing;
    const ev = from.flatMap((i) => checks[i]!.evidence.filter((e) => e.n === n));
    const start = Math.min(...ev.map((e) => e.start));
    const end = Math.max(...ev.map((e) => e.end));
    const chunk = chunkAt(source, start);
    citations.push({
      n,
      docId: source.docId,
      source: source.source,
      title: source.title,
      chunkId: chunk.chunkId,
      page: chunk.page,
      start,
      end,
      quote: source.text.slice(start - source.start, end - source.start),
      score: Number(Math.max(...ev.map((e) => e.coverage)).toFixed(4)),
    });
  }

  const answer =
    mode === "remove"
      ? keptIdx.map((i) => dropCitations(claims[i]!.text, new Set(checks[i]!.invalid))).join(" ")
      : text.trim();
  span.set({
    mode,
    sentences: sentences.length,
    supported: sentences.filter((s) => s.supported).length,
    [mode === "remove" ? "removed" : "flagged"]: sentences.filter((s) => !s.supported).length,
    invalidCitations: [...new Set(checks.flatMap((k) => k.invalid))],
    verdicts: sentences.map((s) => s.verdict ?? "supported"),
  });
  return { answer, sentences, citations, supported };
}

function notFound(question: string, base: Omit<GroundedAnswer, "question" | "answer" | "mode" | "supported" | "citations">, abstention: NonNullable<GroundedAnswer["abstention"]>): GroundedAnswer {
  return { question, answer: NOT_FOUND_ANSWER, mode: "generative", supported: false, citations: [], ...base, abstention };
}

/**
 * Answers a question with the model from what the caller may read. The answer abstains
 * (supported: false, "not found") when retrieval finds nothing, when the model declines, or
 * when no sentence is supported by the sources it cites.
 */
export async function answerWithModel(kb: KnowledgeBase, question: string, opts: GenerativeOptions): Promise<GroundedAnswer> {
  const asked = checkQuery(question, "question");
  const trace = new Trace(opts.traceKind ?? "ask");
  trace.set({ question: asked, model: opts.model.id, access: accessAttr(opts.access), verify: opts.verify ?? "flag", ...opts.traceAttributes, ...(opts.guards ? { guardrails: opts.guards.names } : {}) });
  const started = performance.now();
  const record = (): void => {
    trace.end();
    if (opts.recordTrace !== false) kb.store.traces.save(trace.toJSON(), opts.access);
  };
  try {
    const guards = opts.guards;
    const q = guards?.input ? await inSpan(trace, "guard-input", async (span) => {
      const g = guardQuestion(asked, guards); // a blocked question ends here, its trace recorded with the error
      span.set({ findings: findingsAttr(g.findings) });
      return g.question;
    }) : asked;
    // The answer is guarded before anyone sees it: with an output guard nothing is streamed raw.
    if (guards?.output) opts = { ...opts, onDelta: undefined };
    // A follow-up is made standalone before retrieval (condense.ts); the span shows the rewrite.
    const history = opts.history ?? [];
    const condensed =
      history.length === 0
        ? undefined
        : await inSpan(trace, "condense", async (span) => {
            const c = opts.condense === false ? condenseByTerms(q, history.map((t) => t.question)) : await condenseWithModel(opts.model, q, history, opts.signal);
            span.set({ method: c.method, query: c.query, ...(c.rewritten ? { rewritten: c.rewritten } : {}) });
            return c;
          });
    const query = condensed?.query ?? retrievalQuery(q);
    const terms = questionTerms(query);
    const hits = await inSpan(trace, "retrieve", async (span) => {
      const rerank = opts.search?.rerank;
      const embedder = opts.search?.embedder;
      const hits =
        terms.length === 0
          ? []
          : await kb.search(query, {
              ...opts.search,
              k: opts.k ?? 8,
              access: opts.access,
              filter: opts.filter,
              signal: opts.signal,
              // Query embedding and reranking run inside search; wrapping them gives each a span of its own.
              ...(embedder ? { embedder: timedEmbedder(embedder, span) } : {}),
              ...(rerank ? { rerank: (qq: string, hh: SearchHit[], o?: { signal?: AbortSignal }) => inSpan(span, "rerank", () => rerank(qq, hh, o), { candidates: hh.length }) } : {}),
            });
      span.set({ query, mode: opts.search?.mode ?? "lexical", k: opts.k ?? 8, hits: hits.length, retrieved: hits.map((h) => ({ rank: h.rank, chunkId: h.chunkId, source: h.source, score: h.score })) });
      return hits;
    });
    const base = {
      sentences: [] as AnswerSentence[],
      trace: { terms, retrieved: hits.map((h) => ({ rank: h.rank, chunkId: h.chunkId, source: h.source, score: h.score })), ms: 0, ...(condensed ? { condensed } : {}) },
      model: opts.model.id,
      traceId: trace.id,
    };
    const finish = (raw: GroundedAnswer): GroundedAnswer => {
      let a = raw;
      if (guards) {
        const g = guardAnswer(raw, guards);
        if (guards.output) trace.start("guard-output", { findings: findingsAttr(g.findings) }).end();
        a = { ...g.answer, guardrails: { on: guards.names, findings: g.findings } };
      }
      a.trace.ms = performance.now() - started;
      trace.set({ supported: a.supported, ...(a.abstention ? { abstention: a.abstention } : {}) });
      record();
      return a;
    };
    if (hits.length === 0) return finish(notFound(q, { ...base, usage: { inputTokens: 0, outputTokens: 0 } }, "no-sources"));

    const assembled = await inSpan(trace, "assemble", (span) => assemble(q, hits, opts, span));
    const generated = await inSpan(trace, "generate", (span) => generate(opts, assembled, span), { model: opts.model.id, promptTokens: assembled.promptTokens, maxTokens: assembled.maxTokens });
    const withUsage = { ...base, model: generated.model, usage: generated.usage };

    const citesValid = splitClaims(generated.text).some((c) => c.citations.some((n) => n >= 1 && n <= assembled.sources.length));
    if (declines(generated.text, CANNOT_ANSWER, citesValid)) return finish(notFound(q, withUsage, "model-declined"));

    const v = await inSpan(trace, "verify", (span) => verifyAnswer(kb, generated.text, assembled.sources, opts, span));
    if (!v.supported) return finish({ ...notFound(q, withUsage, "no-supported-sentence"), sentences: v.sentences });
    return finish({ question: q, answer: v.answer, mode: "generative", supported: true, citations: v.citations, ...withUsage, sentences: v.sentences });
  } catch (e) {
    trace.set({ error: e instanceof Error ? e.message : String(e) });
    try {
      record();
    } catch {
      // The error that ended the answer matters more than its trace.
    }
    throw e;
  }
}
