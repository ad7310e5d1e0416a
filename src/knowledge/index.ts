// The knowledge layer's public surface: a knowledge base (ingest, search, cited answers) and the
// shapes it takes and returns. Loaders, the store and the rankers stay internal.
export { KnowledgeBase, SEARCH_MODES, type SearchMode, type IngestOptions, type IngestReport, type IngestFailure, type SearchOptions, type AnswerOptions, type DocumentSource, type EmbedOptions, type EmbedReport, type Reranker } from "./knowledge-base.js";
export type * from "./types.js";
