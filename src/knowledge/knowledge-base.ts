// The knowledge base as one object: ingest sources (load → chunk → store), search with access
// control, answer with citations, show documents. The CLI and the server are thin layers on it.
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { StrataError, throwIfAborted, toStrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { sha256, stableId } from "../core/hash.js";
import { analyze } from "./analyzer.js";
import { answerExtractively, questionTerms, type ExtractiveOptions } from "./answer/extractive.js";
import type { GroundedAnswer } from "./answer/types.js";
import { DEFAULT_BM25, idf, type Bm25Params } from "./bm25.js";
import { chunkDocument, type ChunkingOptions } from "./chunker.js";
import { DenseRetriever } from "./dense/dense-retriever.js";
import { embedMissingChunks, type EmbedOptions, type EmbedReport } from "./dense/embed-chunks.js";
import { reciprocalRankFusion, type Retriever } from "./fusion.js";
import { checkQuery } from "./limits.js";
import { sharedParsePool } from "./loaders/parse-pool.js";
import type { ParseLimits } from "./loaders/parse-limits.js";
import { DEFAULT_MAX_BYTES, readSourceBytes } from "./loaders/read-source.js";
import { collectSources } from "./loaders/walk.js";
import type { Reranker } from "./rerank.js";
import type { Access } from "./store/access.js";
import type { OpenOptions } from "./store/schema.js";
import { KnowledgeStore, type EmbeddingModelInfo, type WriteStatus } from "./store/sqlite-store.js";
import type { Acl, DocumentRecord, ExtractedDocument, SearchFilter, SearchHit } from "./types.js";
import type { EmbeddingModel } from "../model/types.js";

export type { EmbedOptions, EmbedReport } from "./dense/embed-chunks.js";
export type { Reranker } from "./rerank.js";

/** lexical = BM25F; dense = cosine over one embedding model's vectors; hybrid = RRF of both. */
export type SearchMode = "lexical" | "dense" | "hybrid";
export const SEARCH_MODES: readonly SearchMode[] = ["lexical", "dense", "hybrid"];

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
}

/** A document already extracted in memory (datasets, tests, the server's uploads). */
export interface DocumentSource {
  source: string;
  document: ExtractedDocument;
  /** Hash of the original bytes; defaults to a hash of the extracted text. */
  hash?: string;
  size?: number;
}

function failure(source: string, e: unknown): IngestFailure {
  const err = toStrataError(e, "PARSE_FAILED", "check the file opens in its own application, or leave it out with --exclude");
  return { source, code: err.code, message: err.message, hint: err.hint };
}

export class KnowledgeBase {
  private readonly extraRetrievers: Retriever[] = [];

  private constructor(
    readonly location: string,
    readonly store: KnowledgeStore,
  ) {}

  /** Opens the knowledge base in a folder; `create` makes one in a new or empty folder. */
  static open(location: string, opts: OpenOptions = {}): KnowledgeBase {
    return new KnowledgeBase(resolve(location), KnowledgeStore.open(location, opts));
  }

  close(): void {
    this.store.close();
  }

  /** Plugs another retriever (dense, later) into search; results are fused with BM25 by RRF. */
  addRetriever(r: Retriever): void {
    this.extraRetrievers.push(r);
  }

  /** Loads, chunks and stores files and folders; each file is its own transaction. */
  async ingest(paths: string[], opts: IngestOptions = {}): Promise<IngestReport> {
    const report: IngestReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [] };
    const { files, problems } = await collectSources(paths, { include: opts.include, exclude: opts.exclude, signal: opts.signal });
    for (const p of problems) report.failed.push(failure(p.source, p.error));
    const acl: Acl = { users: [...new Set(opts.acl?.users ?? [])], groups: [...new Set(opts.acl?.groups ?? [])] };
    const tags = [...new Set(opts.tags ?? [])];
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    let done = 0;
    for (const file of files) {
      throwIfAborted(opts.signal);
      try {
        const status = await this.ingestFile(file, { acl, tags, maxBytes, limits: opts.limits, chunking: opts.chunking, signal: opts.signal });
        report[status]++;
      } catch (e) {
        if (e instanceof StrataError && e.code === "ABORTED") throw e;
        report.failed.push(failure(file, e));
      }
      opts.onProgress?.({ phase: "ingest", done: ++done, total: files.length, item: file });
    }
    if (opts.prune) report.removed = this.prune();
    return report;
  }

  private async ingestFile(
    file: string,
    o: { acl: Acl; tags: string[]; maxBytes: number; limits?: Partial<ParseLimits>; chunking?: Partial<ChunkingOptions>; signal?: AbortSignal },
  ): Promise<WriteStatus> {
    const bytes = await readSourceBytes(file, o.maxBytes, o.signal);
    const size = bytes.length;
    const hash = sha256(bytes);
    const existing = this.store.findBySource(file);
    if (existing && this.store.isUnchanged(existing, hash, o.acl, o.tags)) return "unchanged";
    const document = await sharedParsePool().parse({ bytes, name: file, maxBytes: o.maxBytes, limits: o.limits, chunking: o.chunking, transfer: true }, o.signal);
    return this.writeExtracted({ source: file, document, hash, size }, o);
  }

  /** Stores a document that is already extracted (used for datasets and uploads). */
  writeExtracted(src: DocumentSource, o: { acl?: Acl; tags?: string[]; chunking?: Partial<ChunkingOptions> } = {}): WriteStatus {
    const doc = src.document;
    return this.store.writeDocument({
      docId: stableId("doc", src.source),
      source: src.source,
      title: doc.title?.trim() || basename(src.source),
      mime: doc.mime,
      hash: src.hash ?? sha256(doc.text),
      size: src.size ?? Buffer.byteLength(doc.text),
      text: doc.text,
      acl: o.acl ?? { users: [], groups: [] },
      tags: o.tags ?? [],
      chunks: chunkDocument(doc, o.chunking),
    }).status;
  }

  /** Stores many extracted documents, a batch per transaction: bulk loads of datasets. */
  writeMany(
    sources: Iterable<DocumentSource>,
    o: { acl?: Acl; tags?: string[]; chunking?: Partial<ChunkingOptions>; batch?: number; total?: number } & LongOperationOptions = {},
  ): IngestReport {
    const report: IngestReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [] };
    const batchSize = o.batch ?? 500;
    let batch: DocumentSource[] = [];
    let done = 0;
    const flush = this.store.db.transaction((docs: DocumentSource[]) => {
      for (const d of docs) report[this.writeExtracted(d, o)]++;
    });
    const drain = (): void => {
      throwIfAborted(o.signal);
      flush(batch);
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
    const lexical = (n: number): SearchHit[] =>
      this.store.lexicalSearch(terms, { k: n, access: opts.access, filter: opts.filter, params: { ...DEFAULT_BM25, ...opts.bm25 } });
    const extras = (n: number): Promise<SearchHit[][]> =>
      Promise.all(this.extraRetrievers.map((r) => r.search(query, { k: n, access: opts.access, filter: opts.filter })));
    let hits: SearchHit[];
    if (mode === "lexical") {
      hits = this.extraRetrievers.length === 0 ? lexical(depth) : reciprocalRankFusion([lexical(depth), ...(await extras(depth))], { limit: depth });
    } else {
      const dense = this.denseRetriever(mode, opts.embedder);
      if (mode === "dense") hits = await dense.search(query, { k: depth, access: opts.access, filter: opts.filter, signal: opts.signal });
      else {
        const n = Math.max(depth, HYBRID_DEPTH);
        const denseHits = await dense.search(query, { k: n, access: opts.access, filter: opts.filter, signal: opts.signal });
        hits = reciprocalRankFusion([lexical(n), denseHits, ...(await extras(n))], { limit: depth });
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
    const q = checkQuery(question, "question");
    // Retrieval by the question's content terms, so "how much does … cost" ranks by what it asks about.
    const terms = questionTerms(q);
    const hits = terms.length === 0 ? [] : await this.rank(q, terms, { k: opts.k ?? 8, access: opts.access, filter: opts.filter });
    const stats = this.store.termStats(terms);
    return answerExtractively(q, hits, (t) => idf(stats.df.get(t)?.df ?? 0, stats.chunks), opts.extractive);
  }

  /** A document with its extracted text, if the caller may read it. */
  getDocument(docId: string, access: Access): DocumentRecord {
    const doc = this.store.getDocument(docId, access);
    if (!doc) throw new StrataError("NOT_FOUND", `no document ${docId} in ${this.location} that you may read`, "list documents with `strata search`, or check --as/--groups");
    return doc;
  }
}
