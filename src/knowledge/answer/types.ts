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

export interface AnswerSentence {
  text: string;
  citations: number[];
  /** Share of the question's weighted terms the cited text contains (0–1). */
  support: number;
  supported: boolean;
}

export interface GroundedAnswer {
  question: string;
  answer: string;
  mode: "extractive";
  supported: boolean;
  citations: AnswerCitation[];
  sentences: AnswerSentence[];
  trace: {
    terms: string[];
    retrieved: { rank: number; chunkId: string; source: string; score: number }[];
    ms: number;
  };
}
