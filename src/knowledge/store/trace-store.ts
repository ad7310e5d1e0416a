// Traces of answers and chat turns in the knowledge-base store, each with its owner: a user reads
// only their own traces; the operator of a local store (OWNER access) reads all of them.
import type Database from "better-sqlite3";
import { StrataError } from "../../core/errors.js";
import { parseTraceData, type TraceData } from "../../core/trace.js";
import { isOwner, type Access } from "./access.js";

/**
 * The owner recorded for what a caller creates. Users are prefixed so that a user who happens to
 * be called "owner" can never read the operator's records; anonymous callers own nothing readable.
 */
export function ownerOf(access: Access): string {
  if (isOwner(access)) return "owner";
  return access.user ? `user:${access.user}` : "anonymous";
}

/** Whether the caller may read a record with this owner. */
export function mayRead(owner: string, access: Access): boolean {
  if (isOwner(access)) return true;
  return access.user !== undefined && access.user !== "" && owner === `user:${access.user}`;
}

export interface TraceSummary {
  id: string;
  kind: string;
  owner: string;
  createdAt: string;
}

export class TraceStore {
  constructor(private readonly db: Database.Database) {}

  save(trace: TraceData, access: Access): void {
    this.db
      .prepare("INSERT INTO traces (id, kind, owner, created_at, data) VALUES (?, ?, ?, ?, ?)")
      .run(trace.id, trace.kind, ownerOf(access), trace.startedAt, JSON.stringify(trace));
  }

  /** The trace, if it exists and the caller may read it; someone else's looks the same as none. */
  get(id: string, access: Access): (TraceData & { owner: string }) | undefined {
    const row = this.db.prepare("SELECT owner, data FROM traces WHERE id = ?").get(id) as { owner: string; data: string } | undefined;
    if (!row || !mayRead(row.owner, access)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(row.data);
    } catch {
      throw new StrataError("STORE_CORRUPT", `trace ${id} is not valid JSON in the store`, "run the question again for a new trace");
    }
    return { ...parseTraceData(raw), owner: row.owner };
  }

  /** Most recent traces the caller may read, newest first. */
  list(access: Access, limit = 20): TraceSummary[] {
    type Row = { id: string; kind: string; owner: string; created_at: string };
    const rows = isOwner(access)
      ? (this.db.prepare("SELECT id, kind, owner, created_at FROM traces ORDER BY created_at DESC, id LIMIT ?").all(limit) as Row[])
      : access.user
        ? (this.db.prepare("SELECT id, kind, owner, created_at FROM traces WHERE owner = ? ORDER BY created_at DESC, id LIMIT ?").all(ownerOf(access), limit) as Row[])
        : [];
    return rows.map((r) => ({ id: r.id, kind: r.kind, owner: r.owner, createdAt: r.created_at }));
  }
}
