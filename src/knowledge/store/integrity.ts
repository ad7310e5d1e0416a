// The SQLite backend's consistency check: every page readable (quick_check), foreign keys intact,
// and the counts an operator sees. The server runs it on an imported store before serving it.
import type Database from "better-sqlite3";
import type { IntegrityReport } from "./backend.js";

export function checkIntegrity(db: Database.Database): IntegrityReport {
  const problems: string[] = [];
  const pages = db.pragma("quick_check", { simple: false }) as { quick_check: string }[];
  for (const r of pages) if (r.quick_check !== "ok") problems.push(r.quick_check);
  if (problems.length === 0) {
    const fk = db.pragma("foreign_key_check") as { table: string; rowid: number; parent: string }[];
    for (const r of fk.slice(0, 20)) problems.push(`row ${r.rowid} of ${r.table} points to a missing row of ${r.parent}`);
  }
  const count = (table: string): number => {
    try {
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } catch (e) {
      problems.push(`${table} cannot be counted: ${(e as Error).message}`);
      return 0;
    }
  };
  return { ok: problems.length === 0, problems, documents: count("documents"), chunks: count("chunks") };
}
