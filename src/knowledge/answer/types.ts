// What a grounded answer carries: the text, where every sentence came from, and whether the
// knowledge base supports it at all.

export interface AnswerCitation {
  n: number;
  docId: string;
  source: string;
  title: string;
  chunkId: string;
  page: number | null;
  /** Span in the document's extracted text: quote === text.slice(start, end). */
  start: number;
  end: number;
  quote: string;
  score: number;
}

/** Why a generated sentence was or was not accepted. */
export type SentenceVerdict =
  | "supported"
  /** No citation marker at all. */
  | "uncited"
  /** Every number it cites names no source. */
  | "invalid-citation"
  /** The cited text covers too little of what the sentence says. */
  | "low-support"
  /** A number or name in the sentence does not appear in the cited text. */
  | "unmatched-fact";

/** Where in a cited source a sentence's evidence is: text.slice(start, end) of the document. */
export interface SentenceEvidence {
  n: number;
  start: number;
  end: number;
}

export interface AnswerSentence {
  text: string;
  citations: number[];
  /** Extractive: the calibrated support, the estimated probability that the sentence holds the answer. Generative: share of the sentence's weighted terms the cited text covers (0–1). */
  support: number;
  supported: boolean;
  /** Generative mode: the verification verdict and its reason in words. */
  verdict?: SentenceVerdict;
  reason?: string;
  /** Generative mode: citation numbers that name no source. */
  invalidCitations?: number[];
  /** Generative mode: numbers and names the cited text lacks. */
  unmatched?: string[];
  /** Generative mode: the best-matching span of each cited source. */
  evidence?: SentenceEvidence[];
  /** Generative mode with verify "remove": the sentence is not in the answer text. */
  removed?: boolean;
}

/** Tokens and cost of the model calls behind an answer. */
export interface AnswerUsage {
  inputTokens: number;
  outputTokens: number;
  /** US dollars, when the model has a price; absent otherwise. */
  costUsd?: number;
  /** True when the provider reported no usage and the counts are estimates. */
  estimated?: boolean;
}

/** Why an answer is "not found". */
export type Abstention = "no-sources" | "model-declined" | "no-supported-sentence";

export interface GroundedAnswer {
  question: string;
  answer: string;
  mode: "extractive" | "generative";
  supported: boolean;
  citations: AnswerCitation[];
  sentences: AnswerSentence[];
  trace: {
    terms: string[];
    retrieved: { rank: number; chunkId: string; source: string; score: number }[];
    ms: number;
    /** A follow-up made standalone before retrieval (answer/condense.ts): how, and what was searched. */
    condensed?: { method: "none" | "terms" | "model"; query: string; rewritten?: string };
  };
  /** Generative mode: the model that answered. */
  model?: string;
  /** Why the answer abstained, when it did (both modes). */
  abstention?: Abstention;
  /** Extractive mode: the abstention's reason in words (e.g. the best sentence's support and the bar). */
  abstentionDetail?: string;
  /** Generative mode: what the model's calls cost. */
  usage?: AnswerUsage;
  /** Id of the stored trace (`strata trace <id>`). */
  traceId?: string;
  /** Guardrails switched on for this answer and what they found (answer/guard.ts). */
  guardrails?: { on: string[]; findings: { validator: string; message: string; blocking: boolean }[] };
}
