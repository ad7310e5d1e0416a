// The one interface of a knowledge store (decision 0010): every operation the knowledge base, the
// server, the CLI and the answer code need, typed, with no database handle in sight. The embedded
// SQLite store implements it today; a PostgreSQL store implements it next and must pass the same
// conformance suite (test/knowledge/store/conformance.ts). Results are `Awaitable` so a network
// backend may answer with promises while SQLite answers synchronously; callers that hold the
// interface type `await` every call.
import type { Bm25Params } from "../bm25.js";
import type { Acl, DocumentRecord, Principal, SearchFilter, SearchHit } from "../types.js";
import type { Access } from "./access.js";
import type { ConversationInfo, ConversationSummary, NewMessage, StoredMessage } from "./conversation-store.js";
import type { DocumentSummary, PageSpan } from "./readable-documents.js";
import type { ChunkToEmbed, DocumentInput, EmbeddingModelInfo, StoredDocumentInfo, StoredVector, WriteResult, WriteStatus } from "./sqlite-store.js";
import type { TraceData } from "../../core/trace.js";
import type { TraceSummary } from "./trace-store.js";

export type Awaitable<T> = T | Promise<T>;

/** How dense search finds its top k: "auto" picks by collection size and filter selectivity. */
export type DenseMethod = "auto" | "exact" | "ann";

export interface DenseQueryOptions {
  k: number;
  access: Access;
  filter?: SearchFilter;
  method?: DenseMethod;
}

/** What a backend's own consistency check found; `ok` false means the store needs a restore or rebuild. */
export interface IntegrityReport {
  ok: boolean;
  problems: string[];
  documents: number;
  chunks: number;
}

/** Conversations and their messages; a conversation belongs to the user who started it. */
export interface ConversationOps {
  find(id: string, access: Access): Awaitable<ConversationInfo | undefined>;
  listOwn(principal: Principal): Awaitable<ConversationSummary[]>;
  isOwnedBy(id: string, principal: Principal): Awaitable<boolean>;
  checkWritable(id: string, access: Access): Awaitable<void>;
  messages(id: string, access: Access, opts?: { last?: number }): Awaitable<StoredMessage[]>;
  append(id: string, access: Access, messages: NewMessage[]): Awaitable<ConversationInfo>;
}

/** Traces of answers, each readable by its owner (and the operator). */
export interface TraceOps {
  save(trace: TraceData, access: Access): Awaitable<void>;
  get(id: string, access: Access): Awaitable<(TraceData & { owner: string }) | undefined>;
  list(access: Access, limit?: number): Awaitable<TraceSummary[]>;
}

/** What a principal may see of the documents without searching: never more than search shows. */
export interface ReadableDocumentOps {
  list(principal: Principal): Awaitable<DocumentSummary[]>;
  counts(principal: Principal): Awaitable<{ documents: number; chunks: number }>;
  pageSpans(docId: string, principal: Principal): Awaitable<PageSpan[]>;
}

export interface KnowledgeStoreBackend {
  // ---- documents (each write atomic: the old version or the new one, never a mix) ----
  findBySource(source: string): Awaitable<StoredDocumentInfo | undefined>;
  isUnchanged(info: StoredDocumentInfo, hash: string, acl: Acl, tags: string[]): Awaitable<boolean>;
  writeDocument(input: DocumentInput): Awaitable<{ status: WriteStatus; version: number }>;
  /** Many documents in one transaction and index segment; a document that fails is returned as its error, the others are written. */
  writeDocuments(inputs: DocumentInput[]): Awaitable<WriteResult[]>;
  removeDocument(docId: string): Awaitable<boolean>;
  listSources(): Awaitable<{ docId: string; source: string }[]>;
  getDocument(docId: string, access: Access): Awaitable<DocumentRecord | undefined>;
  readonly readable: ReadableDocumentOps;

  // ---- chunks and lexical search ----
  chunkCount(): Awaitable<number>;
  termStats(terms: Iterable<string>): Awaitable<{ chunks: number; df: Map<string, { termId: number; df: number }> }>;
  lexicalSearch(queryTerms: string[], opts: { k: number; access: Access; filter?: SearchFilter; params: Bm25Params }): Awaitable<SearchHit[]>;

  // ---- dense vectors, one width per embedding model id ----
  embeddingModel(modelId: string): Awaitable<EmbeddingModelInfo | undefined>;
  listEmbeddingModels(): Awaitable<EmbeddingModelInfo[]>;
  countChunksWithoutVector(modelId: string): Awaitable<number>;
  chunksWithoutVector(modelId: string, afterRowid: number, limit: number): Awaitable<ChunkToEmbed[]>;
  writeVectors(modelId: string, dimensions: number, vectors: StoredVector[]): Awaitable<number>;
  dropVectors(modelId: string): Awaitable<number>;
  /** Top-k by cosine to a unit-length query among the chunks the caller may read (filters inside the search). */
  denseSearch(modelId: string, query: Float32Array, opts: DenseQueryOptions): Awaitable<SearchHit[]>;

  // ---- conversations, traces, health ----
  readonly conversations: ConversationOps;
  readonly traces: TraceOps;
  integrityCheck(): Awaitable<IntegrityReport>;
  close(): Awaitable<void>;
}
