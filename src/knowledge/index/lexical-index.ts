// The lexical index of one knowledge base (decision 0008): immutable segments of block-compressed
// postings in the store's SQLite file, chunk lengths in memory, top-k by block-max MaxScore with
// access filters inside the scoring loop. Writers add one segment per batch and tombstone deleted
// chunks in their own transaction; merges rewrite runs of small segments in a later transaction.
// Readers take a snapshot (one read transaction per query) and catch up by the generation counter,
// so they never wait for a writer or a merge and never see half of one.
import type Database from "better-sqlite3";
import { StrataError } from "../../core/errors.js";
import type { ProgressListener } from "../../core/events.js";
import { idf, type Bm25Params } from "../bm25.js";
import type { Access } from "../store/access.js";
import type { SearchFilter } from "../types.js";
import { AllowedDocs } from "./allowed-docs.js";
import { BlobCache } from "./blob-cache.js";
import { ChunkTable } from "./chunk-table.js";
import { termsOf, type ChunkTerms } from "./chunk-terms.js";
import { mergeOnce } from "./merge.js";
import { CorruptPostings, type PostingsBlob } from "./postings-codec.js";
import { rebuildIndex } from "./rebuild.js";
import { SegmentBuilder, segmentStatements, writeSegment, type SegmentStatements } from "./segment-writer.js";
import { ScoreScratch, scoreAll } from "./exhaustive.js";
import { TermCursor, type ScoreContext } from "./term-cursor.js";
import { topK, type Scored } from "./top-k.js";
import { checkIndex, type IndexCheck } from "./verify.js";

export interface SegmentInfo {
  segId: number;
  minRowid: number;
  maxRowid: number;
  chunks: number;
}

export interface RowidAllocator {
  /** Reserves n consecutive rowids; returns the first. */
  take(n: number): number;
  /** Records the next free rowid (in the same transaction). */
  close(): void;
}

export interface SearchArgs {
  k: number;
  access: Access;
  filter?: SearchFilter;
  params: Bm25Params;
  /** Scoring strategy (tests and benchmarks force one; the ranking is the same either way). */
  strategy?: "auto" | "maxscore" | "exhaustive";
}

interface LexState {
  generation: number;
  next_chunk_rowid: number;
  next_seg_id: number;
  needs_build: number;
}

const BLOB_CACHE_BYTES = 128 * 1024 * 1024;

/**
 * Up to this many postings per result asked for, scoring every posting beats MaxScore (measured on
 * SciFact: at depth 300 a query's ~4,400 postings leave the bounds almost nothing to skip).
 */
const EXHAUSTIVE_POSTINGS_PER_K = 64;
/** …or up to this many at any k (SciFact at k = 10: 1.1 ms a query against MaxScore's 1.5 ms)… */
const EXHAUSTIVE_POSTINGS = 8192;
/** …while its per-chunk score slots (postings × terms) stay within 32 MiB. */
const EXHAUSTIVE_MAX_CELLS = 1 << 22;

export function rebuildCommand(location: string): string {
  return `strata index rebuild --kb ${location}`;
}

/** The error for a damaged index: names the knowledge base and the command that rebuilds it. */
export function indexCorrupt(location: string, detail: string): StrataError {
  return new StrataError("STORE_CORRUPT", `the lexical index of ${location} is damaged: ${detail}`, `rebuild it from the stored chunks: \`${rebuildCommand(location)}\` (documents and chunks are intact)`);
}

export class LexicalIndex {
  readonly chunks: ChunkTable;
  private readonly cache = new BlobCache(BLOB_CACHE_BYTES);
  private readonly allowed: AllowedDocs;
  private segments: SegmentInfo[] = [];
  private segmentsAt = -1;
  private writeStatements?: SegmentStatements;
  private searchTx?: (q: string[], o: SearchArgs) => Scored[];
  private readonly st: Record<"state" | "term" | "stats" | "blob" | "chunkId" | "segments", Database.Statement>;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly scratch = new ScoreScratch();

  /** A write statement, prepared on first use (readers of a read-only file never prepare them). */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  constructor(
    readonly db: Database.Database,
    readonly location: string,
  ) {
    this.chunks = new ChunkTable(db);
    this.allowed = new AllowedDocs(db);
    this.st = {
      state: db.prepare("SELECT generation, next_chunk_rowid, next_seg_id, needs_build FROM lex_state WHERE id = 1"),
      term: db.prepare("SELECT term_id, df FROM terms WHERE term = ? AND df > 0"),
      stats: db.prepare("SELECT chunks, sum_len_body, sum_len_title FROM stats WHERE id = 1"),
      blob: db.prepare("SELECT data FROM lex_postings WHERE seg_id = ? AND term_id = ?").pluck(),
      chunkId: db.prepare("SELECT chunk_id FROM chunks WHERE rowid = ?").pluck(),
      segments: db.prepare("SELECT seg_id AS segId, min_rowid AS minRowid, max_rowid AS maxRowid, chunks FROM lex_segments ORDER BY min_rowid"),
    };
  }

  state(): LexState {
    return this.st.state.get() as LexState;
  }

  get needsBuild(): boolean {
    return this.state().needs_build !== 0;
  }

  // ---- Writes: each runs inside the caller's transaction. ----

  /**
   * Fresh chunk rowids (never reused) for one write transaction: read once, handed out in memory,
   * saved by close(). Rowids of a document whose savepoint rolled back are simply skipped.
   */
  rowidAllocator(): RowidAllocator {
    let next = this.state().next_chunk_rowid;
    return {
      take: (n) => {
        const first = next;
        next += n;
        return first;
      },
      close: () => void this.stmt("UPDATE lex_state SET next_chunk_rowid = ? WHERE id = 1").run(next),
    };
  }

  /** Generation the current write transaction will commit as (bumped once per call). */
  bumpGeneration(): number {
    return (this.stmt("UPDATE lex_state SET generation = generation + 1 WHERE id = 1 RETURNING generation").pluck().get() as number);
  }

  /** Writes a batch of new chunks as one segment. */
  commitSegment(b: SegmentBuilder): void {
    if (b.chunks === 0) return;
    this.writeStatements ??= segmentStatements(this.db);
    const segId = this.stmt("UPDATE lex_state SET next_seg_id = next_seg_id + 1 WHERE id = 1 RETURNING next_seg_id - 1").pluck().get() as number;
    writeSegment(this.writeStatements, segId, b);
    this.bumpGeneration();
  }

  /** Tombstones chunks (their rows are being deleted) and takes them out of the statistics. */
  removeChunks(rows: { rowid: number; terms: ChunkTerms }[]): void {
    if (rows.length === 0) return;
    const generation = this.bumpGeneration();
    const dfDrop = new Map<string, number>();
    let sumBody = 0;
    let sumTitle = 0;
    const tomb = this.stmt("INSERT OR IGNORE INTO lex_tombstones (generation, chunk_rowid) VALUES (?, ?)");
    for (const r of rows) {
      tomb.run(generation, r.rowid);
      for (const t of termsOf(r.terms)) dfDrop.set(t, (dfDrop.get(t) ?? 0) + 1);
      sumBody += r.terms.lenBody;
      sumTitle += r.terms.lenTitle;
    }
    const dec = this.stmt("UPDATE terms SET df = df - ? WHERE term = ?");
    for (const [t, n] of dfDrop) dec.run(n, t);
    this.stmt("UPDATE stats SET chunks = chunks - ?, sum_len_body = sum_len_body - ?, sum_len_title = sum_len_title - ? WHERE id = 1").run(rows.length, sumBody, sumTitle);
  }

  // ---- Maintenance. ----

  /** Merges runs of same-sized segments, one transaction per merge, until none is due. */
  mergeDue(opts: { all?: boolean } = {}): number {
    let merges = 0;
    while (this.db.transaction(() => mergeOnce(this, opts.all ?? false)).immediate()) merges++;
    return merges;
  }

  /** Rebuilds the whole index from the stored chunks, in one transaction; then merges. */
  rebuild(onProgress?: ProgressListener): void {
    this.db.transaction(() => rebuildIndex(this, onProgress)).immediate();
    this.chunks.reset();
    this.cache.clear();
    this.mergeDue();
  }

  /** Recounts everything from the chunks and lists disagreements (checks and tests). */
  check(): IndexCheck {
    return checkIndex(this);
  }

  /** Segments in rowid order, as of the snapshot being read. */
  listSegments(): SegmentInfo[] {
    return this.st.segments.all() as SegmentInfo[];
  }

  /** A segment's postings blob for a term, checked; a damaged one becomes STORE_CORRUPT. */
  blob(segId: number, termId: number): PostingsBlob | null {
    try {
      return this.cache.get(segId, termId, () => this.st.blob.get(segId, termId) as Buffer | undefined);
    } catch (e) {
      if (e instanceof CorruptPostings) throw indexCorrupt(this.location, `segment ${segId}, term ${termId}: ${e.message}`);
      throw e;
    }
  }

  /** Brings the in-memory view to the snapshot's generation; the caller holds a read transaction. */
  sync(): number {
    const s = this.state();
    if (s.needs_build) {
      throw new StrataError("STORE_OUTDATED", `the lexical index of ${this.location} has not been built yet`, `open the knowledge base once without read-only mode, or run \`${rebuildCommand(this.location)}\``);
    }
    this.chunks.refresh(s.generation);
    if (this.segmentsAt !== s.generation) {
      this.segments = this.listSegments();
      this.segmentsAt = s.generation;
    }
    return s.generation;
  }

  /** The best k chunks by BM25F (exactly the exhaustive ranking), with rowids and scores. */
  search(queryTerms: string[], opts: SearchArgs): Scored[] {
    // One read transaction: statistics, dictionary and segments from the same snapshot.
    this.searchTx ??= this.db.transaction((q: string[], o: SearchArgs) => this.searchIn(q, o));
    return this.searchTx(queryTerms, opts);
  }

  private searchIn(queryTerms: string[], opts: SearchArgs): Scored[] {
    const generation = this.sync();
    const qtf = new Map<string, number>();
    for (const t of queryTerms) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const stats = this.st.stats.get() as { chunks: number; sum_len_body: number; sum_len_title: number };
    const found: { termId: number; df: number; qtf: number }[] = [];
    for (const [t, n] of qtf) {
      const r = this.st.term.get(t) as { term_id: number; df: number } | undefined;
      if (r) found.push({ termId: r.term_id, df: r.df, qtf: n });
    }
    if (stats.chunks === 0 || found.length === 0) return [];
    const p = opts.params;
    const ctx: ScoreContext = {
      params: p,
      avgBody: Math.max(stats.sum_len_body / stats.chunks, 1e-9),
      avgTitle: Math.max(stats.sum_len_title / stats.chunks, 1e-9),
      lenBody: this.chunks.lenBody,
      lenTitle: this.chunks.lenTitle,
    };
    const terms = found.map((f) => ({
      weight: idf(f.df, stats.chunks) * f.qtf,
      blobs: this.segments.map((s) => this.blob(s.segId, f.termId)).filter((b): b is PostingsBlob => b !== null),
    }));
    const bits = this.allowed.bitmap(opts.access, opts.filter, generation);
    const { live, docRowid } = this.chunks;
    const admit = bits === null ? (r: number) => live[r] === 1 : (r: number) => live[r] === 1 && bits[docRowid[r]!] === 1;
    const ids = new Map<number, string>();
    const chunkId = (r: number): string => {
      let id = ids.get(r);
      if (id === undefined) ids.set(r, (id = this.st.chunkId.get(r) as string));
      return id;
    };
    let postings = 0;
    for (const t of terms) for (const b of t.blobs) postings += b.count;
    const strategy = opts.strategy ?? "auto";
    const small = postings <= Math.max(EXHAUSTIVE_POSTINGS, EXHAUSTIVE_POSTINGS_PER_K * opts.k) && postings * terms.length <= EXHAUSTIVE_MAX_CELLS;
    if (strategy === "exhaustive" || (strategy === "auto" && small)) {
      return scoreAll({ terms, k: opts.k, ctx, admit, chunkId }, this.scratch, live.length);
    }
    const cursors = terms.map((t, slot) => new TermCursor(slot, t.weight, t.blobs, ctx));
    // Bounds need non-negative weights and length normalisation in [0, 1]; otherwise score all.
    const safe = p.k1 >= 0 && p.weightBody >= 0 && p.weightTitle >= 0 && p.b >= 0 && p.b <= 1 && p.bTitle >= 0 && p.bTitle <= 1 && cursors.every((c) => Number.isFinite(c.maxBound));
    return topK({ cursors, k: opts.k, ctx, admit, chunkId, prune: safe });
  }
}
