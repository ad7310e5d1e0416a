import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyze } from "../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../../../src/knowledge/bm25.js";
import { chunkDocument } from "../../../src/knowledge/chunker.js";
import type { ProgressEvent } from "../../../src/core/events.js";
import { OWNER, type Access } from "../../../src/knowledge/store/access.js";
import { SCHEMA_VERSION } from "../../../src/knowledge/store/schema.js";
import { KnowledgeStore, type DocumentInput } from "../../../src/knowledge/store/sqlite-store.js";
import { uniformSource } from "../../../src/core/random.js";
import { tempDir } from "../../helpers/paths.js";
import { writeSchema2Store } from "./legacy-store.js";
import { sqlReference } from "./reference.js";

const WORDS = "solar wind magnetic field plasma flare corona storm orbit satellite signal noise antenna".split(" ");

function docs(n: number): DocumentInput[] {
  const rand = uniformSource(3);
  return Array.from({ length: n }, (_, i) => {
    const text = Array.from({ length: 20 + Math.floor(rand() * 200) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ");
    return {
      docId: `doc${i}`, source: `/docs/${i}.txt`, title: `${WORDS[i % WORDS.length]} report`, mime: "text/plain", hash: `h${i}`, size: text.length, text,
      acl: i % 3 === 0 ? { users: [], groups: ["ops"] } : { users: [], groups: [] }, tags: i % 2 ? ["odd"] : [],
      chunks: chunkDocument({ text, mime: "text/plain", blocks: [] }, { maxChars: 300, overlapChars: 40 }),
    };
  });
}

test("a store written by the previous release (schema 2) is migrated on first open: the index is built from its chunks with progress, and ranks exactly as before", () => {
  const dir = join(tempDir(), "kb");
  const legacy = writeSchema2Store(dir, docs(120));
  const queries: { terms: string[]; access: Access; k: number }[] = [];
  for (let i = 0; i < 40; i++) queries.push({ terms: analyze(`${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${i % 4 ? "" : WORDS[(i * 3) % WORDS.length]}`), access: i % 2 ? OWNER : { groups: [] }, k: [5, 10, 40][i % 3]! });
  // What the previous release answered, from its own postings table.
  const before = queries.map((q) => sqlReference(legacy, q.terms, { k: q.k, access: q.access, params: DEFAULT_BM25 }, "postings"));
  legacy.close();

  assert.throws(() => KnowledgeStore.open(dir, { readonly: true }), { code: "STORE_OUTDATED" });
  const events: ProgressEvent[] = [];
  const store = KnowledgeStore.open(dir, { onProgress: (e) => events.push(e) });
  assert.equal(Number((store.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value), SCHEMA_VERSION);
  assert.ok(events.length >= 2 && events.at(-1)!.done === events.at(-1)!.total && events[0]!.phase === "index", JSON.stringify(events));
  assert.equal(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'postings'").get(), undefined);
  assert.deepEqual(store.index.check().problems, []);
  queries.forEach((q, i) => {
    const got = store.lexicalSearch(q.terms, { k: q.k, access: q.access, params: DEFAULT_BM25 });
    assert.deepEqual(got.map((h) => h.chunkId), before[i]!.map((h) => h.chunkId), `query ${i}`);
    got.forEach((h, j) => assert.ok(Math.abs(h.score - before[i]![j]!.score) <= 1e-9));
  });
  // New writes after the migration get rowids above the old ones and stay exact.
  const [extra] = docs(121).slice(120);
  store.writeDocument({ ...extra!, source: "/docs/new.txt", docId: "new" });
  store.removeDocument("doc5");
  assert.deepEqual(store.index.check().problems, []);
  store.close();
  // A second open does not rebuild.
  const again: ProgressEvent[] = [];
  KnowledgeStore.open(dir, { onProgress: (e) => again.push(e) }).close();
  assert.equal(again.length, 0);
});
