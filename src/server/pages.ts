// Where each page of an uploaded PDF begins and ends in the document's text, kept in server.db by
// (knowledge base, document, version) when the upload is parsed, so the UI can show page breaks
// and page numbers. Documents ingested some other way (the CLI) fall back to what their chunks say.
import type Database from "better-sqlite3";
import type { PageSpan } from "../knowledge/store/readable-documents.js";
import type { ExtractedDocument } from "../knowledge/types.js";

/** Contiguous spans: a page runs from its first block to the next page's first block (or the end). */
export function pageSpansOf(doc: ExtractedDocument): PageSpan[] {
  const firsts = new Map<number, number>();
  for (const b of doc.blocks) if (b.page !== undefined && !firsts.has(b.page)) firsts.set(b.page, b.start);
  const pages = [...firsts.entries()].sort((a, b) => a[0] - b[0]);
  return pages.map(([page, start], i) => ({ page, start: i === 0 ? 0 : start, end: pages[i + 1]?.[1] ?? doc.text.length }));
}

export class PageIndex {
  constructor(private readonly db: Database.Database) {}

  put(kb: string, docId: string, version: number, pages: PageSpan[]): void {
    if (pages.length === 0) this.remove(kb, docId);
    else this.db.prepare("INSERT OR REPLACE INTO doc_pages (kb, doc_id, version, pages) VALUES (?, ?, ?, ?)").run(kb, docId, version, JSON.stringify(pages));
  }

  /** The spans stored for exactly this version of the document, if any. */
  get(kb: string, docId: string, version: number): PageSpan[] | undefined {
    const row = this.db.prepare("SELECT pages FROM doc_pages WHERE kb = ? AND doc_id = ? AND version = ?").get(kb, docId, version) as { pages: string } | undefined;
    return row ? (JSON.parse(row.pages) as PageSpan[]) : undefined;
  }

  remove(kb: string, docId: string): void {
    this.db.prepare("DELETE FROM doc_pages WHERE kb = ? AND doc_id = ?").run(kb, docId);
  }
}
