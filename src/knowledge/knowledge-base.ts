// The knowledge base as one object: ingest sources (load → chunk → store), search with access
// control, answer with citations, show documents. The CLI and the server are thin layers on it.
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { StrataError, throwIfAborted, toStrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { sha256, stableId } from "../core/hash.js";
import { analyze } from "./analyzer.js";
import { answerExtractively, questionTerms, type ExtractiveOptions } from "./answer/extractive.js";
import { condenseByTerms } from "./answer/condense.js";
import { guardAnswer, guardQuestion, type AnswerGuards } from "./answer/guard.js";
import type { GroundedAnswer } from "./answer/types.js";
import { DEFAULT_BM25, idf, type Bm25Params } from "./bm25.js";
import { chunkDocument, type ChunkingOptions } from "./chunker.js";
import { DenseRetriever } from "./dense/dense-retriever.js";
import { embedMissingChunks, type EmbedOptions, type EmbedReport } from "./dense/embed-chunks.js";
import { reciprocalRankFusion } from "./fusion.js";
import { checkQuery } from "./limits.js";
import { sharedParsePool } from "./loaders/parse-pool.js";
import type { ParseLimits } from "./loaders/parse-limits.js";
import { DEFAULT_MAX_BYTES, readSourceBytes } from "./loaders/read-source.js";
import { collectSources, type SkippedSource } from "./loaders/walk.js";
import type { Reranker } from "./rerank.js";
import type { Access } from "./store/access.js";
import type { DenseMethod, KnowledgeStoreBackend } from "./store/backend.js";
import { storeLocation } from "./store/location.js";
import type { DocumentPage, DocumentQuery } from "./store/readable-documents.js";
import type { OpenOptions } from "./store/schema.js";
import { KnowledgeStore, type DocumentInput, type EmbeddingModelInfo, type WriteStatus } from "./store/sqlite-store.js";
import type { Acl, DocumentRecord, ExtractedDocument, SearchFilter, SearchHit } from "./types.js";
import type { EmbeddingModel } from "../model/types.js";

export type { EmbedOptions, EmbedReport } from "./dense/embed-chunks.js";
export type { Reranker } from "./rerank.js";

/** lexical = BM25F; dense = cosine over one embedding model's vectors; hybrid = RRF of both. */
export type SearchMode = "lexical" | "dense" | "hybrid";
export const SEARCH_MODES: readonly SearchMode[] = ["lexical", "dense", "hybrid"];

/** Answers in bases smaller than this many chunks weigh terms as in a base of this size (see answerSources). */
const MIN_IDF_BASE = 200;

/** Each list fused in hybrid search is fetched this deep (or k, when larger). */
const HYBRID_DEPTH = 50;
/** Candidates a reranker scores when not told (or k, when larger). */
const RERANK_DEPTH = 20;

export interface IngestOptions extends LongOperationOptions {
  acl?: Partial<Acl>;
  tags?: string[];
  /** Remove documents whose source file no longer exists. */
  prune?: boolean;
  include?: string[];
  exclude?: string[];
  maxBytes?: number;
  /** How far one document may expand while parsed (loaders/parse-limits.ts). */
  limits?: Partial<ParseLimits>;
  chunking?: Partial<ChunkingOptions>;
}

export interface IngestFailure {
  source: string;
  code: string;
  message: string;
  hint: string;
}

export interface IngestReport {
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: IngestFailure[];
  /** Files found in the named folders but not loaded (unsupported type), with the reason. */
  skipped?: SkippedSource[];
}

export interface SearchOptions {
  k?: number;
  access: Access;
  filter?: SearchFilter;
  bm25?: Partial<Bm25Params>;
  /** Default "lexical". Dense and hybrid need `embedder` and its vectors in the store. */
  mode?: SearchMode;
  /** The model that embedded the chunks (same id); it embeds the query. */
  embedder?: EmbeddingModel;
  /** Dense top-k: "auto" (default) picks the exact scan or the approximate index by size and filter. */
  denseMethod?: DenseMethod;
  /** Rescores the best candidates; the result is sorted by its scores (see rerank.ts). */
  rerank?: Reranker;
  /** Candidates given to the reranker (default max(k, 20)). */
  rerankDepth?: number;
  signal?: AbortSignal;
}

export interface AnswerOptions {
  access: Access;
  filter?: SearchFilter;
  /** Chunks read to find answer sentences. */
  k?: number;
  extractive?: Partial<ExtractiveOptions>;
  /** Earlier questions of the conversation, oldest first: a follow-up carries the last one's terms. */
  previousQuestions?: string[];
  /** Jailbreak screen on the question, PII redaction of the answer (answer/guard.ts). */
  guards?: AnswerGuards;
}

/** Guardrails a knowledge base switches on for every answer from it (`strata guardrails`). */
export interface GuardrailSettings {
  redactPii: boolean;
  screenJailbreaks: boolean;
}

/** A document already extracted in memory (datasets, tests, the server's uploads). */
export interface DocumentSource {
  source: string;
  document: ExtractedDocument;
  /** Hash of the original bytes; defaults to a hash of the extracted text. */
  hash?: string;
  size?: number;
}

/**
 * Documents per write transaction (and index segment) during ingest, and the longest a batch waits.
 * Each batch writes one blob per distinct term: under load, 1 s batches of a few hundred small
 * files spent a quarter of the write time on blobs; 3 s keeps a killed run's loss small.
 */
const INGEST_BATCH = 1000;
const INGEST_BATCH_MS = 3000;
/** Files read and parsed ahead of the writer. */
const INGEST_READ_AHEAD = 16;

type PreparedFile =
  | { kind: "unchanged"; file: string }
  | { kind: "ready"; file: string; input: DocumentInput }
  | { kind: "failed"; file: string; error: unknown };

/** Runs `fn` over items with up to `width` in flight, yielding results in the items' order. */
async function* inOrder<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  while (next < items.length && pending.length < width) pending.push(fn(items[next++]!));
  while (pending.length > 0) {
    const r = await pending.shift()!;
    if (next < items.length) pending.push(fn(items[next++]!));
    yield r;
  }
}

function failure(source: string, e: unknown): IngestFailure {
  const err = toStrataError(e, "PARSE_FAILED", "check the file opens in its own application, or leave it out with --exclude");
  return { source, code: err.code, message: err.message, hint: err.hint };
}

export class KnowledgeBase {

  private constructor(
    readonly location: string,
    /** The store behind the async paths (ingest, search, answer): SQLite or PostgreSQL. */
    readonly backend: KnowledgeStoreBackend,
    private readonly embedded: KnowledgeStore | undefined,
    /** Settings read once when a PostgreSQL knowledge base is opened (its store answers asynchronously). */
    private readonly remote: { guardrails?: string } = {},
  ) {}

  /**
   * The embedded store, for the operations that are still synchronous (document lists, uploads,
   * dense vectors, index maintenance); a PostgreSQL knowledge base refuses them with a clear error.
   */
  get store(): KnowledgeStore {
    if (!this.embedded) {
      throw new StrataError("USAGE", `this operation is not available yet on the PostgreSQL knowledge base ${this.location}`, "ingest, search and ask work on postgres:// locations; for the rest, use an embedded knowledge base (a folder)");
    }
    return this.embedded;
  }

  /** Opens the knowledge base in a folder; `create` makes one in a new or empty folder. A postgres:// location needs openAt. */
  static open(location: string, opts: OpenOptions = {}): KnowledgeBase {
    const where = storeLocation(location);
    if (where.kind === "postgres") {
      throw new StrataError("USAGE", "this command reads embedded knowledge bases (folders) only, not postgres:// locations yet", "ingest, search and ask take --kb postgres://…; for this command use a folder");
    }
    const store = KnowledgeStore.open(location, opts);
    return new KnowledgeBase(resolve(location), store, store);
  }

  /** Opens a knowledge base in a folder or at a postgres:// URL (created there with `create`). */
  static async openAt(location: string, opts: OpenOptions & { onNotice?: (message: string) => void } = {}): Promise<KnowledgeBase> {
    const where = storeLocation(location);
    if (where.kind === "folder") return KnowledgeBase.open(location, opts);
    // Loaded on demand: embedded users never load the PostgreSQL client.
    const { PgKnowledgeStore } = await import("./store/postgres/pg-store.js");
    const store = await PgKnowledgeStore.open(where.url, { create: opts.create, onNotice: opts.onNotice });
    try {
      // The location shows up in messages: never with its password.
      return new KnowledgeBase(store.where, store, undefined, { guardrails: await store.setting("guardrails") });
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  close(): void {
    void this.backend.close();
  }

  async closeAsync(): Promise<void> {
    await this.backend.close();
  }

  /**
   * Loads, chunks and stores files and folders. Files are read, hashed and parsed a few at a time
   * while earlier ones are written; writes go in batches (up to INGEST_BATCH documents or
   * INGEST_BATCH_MS, one transaction and one index segment each), so a killed run keeps its
   * finished batches and a re-run skips them as unchanged.
   */
  async ingest(paths: string[], opts: IngestOptions = {}): Promise<IngestReport> {
    const report: IngestReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [] };
    const { files, problems, skipped } = await collectSources(paths, { include: opts.include, exclude: opts.exclude, signal: opts.signal });
    for (const p of problems) report.failed.push(failure(p.source, p.error));
    report.skipped = skipped;
    const acl: Acl = { users: [...new Set(opts.acl?.users ?? [])], groups: [...new Set(opts.acl?.groups ?? [])] };
    const tags = [...new Set(opts.tags ?? [])];
    const o = { acl, tags, maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES, limits: opts.limits, chunking: opts.chunking, signal: opts.signal };
    let done = 0;
    let batch: { file: string; input: DocumentInput }[] = [];
    let batchStarted = Date.now();
    const finished = (file: string): void => opts.onProgress?.({ phase: "ingest", done: ++done, total: files.length, item: file });
    const flush = async (): Promise<void> => {
      const results = await this.backend.writeDocuments(batch.map((b) => b.input));
      results.forEach((r, i) => {
        const file = batch[i]!.file;
        if ("error" in r) report.failed.push(failure(file, r.error));
        else report[r.status]++;
        finished(file);
      });
      batch = [];
      batchStarted = Date.now();
    };
    for await (const r of inOrder(files, INGEST_READ_AHEAD, (file) => this.prepareFile(file, o))) {
      throwIfAborted(opts.signal);
      if (r.kind === "unchanged") {
        report.unchanged++;
        finished(r.file);
      } else if (r.kind === "failed") {
        if (r.error instanceof StrataError && r.error.code === "ABORTED") throw r.error;
        report.failed.push(failure(r.file, r.error));
        finished(r.file);
      } else batch.push({ file: r.file, input: r.input });
      if (batch.length >= INGEST_BATCH || (batch.length > 0 && Date.now() - batchStarted >= INGEST_BATCH_MS)) await flush();
    }
    if (batch.length > 0) await flush();
    if (opts.prune) report.removed = await this.pruneGone();
    return report;
  }

  /** Reads, hashes, parses and chunks one file; never rejects (failures are results). */
  private async prepareFile(
    file: string,
    o: { acl: Acl; tags: string[]; maxBytes: number; limits?: Partial<ParseLimits>; chunking?: Partial<ChunkingOptions>; signal?: AbortSignal },
  ): Promise<PreparedFile> {
    try {
      const bytes = await readSourceBytes(file, o.maxBytes, o.signal);
      const size = bytes.length;
      const hash = sha256(bytes);
      const existing = await this.backend.findBySource(file);
      if (existing && (await this.backend.isUnchanged(existing, hash, o.acl, o.tags))) return { kind: "unchanged", file };
      const document = await sharedParsePool().parse({ bytes, name: file, maxBytes: o.maxBytes, limits: o.limits, chunking: o.chunking, transfer: true }, o.signal);
      return { kind: "ready", file, input: this.documentInput({ source: file, document, hash, size }, o) };
    } catch (error) {
      return { kind: "failed", file, error };
    }
  }

  /** What the store writes for an extracted document: ids, title, hash, chunks. */
  private documentInput(src: DocumentSource, o: { acl?: Acl; tags?: string[]; chunking?: Partial<ChunkingOptions> }): DocumentInput {
    const doc = src.document;
    return {
      docId: stableId("doc", src.source),
      source: src.source,
      title: doc.title?.trim() || basename(src.source),
      mime: doc.mime,
      hash: src.hash ?? sha256(doc.text),
      size: src.size ?? Buffer.byteLength(doc.text),
      text: doc.text,
      acl: o.acl ?? { users: [], groups: [] },
      tags: o.tags ?? [],
      chunks: doc.chunks ?? chunkDocument(doc, o.chunking),
    };
  }

  /** Stores a document that is already extracted (used for datasets and uploads). */
  writeExtracted(src: DocumentSource, o: { acl?: Acl; tags?: string[]; chunking?: Partial<ChunkingOptions> } = {}): WriteStatus {
    return this.store.writeDocument(this.documentInput(src, o)).status;
  }

  /** Stores many extracted documents, a batch per transaction and index segment: bulk loads of datasets. */
  writeMany(
    sources: Iterable<DocumentSource>,
    o: { acl?: Acl; tags?: string[]; chunking?: Partial<ChunkingOptions>; batch?: number; total?: number } & LongOperationOptions = {},
  ): IngestReport {
    const report: IngestReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [] };
    const batchSize = o.batch ?? 2000;
    let batch: DocumentSource[] = [];
    let done = 0;
    const drain = (): void => {
      throwIfAborted(o.signal);
      const results = this.store.writeDocuments(batch.map((d) => this.documentInput(d, o)));
      for (const r of results) {
        if ("error" in r) throw r.error;
        report[r.status]++;
      }
      done += batch.length;
      batch = [];
      o.onProgress?.({ phase: "index", done, ...(o.total !== undefined ? { total: o.total } : {}) });
    };
    for (const src of sources) {
      batch.push(src);
      if (batch.length >= batchSize) drain();
    }
    if (batch.length > 0) drain();
    return report;
  }

  /** writeMany through the backend interface, so it also loads a PostgreSQL knowledge base. */
  async writeManyAsync(
    sources: Iterable<DocumentSource>,
    o: { acl?: Acl; tags?: string[]; chunking?: Partial<ChunkingOptions>; batch?: number; total?: number } & LongOperationOptions = {},
  ): Promise<IngestReport> {
    const report: IngestReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [] };
    let batch: DocumentSource[] = [];
    let done = 0;
    const drain = async (): Promise<void> => {
      throwIfAborted(o.signal);
      for (const r of await this.backend.writeDocuments(batch.map((d) => this.documentInput(d, o)))) {
        if ("error" in r) throw r.error;
        report[r.status]++;
      }
      done += batch.length;
      batch = [];
      o.onProgress?.({ phase: "index", done, ...(o.total !== undefined ? { total: o.total } : {}) });
    };
    for (const src of sources) if (batch.push(src) >= (o.batch ?? 2000)) await drain();
    if (batch.length > 0) await drain();
    return report;
  }

  /** Removes documents whose source file is gone (either backend); returns how many. */
  private async pruneGone(): Promise<number> {
    let removed = 0;
    for (const { docId, source } of await this.backend.listSources()) {
      if (!existsSync(source) && (await this.backend.removeDocument(docId))) removed++;
    }
    return removed;
  }

  /** Removes documents whose source file is gone; returns how many. */
  prune(): number {
    let removed = 0;
    for (const { docId, source } of this.store.listSources()) {
      if (!existsSync(source) && this.store.removeDocument(docId)) removed++;
    }
    return removed;
  }

  remove(docId: string): boolean {
    return this.store.removeDocument(docId);
  }

  /**
   * Embeds every chunk that has no vector for `model.id` yet (all of them with `rebuild`), a batch
   * per transaction: a cancelled or killed run keeps its finished batches and a rerun continues.
   */
  embed(model: EmbeddingModel, opts: EmbedOptions = {}): Promise<EmbedReport> {
    return embedMissingChunks(this.store, model, opts);
  }

  /** Embedding models with vectors in this store: id, width, vector count. */
  embeddingModels(): EmbeddingModelInfo[] {
    return this.store.listEmbeddingModels();
  }

  /**
   * Ranked chunks the caller may read. lexical: BM25F, fused by RRF with any extra retrievers;
   * dense: cosine over the embedder's vectors; hybrid: RRF (k = 60) of the BM25F and dense lists,
   * each fetched max(k, 50) deep. With `rerank`, the best max(k, 20) are rescored and re-sorted.
   */
  async search(query: string, opts: SearchOptions): Promise<SearchHit[]> {
    const q = checkQuery(query, "query");
    return this.rank(q, analyze(q), opts);
  }

  private async rank(query: string, terms: string[], opts: SearchOptions): Promise<SearchHit[]> {
    const k = opts.k ?? 10;
    const mode = opts.mode ?? "lexical";
    if (!SEARCH_MODES.includes(mode)) throw new StrataError("USAGE", `unknown search mode "${String(mode)}"`, `use one of ${SEARCH_MODES.join(", ")}`);
    const depth = opts.rerank ? Math.max(k, opts.rerankDepth ?? RERANK_DEPTH) : k;
    const lexical = async (n: number): Promise<SearchHit[]> =>
      this.backend.lexicalSearch(terms, { k: n, access: opts.access, filter: opts.filter, params: { ...DEFAULT_BM25, ...opts.bm25 } });
    let hits: SearchHit[];
    if (mode === "lexical") {
      hits = await lexical(depth);
    } else {
      const dense = this.denseRetriever(mode, opts.embedder);
      if (mode === "dense") hits = await dense.search(query, { k: depth, access: opts.access, filter: opts.filter, method: opts.denseMethod, signal: opts.signal });
      else {
        const n = Math.max(depth, HYBRID_DEPTH);
        const denseHits = await dense.search(query, { k: n, access: opts.access, filter: opts.filter, method: opts.denseMethod, signal: opts.signal });
        hits = reciprocalRankFusion([await lexical(n), denseHits], { limit: depth });
      }
    }
    return opts.rerank ? this.rerank(query, hits, opts.rerank, k, opts.signal) : hits;
  }

  private denseRetriever(mode: SearchMode, embedder: EmbeddingModel | undefined): DenseRetriever {
    if (!embedder) {
      throw new StrataError(
        "USAGE",
        `${mode} search needs the embedding model that embedded the chunks`,
        `pass it (\`strata search --mode ${mode} --embed <ref>\`); embed first with \`strata embed --kb ${this.location} --model <ref>\` or \`strata ingest --embed <ref>\``,
      );
    }
    return new DenseRetriever(this.store, embedder, this.location);
  }

  /** Sorts candidates by the reranker's scores; ties keep the retrieval order. */
  private async rerank(query: string, hits: SearchHit[], reranker: Reranker, k: number, signal: AbortSignal | undefined): Promise<SearchHit[]> {
    if (hits.length === 0) return hits;
    const scores = await reranker(query, hits, { signal });
    if (scores.length !== hits.length) {
      throw new StrataError("MODEL_OUTPUT_INVALID", `the reranker returned ${scores.length} scores for ${hits.length} passages`, "fix the reranker to return one score per passage");
    }
    return hits
      // A score that is not a number ranks last rather than scrambling the sort.
      .map((hit, i) => ({ hit, i, score: Number.isFinite(scores[i]) ? scores[i]! : -Infinity }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, k)
      .map((e, j) => ({ ...e.hit, rank: j + 1, score: e.score }));
  }

  /** An extractive answer with a citation for every sentence, or an honest "not found". */
  async answer(question: string, opts: AnswerOptions): Promise<GroundedAnswer> {
    const q = guardQuestion(checkQuery(question, "question"), opts.guards).question;
    // A follow-up in a conversation carries the previous question's content terms (answer/condense.ts).
    const condensed = opts.previousQuestions?.length ? condenseByTerms(q, opts.previousQuestions) : undefined;
    const asked = condensed?.method === "terms" ? condensed.query : q;
    const { hits, idfOf } = await this.answerSources(asked, opts);
    const found = answerExtractively(asked, hits, idfOf, opts.extractive);
    const a = condensed ? { ...found, question: q, trace: { ...found.trace, condensed } } : found;
    if (!opts.guards) return a;
    const g = guardAnswer(a, opts.guards);
    return { ...g.answer, guardrails: { on: opts.guards.names, findings: g.findings } };
  }

  /** The guardrails this knowledge base switches on (stored in it; off unless set). */
  guardrails(): GuardrailSettings {
    const raw = this.embedded ? this.embedded.setting("guardrails") : this.remote.guardrails;
    const parsed = raw ? (JSON.parse(raw) as Partial<GuardrailSettings>) : {};
    return { redactPii: parsed.redactPii === true, screenJailbreaks: parsed.screenJailbreaks === true };
  }

  setGuardrails(settings: GuardrailSettings): void {
    this.store.setSetting("guardrails", JSON.stringify({ redactPii: settings.redactPii, screenJailbreaks: settings.screenJailbreaks }));
  }

  /**
   * What an extractive answer is made from: the chunks retrieved by the question's content terms
   * (so "how much does … cost" ranks by what it asks about) and each term's idf in this base.
   */
  async answerSources(question: string, opts: AnswerOptions): Promise<{ question: string; hits: SearchHit[]; idfOf: (term: string) => number }> {
    const q = checkQuery(question, "question");
    const terms = questionTerms(q);
    const hits = terms.length === 0 ? [] : await this.rank(q, terms, { k: opts.k ?? 8, access: opts.access, filter: opts.filter });
    const stats = await this.backend.termStats(terms);
    // In a small base every present term has about the same idf, so the support scale (calibrated
    // on hundreds of chunks) would read a full match as weak evidence: small bases are scored as if
    // their document frequencies came from a base of MIN_IDF_BASE chunks.
    const n = Math.max(stats.chunks, MIN_IDF_BASE);
    return { question: q, hits, idfOf: (t) => idf(stats.df.get(t)?.df ?? 0, n) };
  }

  /** A document with its extracted text, if the caller may read it. */
  getDocument(docId: string, access: Access): DocumentRecord {
    const doc = this.store.getDocument(docId, access);
    if (!doc) throw new StrataError("NOT_FOUND", `no document ${docId} in ${this.location} that you may read`, `list documents with \`strata docs list --kb ${this.location}\`, or check --as/--groups`);
    return doc;
  }

  /** A page of the documents the caller may read (by source), filtered by tag, source prefix or ACL. */
  listDocuments(access: Access, query: DocumentQuery = {}): DocumentPage {
    return this.store.readable.page(access, query);
  }
}
