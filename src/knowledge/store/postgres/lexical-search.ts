// BM25F search over the lexical index stored in PostgreSQL. The ranking is the embedded store's
// own code (decision 0008): the same postings blobs, TermCursor and block-max MaxScore top-k, the
// same idf and parameters, so every query ranks exactly as it does embedded. PostgreSQL supplies
// one snapshot per query (statistics, dictionary, segments, blobs); what scoring needs per chunk
// (field lengths, document, chunk id, liveness) is mirrored in memory and caught up from the
// generation counter, like the embedded ChunkTable, so another process's writes are seen too.
import { idf } from "../../bm25.js";
import { BlobCache } from "../../index/blob-cache.js";
import { CorruptPostings, PostingsBlob } from "../../index/postings-codec.js";
import { TermCursor, type ScoreContext } from "../../index/term-cursor.js";
import { topK, type Scored } from "../../index/top-k.js";
import type { SearchArgs } from "../../index/lexical-index.js";
import { StrataError } from "../../../core/errors.js";
import { isOwner } from "../access.js";
import { pgReadableClause } from "./readable.js";
import type { SqlRunner } from "./sql.js";

const BLOB_CACHE_BYTES = 128 * 1024 * 1024;
const MAX_ALLOWED_ENTRIES = 64;

/** Chunk facts by rowid, mirrored from the chunks table and the tombstone log. */
class ChunkMirror {
  lenBody = new Uint32Array(1024);
  lenTitle = new Uint32Array(1024);
  docRowid = new Int32Array(1024);
  live = new Uint8Array(1024);
  chunkId: string[] = [];
  maxRowid = 0;
  generation = -1;

  private grow(rowid: number): void {
    if (rowid < this.live.length) return;
    let size = this.live.length;
    while (size <= rowid) size *= 2;
    const ext = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.lenBody = ext(this.lenBody, (n) => new Uint32Array(n));
    this.lenTitle = ext(this.lenTitle, (n) => new Uint32Array(n));
    this.docRowid = ext(this.docRowid, (n) => new Int32Array(n));
    this.live = ext(this.live, (n) => new Uint8Array(n));
  }

  /** Catches up to `generation` as read in the caller's snapshot; never moves backwards. */
  async refresh(q: SqlRunner, generation: number): Promise<void> {
    if (generation <= this.generation) return;
    const rows = await q.query<{ rowid: number; doc_rowid: number; len_body: number; len_title: number; chunk_id: string }>(
      "SELECT rowid, doc_rowid, len_body, len_title, chunk_id FROM chunks WHERE rowid > $1 ORDER BY rowid",
      [this.maxRowid],
    );
    for (const r of rows) {
      const rowid = Number(r.rowid);
      this.grow(rowid);
      this.lenBody[rowid] = r.len_body;
      this.lenTitle[rowid] = r.len_title;
      this.docRowid[rowid] = Number(r.doc_rowid);
      this.live[rowid] = 1;
      this.chunkId[rowid] = r.chunk_id;
      this.maxRowid = rowid;
    }
    if (this.generation >= 0) {
      const dead = await q.query<{ chunk_rowid: number }>("SELECT chunk_rowid FROM lex_tombstones WHERE generation > $1", [this.generation]);
      for (const d of dead) {
        const r = Number(d.chunk_rowid);
        if (r < this.live.length) this.live[r] = 0;
      }
    }
    this.generation = generation;
  }
}

export class PgLexicalSearch {
  private readonly mirror = new ChunkMirror();
  private readonly cache = new BlobCache(BLOB_CACHE_BYTES);
  private readonly allowed = new Map<string, Uint8Array>();
  private allowedAt = -1;
  private segments: number[] = [];
  private segmentsAt = -1;
  /** Catch-ups of the shared mirror run one at a time (many searches share one store). */
  private refreshing: Promise<void> = Promise.resolve();

  constructor(private readonly where: string) {}

  private async catchUp(q: SqlRunner, generation: number): Promise<void> {
    const run = this.refreshing.then(async () => {
      await this.mirror.refresh(q, generation);
      if (this.segmentsAt < generation) {
        this.segments = (await q.query<{ seg_id: number }>("SELECT seg_id FROM lex_segments ORDER BY min_rowid")).map((r) => r.seg_id);
        this.segmentsAt = generation;
      }
    });
    this.refreshing = run.catch(() => {});
    await run;
  }

  private async allowedBits(q: SqlRunner, args: SearchArgs, generation: number): Promise<Uint8Array | null> {
    const filtered = (args.filter?.tags?.length ?? 0) > 0 || !!args.filter?.sourcePrefix;
    if (isOwner(args.access) && !filtered) return null;
    if (generation !== this.allowedAt) {
      this.allowed.clear();
      this.allowedAt = generation;
    }
    const key = JSON.stringify([args.access, args.filter?.tags ?? [], args.filter?.sourcePrefix ?? ""]);
    let bits = this.allowed.get(key);
    if (!bits) {
      const params: unknown[] = [];
      const cond = pgReadableClause(args.access, args.filter, params);
      const ids = (await q.query<{ rowid: number }>(`SELECT d.rowid FROM documents d WHERE ${cond}`, params)).map((r) => Number(r.rowid));
      bits = new Uint8Array(ids.reduce((m, x) => Math.max(m, x), 0) + 1);
      for (const id of ids) bits[id] = 1;
      if (this.allowed.size >= MAX_ALLOWED_ENTRIES) this.allowed.delete(this.allowed.keys().next().value!);
      this.allowed.set(key, bits);
    }
    return bits;
  }

  /** The best k chunks by BM25F, read inside the caller's snapshot transaction. */
  async search(q: SqlRunner, queryTerms: string[], args: SearchArgs): Promise<Scored[]> {
    const qtf = new Map<string, number>();
    for (const t of queryTerms) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    // Statistics and the query's dictionary entries in one round trip.
    const state = (await q.query<{ generation: number; chunks: number; sum_len_body: number; sum_len_title: number; dict: { term: string; term_id: number; df: number }[] | string | null }>(
      `SELECT l.generation, s.chunks, s.sum_len_body, s.sum_len_title,
              (SELECT json_agg(json_build_object('term', t.term, 'term_id', t.term_id, 'df', t.df)) FROM terms t WHERE t.term = ANY($1::text[]) AND t.df > 0) AS dict
         FROM lex_state l, stats s WHERE l.id = 1 AND s.id = 1`,
      [[...qtf.keys()]],
    ))[0]!;
    const generation = Number(state.generation);
    const chunks = Number(state.chunks);
    const dict = (typeof state.dict === "string" ? (JSON.parse(state.dict) as { term: string; term_id: number; df: number }[]) : state.dict) ?? [];
    const byTerm = new Map(dict.map((r) => [r.term, r]));
    // Query order, as the embedded index iterates its terms (scores are summed in this order).
    const found = [...qtf].filter(([t]) => byTerm.has(t)).map(([t, n]) => ({ termId: byTerm.get(t)!.term_id, df: byTerm.get(t)!.df, qtf: n }));
    if (chunks === 0 || found.length === 0) return [];
    await this.catchUp(q, generation);
    const segments = this.segments;
    const blobs = await this.loadBlobs(q, segments, found.map((f) => f.termId));
    const p = args.params;
    const m = this.mirror;
    const ctx: ScoreContext = {
      params: p,
      avgBody: Math.max(Number(state.sum_len_body) / chunks, 1e-9),
      avgTitle: Math.max(Number(state.sum_len_title) / chunks, 1e-9),
      lenBody: m.lenBody,
      lenTitle: m.lenTitle,
    };
    const cursors = found.map((f, slot) => {
      const list = segments.map((s) => blobs.get(`${s}:${f.termId}`)).filter((b): b is PostingsBlob => !!b);
      return new TermCursor(slot, idf(f.df, chunks) * f.qtf, list, ctx);
    });
    const bits = await this.allowedBits(q, args, generation);
    const { live, docRowid } = m;
    const admit = bits === null ? (r: number) => live[r] === 1 : (r: number) => live[r] === 1 && bits[docRowid[r]!] === 1;
    const safe = p.k1 >= 0 && p.weightBody >= 0 && p.weightTitle >= 0 && p.b >= 0 && p.b <= 1 && p.bTitle >= 0 && p.bTitle <= 1 && cursors.every((c) => Number.isFinite(c.maxBound));
    return topK({ cursors, k: args.k, ctx, admit, chunkId: (r) => m.chunkId[r] ?? "", prune: safe });
  }

  /** The query's blobs by "segment:term": from the cache, the rest fetched in one query. */
  private async loadBlobs(q: SqlRunner, segments: number[], termIds: number[]): Promise<Map<string, PostingsBlob | null>> {
    const out = new Map<string, PostingsBlob | null>();
    const missing: [number, number][] = [];
    for (const s of segments) {
      for (const t of termIds) {
        const hit = this.cache.peek(s, t);
        if (hit === undefined) missing.push([s, t]);
        else out.set(`${s}:${t}`, hit);
      }
    }
    if (missing.length === 0) return out;
    const segs = [...new Set(missing.map((x) => x[0]))];
    const terms = [...new Set(missing.map((x) => x[1]))];
    const rows = await q.query<{ seg_id: number; term_id: number; data: Uint8Array }>("SELECT seg_id, term_id, data FROM lex_postings WHERE seg_id = ANY($1::int[]) AND term_id = ANY($2::int[])", [segs, terms]);
    const got = new Map(rows.map((r) => [`${r.seg_id}:${r.term_id}`, r.data]));
    for (const [s, t] of missing) {
      const key = `${s}:${t}`;
      const raw = got.get(key);
      let blob: PostingsBlob | null = null;
      try {
        blob = raw ? new PostingsBlob(raw) : null;
      } catch (e) {
        if (e instanceof CorruptPostings) {
          throw new StrataError("STORE_CORRUPT", `the lexical index of ${this.where} is damaged: segment ${s}, term ${t}: ${e.message}`, "re-ingest the sources into a new knowledge base (documents and chunks are intact)");
        }
        throw e;
      }
      this.cache.put(s, t, blob);
      out.set(key, blob);
    }
    return out;
  }
}
