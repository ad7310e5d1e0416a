// SQLite FTS5 as a reference ranker: the same analysed text (Strata's analyzer output, terms joined
// by spaces) in two columns, ranked by FTS5's own bm25() with equal column weights, top k by
// `ORDER BY rank`. A separate database file, so it shares nothing with the store it is compared to.
import Database from "better-sqlite3";
import { analyze } from "../src/knowledge/analyzer.js";

export class Fts5Reference {
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly query: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = OFF");
    // Terms are already analysed: split on whitespace only, no further folding or stemming.
    this.db.exec("CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize = \"unicode61 remove_diacritics 0 tokenchars '.,'\")");
    this.put = this.db.prepare("INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)");
    this.query = this.db.prepare("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 1.0, 1.0) LIMIT ?").pluck();
  }

  /** Adds documents (id = a positive integer), one transaction per call. */
  add(docs: Iterable<{ id: number; title: string; text: string }>): void {
    this.db.transaction(() => {
      for (const d of docs) this.put.run(d.id, analyze(d.title).join(" "), analyze(d.text).join(" "));
    })();
  }

  /** Ids of the best k documents for a query (any of its terms). */
  search(query: string, k: number): number[] {
    const terms = [...new Set(analyze(query))].map((t) => `"${t.replace(/"/g, '""')}"`);
    if (terms.length === 0) return [];
    return this.query.all(terms.join(" OR "), k) as number[];
  }

  close(): void {
    this.db.close();
  }
}
