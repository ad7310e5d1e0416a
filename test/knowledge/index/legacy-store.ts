// Writes a knowledge base exactly as the previous release (schema 2) did: the same tables, meta
// rows and one row per posting, so the migration is tested on the real old layout.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ANALYZER_VERSION, termFrequencies } from "../../../src/knowledge/analyzer.js";
import { titleFieldOf } from "../../../src/knowledge/index/chunk-terms.js";
import { SCHEMA_2_DDL, STORE_FILE, STORE_FORMAT } from "../../../src/knowledge/store/schema.js";
import type { DocumentInput } from "../../../src/knowledge/store/sqlite-store.js";

export function writeSchema2Store(dir: string, docs: DocumentInput[]): Database.Database {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, STORE_FILE));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);" + SCHEMA_2_DDL);
  const meta = db.prepare("INSERT INTO meta VALUES (?, ?)");
  for (const [k, v] of [["format", STORE_FORMAT], ["schema_version", "2"], ["analyzer", ANALYZER_VERSION], ["created_at", new Date().toISOString()]]) meta.run(k, v);
  const putDoc = db.prepare("INSERT INTO documents (doc_id, source, title, mime, hash, version, ingested_at, size, is_public, text) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)");
  const putAcl = db.prepare("INSERT OR IGNORE INTO doc_acl (doc_rowid, kind, principal) VALUES (?, ?, ?)");
  const putTag = db.prepare("INSERT OR IGNORE INTO doc_tags (doc_rowid, tag) VALUES (?, ?)");
  const putChunk = db.prepare(`INSERT INTO chunks (chunk_id, doc_rowid, ordinal, heading_path, start, "end", page, text, token_count, len_body, len_title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const putTerm = db.prepare("INSERT INTO terms (term, df) VALUES (?, 1) ON CONFLICT (term) DO UPDATE SET df = df + 1 RETURNING term_id");
  const putPosting = db.prepare("INSERT INTO postings (term_id, chunk_rowid, tf_body, tf_title) VALUES (?, ?, ?, ?)");
  db.transaction(() => {
    for (const d of docs) {
      const isPublic = d.acl.users.length + d.acl.groups.length === 0 ? 1 : 0;
      const rowid = Number(putDoc.run(d.docId, d.source, d.title, d.mime, d.hash, new Date().toISOString(), d.size, isPublic, d.text).lastInsertRowid);
      for (const u of d.acl.users) putAcl.run(rowid, "user", u);
      for (const g of d.acl.groups) putAcl.run(rowid, "group", g);
      for (const t of d.tags) putTag.run(rowid, t);
      let sumBody = 0;
      let sumTitle = 0;
      for (const c of d.chunks) {
        const body = termFrequencies(c.text);
        const title = termFrequencies(titleFieldOf(d.title, c.headingPath));
        const lb = [...body.values()].reduce((a, b) => a + b, 0);
        const lt = [...title.values()].reduce((a, b) => a + b, 0);
        const chunkRowid = Number(putChunk.run(`${d.docId}-v1-${c.ordinal}`, rowid, c.ordinal, JSON.stringify(c.headingPath), c.start, c.end, c.page ?? null, c.text, lb, lb, lt).lastInsertRowid);
        for (const term of new Set([...body.keys(), ...title.keys()])) {
          const { term_id } = putTerm.get(term) as { term_id: number };
          putPosting.run(term_id, chunkRowid, body.get(term) ?? 0, title.get(term) ?? 0);
        }
        sumBody += lb;
        sumTitle += lt;
      }
      db.prepare("UPDATE stats SET chunks = chunks + ?, sum_len_body = sum_len_body + ?, sum_len_title = sum_len_title + ? WHERE id = 1").run(d.chunks.length, sumBody, sumTitle);
    }
  })();
  return db;
}
