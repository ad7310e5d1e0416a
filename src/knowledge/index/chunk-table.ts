// What scoring needs of every chunk, held in memory and indexed by chunk rowid: field lengths, the
// document it belongs to, and whether it is live. Loaded once per open and brought up to date from
// the store's generation counter: new chunks are those above the highest rowid seen (rowids only
// grow), deletions come from the tombstone log. Another process's commits are seen the same way.
import type Database from "better-sqlite3";

export class ChunkTable {
  lenBody = new Uint32Array(1024);
  lenTitle = new Uint32Array(1024);
  docRowid = new Int32Array(1024);
  /** 1 = live. A rowid never reused, so a tombstoned chunk's old postings can never come back. */
  live = new Uint8Array(1024);
  /** Highest chunk rowid loaded, and the generation the table reflects (-1 = never loaded). */
  maxRowid = 0;
  generation = -1;
  private readonly newChunks: Database.Statement;
  private readonly tombstones: Database.Statement;

  constructor(db: Database.Database) {
    this.newChunks = db.prepare("SELECT rowid, doc_rowid, len_body, len_title FROM chunks WHERE rowid > ? ORDER BY rowid").raw();
    this.tombstones = db.prepare("SELECT chunk_rowid FROM lex_tombstones WHERE generation > ?").pluck();
  }

  private grow(rowid: number): void {
    if (rowid < this.live.length) return;
    let size = this.live.length;
    while (size <= rowid) size *= 2;
    const extend = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.lenBody = extend(this.lenBody, (n) => new Uint32Array(n));
    this.lenTitle = extend(this.lenTitle, (n) => new Uint32Array(n));
    this.docRowid = extend(this.docRowid, (n) => new Int32Array(n));
    this.live = extend(this.live, (n) => new Uint8Array(n));
  }

  /** Brings the table to `generation` (the caller read it in the same read transaction). */
  refresh(generation: number): void {
    if (generation === this.generation) return;
    for (const row of this.newChunks.iterate(this.maxRowid) as IterableIterator<[number, number, number, number]>) {
      const [rowid, doc, lb, lt] = row;
      this.grow(rowid);
      this.lenBody[rowid] = lb;
      this.lenTitle[rowid] = lt;
      this.docRowid[rowid] = doc;
      this.live[rowid] = 1;
      this.maxRowid = rowid;
    }
    if (this.generation >= 0) {
      for (const rowid of this.tombstones.iterate(this.generation) as IterableIterator<number>) if (rowid < this.live.length) this.live[rowid] = 0;
    }
    this.generation = generation;
  }

  /** Forgets everything (after a rebuild renumbers nothing but rewrites the log). */
  reset(): void {
    this.live.fill(0);
    this.maxRowid = 0;
    this.generation = -1;
  }
}
