// The store's reads for people other than its owner, without searching: document lists, counts
// and page spans hold only what the principal may read; conversation lists and ownership only
// the principal's own. A principal who may read nothing gets empty lists and zero counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { chunkDocument } from "../../../src/knowledge/chunker.js";
import { ConversationStore } from "../../../src/knowledge/store/conversation-store.js";
import { ReadableDocuments } from "../../../src/knowledge/store/readable-documents.js";
import { KnowledgeStore, type DocumentInput } from "../../../src/knowledge/store/sqlite-store.js";
import type { ChunkDraft } from "../../../src/knowledge/types.js";
import { tempDir } from "../../helpers/paths.js";

function input(source: string, text: string, extra: Partial<DocumentInput> = {}): DocumentInput {
  const document = { text, mime: "text/plain", blocks: [] };
  return { docId: `doc_${source}`, source, title: source, mime: "text/plain", hash: `h:${text}`, size: text.length, text, acl: { users: [], groups: [] }, tags: [], chunks: chunkDocument(document), ...extra };
}

/** A paged document: one chunk per page, as the PDF loader's blocks would give. */
function paged(source: string, pages: string[], acl: DocumentInput["acl"]): DocumentInput {
  const text = pages.join("\n");
  let at = 0;
  const chunks: ChunkDraft[] = pages.map((p, i) => {
    const chunk = { ordinal: i, start: at, end: at + p.length, text: p, headingPath: [], page: i + 1 };
    at += p.length + 1;
    return chunk;
  });
  return { ...input(source, text), acl, mime: "application/pdf", chunks };
}

/** public (everyone), research (group), omar (user), and a two-page report for research. */
function museumStore(): KnowledgeStore {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  s.writeDocument(input("public", "opening hours of the museum", { tags: ["visitors", "hours"] }));
  s.writeDocument(input("research", "the survey budget in detail", { acl: { users: [], groups: ["research"] } }));
  s.writeDocument(input("omar", "notes for omar only", { acl: { users: ["omar"], groups: [] } }));
  s.writeDocument(paged("report", ["first page of the report.", "second page of the report."], { users: [], groups: ["research"] }));
  return s;
}

const NOBODY = { user: "mallory", groups: ["visitors"] };

test("documents lists only what the principal may read, with acl and tags, by source", () => {
  const s = museumStore();
  const docs = new ReadableDocuments(s.db);
  assert.deepEqual(docs.list({ user: "guest", groups: [] }).map((d) => d.source), ["public"]);
  assert.deepEqual(docs.list({ user: "dana", groups: ["research"] }).map((d) => d.source), ["public", "report", "research"]);
  assert.deepEqual(docs.list({ user: "omar", groups: [] }).map((d) => d.source), ["omar", "public"]);
  const [pub] = docs.list({ user: "guest" });
  assert.deepEqual(pub, { docId: "doc_public", source: "public", title: "public", mime: "text/plain", version: 1, ingestedAt: pub!.ingestedAt, size: 27, acl: { users: [], groups: [] }, tags: ["hours", "visitors"] });
  assert.deepEqual(docs.list({ user: "omar" })[0]!.acl, { users: ["omar"], groups: [] });
  s.close();
});

test("counts are the readable documents and their chunks", () => {
  const s = museumStore();
  const docs = new ReadableDocuments(s.db);
  const chunksOf = (source: string): number => (s.db.prepare("SELECT count(*) AS n FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid WHERE d.source = ?").get(source) as { n: number }).n;
  assert.deepEqual(docs.counts({ user: "guest", groups: [] }), { documents: 1, chunks: chunksOf("public") });
  assert.deepEqual(docs.counts({ user: "dana", groups: ["research"] }), { documents: 3, chunks: chunksOf("public") + chunksOf("research") + 2 });
  s.close();
});

test("page spans come from the chunks, only for a reader of the document", () => {
  const s = museumStore();
  const docs = new ReadableDocuments(s.db);
  const first = "first page of the report.".length;
  assert.deepEqual(docs.pageSpans("doc_report", { user: "dana", groups: ["research"] }), [
    { page: 1, start: 0, end: first + 1 },
    { page: 2, start: first + 1, end: first + 1 + "second page of the report.".length },
  ]);
  assert.deepEqual(docs.pageSpans("doc_report", { user: "guest", groups: [] }), []);
  assert.deepEqual(docs.pageSpans("doc_public", { user: "guest", groups: [] }), [], "an unpaged document has no spans");
  s.close();
});

test("a principal who may read nothing gets empty lists and zero counts", () => {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  s.writeDocument(input("research", "the survey budget in detail", { acl: { users: [], groups: ["research"] } }));
  s.writeDocument(paged("report", ["page one.", "page two."], { users: ["omar"], groups: [] }));
  const docs = new ReadableDocuments(s.db);
  for (const who of [NOBODY, {}, { user: "", groups: [] }]) {
    assert.deepEqual(docs.list(who), []);
    assert.deepEqual(docs.counts(who), { documents: 0, chunks: 0 });
    assert.deepEqual(docs.pageSpans("doc_report", who), []);
  }
  s.close();
});

test("conversations: a principal lists and owns only its own", () => {
  const s = museumStore();
  const conversations = new ConversationStore(s.db);
  conversations.append("dana-1", { user: "dana" }, [{ role: "user", content: "When does it open?" }, { role: "assistant", content: "At ten." }]);
  conversations.append("omar-1", { user: "omar" }, [{ role: "user", content: "Where are my notes?" }]);
  const mine = conversations.listOwn({ user: "dana", groups: ["research"] });
  assert.deepEqual(mine.map((c) => [c.id, c.title, c.messages]), [["dana-1", "When does it open?", 2]]);
  assert.equal(conversations.isOwnedBy("dana-1", { user: "dana" }), true);
  assert.equal(conversations.isOwnedBy("omar-1", { user: "dana" }), false, "someone else's");
  assert.equal(conversations.isOwnedBy("nope", { user: "dana" }), false, "missing");
  for (const who of [NOBODY, {}]) {
    assert.deepEqual(conversations.listOwn(who), []);
    assert.equal(conversations.isOwnedBy("dana-1", who), false);
  }
  s.close();
});
