import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyze } from "../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25, idf } from "../../../src/knowledge/bm25.js";
import { chunkDocument } from "../../../src/knowledge/chunker.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { SCHEMA_VERSION, STORE_FILE } from "../../../src/knowledge/store/schema.js";
import { KnowledgeStore, type DocumentInput } from "../../../src/knowledge/store/sqlite-store.js";
import type { Acl } from "../../../src/knowledge/types.js";
import { tempDir } from "../../helpers/paths.js";

const PUBLIC: Acl = { users: [], groups: [] };

function input(source: string, text: string, extra: Partial<DocumentInput> = {}): DocumentInput {
  const document = { text, mime: "text/plain", blocks: [] };
  return { docId: `doc_${source}`, source, title: source, mime: "text/plain", hash: `h:${text}`, size: text.length, text, acl: PUBLIC, tags: [], chunks: chunkDocument(document), ...extra };
}

const search = (s: KnowledgeStore, q: string, access = OWNER as Parameters<KnowledgeStore["lexicalSearch"]>[1]["access"], k = 10) =>
  s.lexicalSearch(analyze(q), { k, access, params: DEFAULT_BM25 });

test("BM25 scores match a brute-force computation of the formula", () => {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  const docs = ["the cat sat on the mat", "a dog and a cat", "dogs dogs dogs everywhere running", "an unrelated text about birds and a cat"];
  docs.forEach((t, i) => s.writeDocument(input(`d${i}`, t, { title: "" })));
  const hits = search(s, "cat dog");
  // Brute force over the same analysis: body field only matters (titles are empty).
  const bodies = docs.map((t) => analyze(t));
  const titles = docs.map(() => analyze(""));
  const avg = bodies.reduce((a, b) => a + b.length, 0) / bodies.length;
  const { k1, b } = DEFAULT_BM25;
  const expected = bodies
    .map((terms, i) => {
      let score = 0;
      for (const q of ["cat", "dog"]) {
        const df = bodies.filter((d) => d.includes(q)).length;
        if (df === 0) continue;
        const tf = terms.filter((t) => t === q).length / (1 - b + (b * terms.length) / avg);
        score += idf(df, bodies.length) * ((tf * (k1 + 1)) / (tf + k1));
      }
      return { i, score, t: titles[i] };
    })
    .filter((x) => x.score > 0)
    .sort((a, b2) => b2.score - a.score);
  assert.deepEqual(hits.map((h) => h.source), expected.map((e) => `d${e.i}`));
  hits.forEach((h, j) => assert.ok(Math.abs(h.score - expected[j]!.score) < 1e-9, `${h.score} vs ${expected[j]!.score}`));
  s.close();
});

test("title and heading matches weigh in through the title field", () => {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  s.writeDocument(input("a", "general notes about the building", { title: "Telescope maintenance" }));
  s.writeDocument(input("b", "general notes about the building", { title: "Cafeteria menu" }));
  assert.equal(search(s, "telescope")[0]?.source, "a");
  const none = s.lexicalSearch(analyze("telescope"), { k: 10, access: OWNER, params: { ...DEFAULT_BM25, weightTitle: 0 } });
  assert.equal(none[0]?.score, 0);
  s.close();
});

test("ACLs are enforced inside the query: users, groups, public", () => {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  s.writeDocument(input("public", "spectrograph budget public summary"));
  s.writeDocument(input("research", "spectrograph budget secret numbers", { acl: { users: [], groups: ["research"] } }));
  s.writeDocument(input("omar", "spectrograph budget for omar only", { acl: { users: ["omar"], groups: [] } }));
  const sources = (access: Parameters<typeof search>[2]) => search(s, "spectrograph budget", access).map((h) => h.source).sort();
  assert.deepEqual(sources({ user: "guest", groups: [] }), ["public"]);
  assert.deepEqual(sources({ user: "dana", groups: ["research"] }), ["public", "research"]);
  assert.deepEqual(sources({ user: "omar", groups: [] }), ["omar", "public"]);
  assert.deepEqual(sources({ groups: ["research"] }), ["public", "research"]);
  assert.deepEqual(sources({ user: "", groups: [] }), ["public"]);
  assert.deepEqual(sources(OWNER), ["omar", "public", "research"]);
  // k counts only readable chunks: a guest asking for 1 still gets the public one.
  assert.deepEqual(search(s, "secret numbers spectrograph", { user: "guest" }, 1).map((h) => h.source), ["public"]);
  assert.equal(s.getDocument("doc_research", { user: "guest" }), undefined);
  assert.equal(s.getDocument("doc_research", { user: "x", groups: ["research"] })?.source, "research");
  s.close();
});

test("tag and source-prefix filters", () => {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  s.writeDocument(input("/docs/a.md", "lens cleaning", { tags: ["ops"] }));
  s.writeDocument(input("/other/b.md", "lens cleaning", { tags: ["public"] }));
  const q = (filter: object) => s.lexicalSearch(analyze("lens"), { k: 10, access: OWNER, params: DEFAULT_BM25, filter }).map((h) => h.source);
  assert.deepEqual(q({ tags: ["ops"] }), ["/docs/a.md"]);
  assert.deepEqual(q({ sourcePrefix: "/other/" }), ["/other/b.md"]);
  assert.deepEqual(q({ tags: ["none"] }), []);
  s.close();
});

test("re-writing: unchanged is skipped, changed content bumps the version and replaces chunks and index", () => {
  const s = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  assert.deepEqual(s.writeDocument(input("a", "alpha beta")), { status: "added", version: 1 });
  assert.deepEqual(s.writeDocument(input("a", "alpha beta")), { status: "unchanged", version: 1 });
  assert.deepEqual(s.writeDocument(input("a", "gamma delta")), { status: "updated", version: 2 });
  assert.equal(search(s, "alpha").length, 0);
  assert.equal(search(s, "gamma")[0]?.chunkId, "doc_a-v2-0");
  // No live term left behind for the old text (rows stay at df 0: term ids are stable); stats match the chunks table.
  const terms = (s.db.prepare("SELECT term FROM terms WHERE df > 0 ORDER BY term").all() as { term: string }[]).map((r) => r.term);
  assert.deepEqual(terms, ["delta", "gamma"]);
  const stats = s.db.prepare("SELECT chunks, sum_len_body FROM stats").get() as { chunks: number; sum_len_body: number };
  assert.deepEqual(stats, { chunks: 1, sum_len_body: 2 });
  // Same content with a new ACL: metadata updated, version kept, old readers lose access.
  assert.deepEqual(s.writeDocument(input("a", "gamma delta", { acl: { users: ["omar"], groups: [] } })), { status: "updated", version: 2 });
  assert.equal(search(s, "gamma", { user: "guest" }).length, 0);
  assert.equal(s.removeDocument("doc_a"), true);
  assert.deepEqual(s.index.check(), { chunks: 0, postings: 0, problems: [] });
  assert.equal((s.db.prepare("SELECT count(*) AS n FROM doc_acl").get() as { n: number }).n, 0);
  s.close();
});

test("a folder that is not a store, a newer schema and a foreign database are refused with clear errors", () => {
  const root = tempDir();
  mkdirSync(join(root, "docs"));
  writeFileSync(join(root, "docs", "a.md"), "# hi");
  assert.throws(() => KnowledgeStore.open(join(root, "docs")), { code: "NOT_A_STORE", message: /not a Strata knowledge base/ });
  assert.throws(() => KnowledgeStore.open(join(root, "docs"), { create: true }), { code: "NOT_A_STORE", message: /not empty/ });
  assert.throws(() => KnowledgeStore.open(join(root, "missing")), { code: "NOT_A_STORE", message: /no knowledge base/ });
  assert.throws(() => KnowledgeStore.open(join(root, "docs", "a.md")), { code: "NOT_A_STORE", message: /is a file/ });

  const kb = join(root, "kb");
  KnowledgeStore.open(kb, { create: true }).close();
  const db = new Database(join(kb, STORE_FILE));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
  db.close();
  assert.throws(() => KnowledgeStore.open(kb), { code: "STORE_TOO_NEW", message: /newer Strata/ });

  const foreign = join(root, "foreign");
  mkdirSync(foreign);
  const f = new Database(join(foreign, STORE_FILE));
  f.exec("CREATE TABLE something (x)");
  f.close();
  assert.throws(() => KnowledgeStore.open(foreign), { code: "NOT_A_STORE" });

  const garbage = join(root, "garbage");
  mkdirSync(garbage);
  writeFileSync(join(garbage, STORE_FILE), "this is not sqlite at all, just text".repeat(100));
  assert.throws(() => KnowledgeStore.open(garbage), { code: "NOT_A_STORE" });
});

test("a schema-1 store is migrated to the current schema on open, keeping its documents", () => {
  const kb = join(tempDir(), "kb");
  const s = KnowledgeStore.open(kb, { create: true });
  s.writeDocument(input("a", "alpha beta"));
  // Turn it back into a version-1 store: drop what schemas 2 and 3 added, bring back the postings table
  // (left empty: the migration rebuilds the index from the chunks).
  s.db.exec("DROP TABLE chunk_vectors; DROP TABLE embedding_models; DROP TABLE messages; DROP TABLE conversations; DROP TABLE traces");
  s.db.exec("DROP TABLE lex_segments; DROP TABLE lex_postings; DROP TABLE lex_tombstones; DROP TABLE lex_state");
  s.db.exec("CREATE TABLE postings (term_id INTEGER NOT NULL, chunk_rowid INTEGER NOT NULL, tf_body INTEGER NOT NULL, tf_title INTEGER NOT NULL, PRIMARY KEY (term_id, chunk_rowid)) WITHOUT ROWID");
  s.db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
  s.close();
  const reopened = KnowledgeStore.open(kb);
  const version = reopened.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
  assert.equal(Number(version.value), SCHEMA_VERSION);
  assert.equal(search(reopened, "alpha")[0]?.source, "a");
  assert.equal((reopened.db.prepare("SELECT count(*) AS n FROM chunk_vectors").get() as { n: number }).n, 0);
  reopened.close();
});
