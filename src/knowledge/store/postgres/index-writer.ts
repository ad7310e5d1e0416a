// Writes the lexical index in PostgreSQL with the embedded store's layout (decision 0008): one
// immutable segment of postings blobs per write batch, encoded by the same codec, plus document
// frequencies and collection statistics; deleted chunks are tombstoned under the batch's
// generation. Everything runs in the writer's transaction, which holds the knowledge base's write
// lock, so segments keep disjoint ascending rowid ranges across processes.
import { termsOf, type ChunkTerms } from "../../index/chunk-terms.js";
import { encodePostings } from "../../index/postings-codec.js";
import type { SegmentBuilder } from "../../index/segment-writer.js";
import type { SqlRunner } from "./sql.js";

/** Rows per multi-row INSERT: keeps the parameter count far below PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 1000;

/** INSERT … VALUES (…), (…) in slices; `suffix` follows each VALUES list (ON CONFLICT, RETURNING). */
export async function insertRows<T>(tx: SqlRunner, head: string, rows: unknown[][], suffix = "", casts: string[] = []): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const slice = rows.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    const values = slice.map((r) => `(${r.map((v, i) => (params.push(v), `$${params.length}${casts[i] ? `::${casts[i]}` : ""}`)).join(", ")})`);
    out.push(...(await tx.query<T>(`${head} VALUES ${values.join(", ")} ${suffix}`, params)));
  }
  return out;
}

/** The write lock of the knowledge base in the current schema, held until the transaction ends. */
export async function lockForWrite(tx: SqlRunner): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('strata-write:' || current_schema()))");
}

export interface LexWriteState {
  generation: number;
  nextRowid: number;
  nextSegId: number;
}

export async function readWriteState(tx: SqlRunner): Promise<LexWriteState> {
  const r = (await tx.query<{ generation: number; next_chunk_rowid: number; next_seg_id: number }>("SELECT generation, next_chunk_rowid, next_seg_id FROM lex_state WHERE id = 1"))[0]!;
  return { generation: Number(r.generation), nextRowid: Number(r.next_chunk_rowid), nextSegId: r.next_seg_id };
}

/** Saves the allocator and moves the generation on: readers catch up from it. */
export async function saveWriteState(tx: SqlRunner, s: LexWriteState): Promise<void> {
  await tx.query("UPDATE lex_state SET generation = $1, next_chunk_rowid = $2, next_seg_id = $3 WHERE id = 1", [s.generation, s.nextRowid, s.nextSegId]);
}

/** Writes a batch of new chunks as one segment and adds them to the frequencies and statistics. */
export async function writeSegment(tx: SqlRunner, s: LexWriteState, b: SegmentBuilder): Promise<void> {
  if (b.chunks === 0) return;
  const segId = s.nextSegId++;
  const counts: unknown[][] = [];
  for (const [term, p] of b.postings) counts.push([term, p.rowids.length]);
  const ids = await insertRows<{ term: string; term_id: number }>(tx, "INSERT INTO terms (term, df)", counts, "ON CONFLICT (term) DO UPDATE SET df = terms.df + excluded.df RETURNING term, term_id");
  const rows = ids.map((r) => [segId, r.term_id, encodePostings(b.postings.get(r.term)!)] as [number, number, Buffer]).sort((x, y) => x[1] - y[1]);
  await insertRows(tx, "INSERT INTO lex_postings (seg_id, term_id, data)", rows);
  await tx.query("INSERT INTO lex_segments (seg_id, min_rowid, max_rowid, chunks, level) VALUES ($1, $2, $3, $4, 0)", [segId, b.minRowid, b.maxRowid, b.chunks]);
  await tx.query("UPDATE stats SET chunks = chunks + $1, sum_len_body = sum_len_body + $2, sum_len_title = sum_len_title + $3 WHERE id = 1", [b.chunks, b.sumBody, b.sumTitle]);
}

/** Tombstones deleted chunks under the batch's generation and takes them out of the statistics. */
export async function removeChunks(tx: SqlRunner, generation: number, rows: { rowid: number; terms: ChunkTerms }[]): Promise<void> {
  if (rows.length === 0) return;
  const dfDrop = new Map<string, number>();
  let sumBody = 0;
  let sumTitle = 0;
  for (const r of rows) {
    for (const t of termsOf(r.terms)) dfDrop.set(t, (dfDrop.get(t) ?? 0) + 1);
    sumBody += r.terms.lenBody;
    sumTitle += r.terms.lenTitle;
  }
  await insertRows(tx, "INSERT INTO lex_tombstones (generation, chunk_rowid)", rows.map((r) => [generation, r.rowid]), "ON CONFLICT DO NOTHING");
  const drops = [...dfDrop];
  for (let i = 0; i < drops.length; i += 1000) {
    const slice = drops.slice(i, i + 1000);
    await tx.query("UPDATE terms SET df = terms.df - x.n FROM unnest($1::text[], $2::int[]) AS x(term, n) WHERE terms.term = x.term", [slice.map((d) => d[0]), slice.map((d) => d[1])]);
  }
  await tx.query("UPDATE stats SET chunks = chunks - $1, sum_len_body = sum_len_body - $2, sum_len_title = sum_len_title - $3 WHERE id = 1", [rows.length, sumBody, sumTitle]);
}
