// Which documents a caller may rank under a filter, as a bitmap by document rowid, built with the
// same SQL condition as every other retriever (readableClause) and cached per caller and filter
// until the store's generation moves (any write may change ACLs, tags or documents). Scoring
// checks it per candidate, so a caller who may read 1% of the chunks still gets k results.
import type Database from "better-sqlite3";
import type { SearchFilter } from "../types.js";
import { isOwner, type Access } from "../store/access.js";
import { readableClause } from "../store/readable-clause.js";

const MAX_ENTRIES = 64;

export class AllowedDocs {
  private readonly cache = new Map<string, Uint8Array>();
  private generation = -1;

  constructor(private readonly db: Database.Database) {}

  /** null = every document (the owner without filters). */
  bitmap(access: Access, filter: SearchFilter | undefined, generation: number): Uint8Array | null {
    const filtered = (filter?.tags?.length ?? 0) > 0 || !!filter?.sourcePrefix;
    if (isOwner(access) && !filtered) return null;
    if (generation !== this.generation) {
      this.cache.clear();
      this.generation = generation;
    }
    const key = JSON.stringify([access, filter?.tags ?? [], filter?.sourcePrefix ?? ""]);
    let bits = this.cache.get(key);
    if (!bits) {
      const where = readableClause(access, filter);
      const ids = this.db.prepare(`SELECT d.rowid FROM documents d WHERE ${where.sql}`).pluck().all(where.params) as number[];
      let max = 0;
      for (const id of ids) if (id > max) max = id;
      bits = new Uint8Array(max + 1);
      for (const id of ids) bits[id] = 1;
      if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, bits);
    }
    return bits;
  }
}
