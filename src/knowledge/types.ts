// The data model of a knowledge base (DESIGN.md: document → chunks → indexes), shared by loaders,
// the chunker, the store, retrieval and answering.

/** A structural unit of a document's extracted text, as a character span of that text. */
export interface TextBlock {
  kind: "heading" | "paragraph";
  /** Heading level 1–6; absent for paragraphs. */
  level?: number;
  /** Character offsets into ExtractedDocument.text: text.slice(start, end) is the block. */
  start: number;
  end: number;
  /** 1-based page number, for paged formats (PDF). */
  page?: number;
}

/** What a loader returns: the document's plain extracted text and its structure over that text. */
export interface ExtractedDocument {
  text: string;
  /** Title when the format names one (HTML <title>, first Markdown H1, PDF metadata). */
  title?: string;
  mime: string;
  /** Blocks in reading order, non-overlapping; every offset within text. */
  blocks: TextBlock[];
  /** Chunks already made where the document was parsed (a parse-pool worker), so the thread that stores it does not chunk. */
  chunks?: ChunkDraft[];
}

/** A chunk as the chunker makes it: a span of the document's text plus where it sits in the outline. */
export interface ChunkDraft {
  ordinal: number;
  start: number;
  end: number;
  /** text.slice(start, end) of the document. */
  text: string;
  headingPath: string[];
  /** Page of the chunk's first character, for paged formats. */
  page?: number;
}

/** Access list of a document: empty users and groups means public. */
export interface Acl {
  users: string[];
  groups: string[];
}

/** Who is asking: a user id and the groups the user belongs to. No principal = anonymous (public only). */
export interface Principal {
  user?: string;
  groups?: string[];
}

export interface DocumentRecord {
  docId: string;
  source: string;
  title: string;
  mime: string;
  hash: string;
  version: number;
  ingestedAt: string;
  tags: string[];
  acl: Acl;
  text: string;
}

export interface SearchHit {
  rank: number;
  score: number;
  docId: string;
  source: string;
  title: string;
  chunkId: string;
  headingPath: string[];
  page: number | null;
  start: number;
  end: number;
  text: string;
}

export interface SearchFilter {
  tags?: string[];
  sourcePrefix?: string;
}
