// Which vectors changed since an approximate index was built (decision 0009). Triggers on
// chunk_vectors append (model, chunk) to a log in the same transaction as the change, whoever makes
// it (embedding, re-ingest cascades, deletes, an older Strata), so an index that knows its log
// position can catch up by replaying the touched chunks instead of being rebuilt. The tables and
// triggers are additive and created idempotently: an older Strata ignores them and still fires them.
import type Database from "better-sqlite3";

const DDL = `
CREATE TABLE IF NOT EXISTS dense_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id TEXT NOT NULL,
  chunk_rowid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dense_changes_by_model ON dense_changes (model_id, seq);
CREATE TABLE IF NOT EXISTS dense_log_floor (model_id TEXT PRIMARY KEY, pruned_through INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS dense_changes_ins AFTER INSERT ON chunk_vectors BEGIN
  INSERT INTO dense_changes (model_id, chunk_rowid) VALUES (NEW.model_id, NEW.chunk_rowid);
END;
CREATE TRIGGER IF NOT EXISTS dense_changes_del AFTER DELETE ON chunk_vectors BEGIN
  INSERT INTO dense_changes (model_id, chunk_rowid) VALUES (OLD.model_id, OLD.chunk_rowid);
END;
CREATE TRIGGER IF NOT EXISTS dense_changes_upd AFTER UPDATE ON chunk_vectors BEGIN
  INSERT INTO dense_changes (model_id, chunk_rowid) VALUES (OLD.model_id, OLD.chunk_rowid);
  INSERT INTO dense_changes (model_id, chunk_rowid) VALUES (NEW.model_id, NEW.chunk_rowid);
END;
`;

export class DenseChangeLog {
  private ready: boolean | undefined;

  constructor(private readonly db: Database.Database) {}

  /** Creates the log when missing; false on a read-only store that has none (no index can be kept fresh). */
  ensure(): boolean {
    if (this.ready !== undefined) return this.ready;
    const have = this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('dense_changes', 'dense_log_floor', 'dense_changes_ins', 'dense_changes_del', 'dense_changes_upd')").get() as { n: number };
    if (have.n < 5) {
      if (this.db.readonly) return (this.ready = false);
      this.db.exec(DDL);
    }
    return (this.ready = true);
  }

  /** The log position after the model's latest change (0 when none is logged). */
  head(modelId: string): number {
    const r = this.db.prepare("SELECT max(seq) AS s FROM dense_changes WHERE model_id = ?").get(modelId) as { s: number | null };
    return Math.max(r.s ?? 0, this.floor(modelId));
  }

  /** Entries at or below this position were pruned; an index older than it must be rebuilt. */
  floor(modelId: string): number {
    const r = this.db.prepare("SELECT pruned_through AS p FROM dense_log_floor WHERE model_id = ?").get(modelId) as { p: number } | undefined;
    return r?.p ?? 0;
  }

  /** Chunks whose vector for the model changed after `seq`, at most `limit` + 1 of them (more means rebuild). */
  touchedSince(modelId: string, seq: number, limit: number): { rowids: number[]; head: number } {
    const rows = this.db.prepare("SELECT DISTINCT chunk_rowid AS r FROM dense_changes WHERE model_id = ? AND seq > ? LIMIT ?").all(modelId, seq, limit + 1) as { r: number }[];
    return { rowids: rows.map((x) => x.r), head: this.head(modelId) };
  }

  /** Forgets entries an index saved at `through` no longer needs. */
  prune(modelId: string, through: number): void {
    if (this.db.readonly) return;
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM dense_changes WHERE model_id = ? AND seq <= ?").run(modelId, through);
      this.db.prepare("INSERT INTO dense_log_floor (model_id, pruned_through) VALUES (?, ?) ON CONFLICT (model_id) DO UPDATE SET pruned_through = max(pruned_through, excluded.pruned_through)").run(modelId, through);
    })();
  }
}
