import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyze } from "../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25, type Bm25Params } from "../../../src/knowledge/bm25.js";
import { chunkDocument } from "../../../src/knowledge/chunker.js";
import { uniformSource } from "../../../src/core/random.js";
import { OWNER, type Access } from "../../../src/knowledge/store/access.js";
import { KnowledgeStore, type DocumentInput } from "../../../src/knowledge/store/sqlite-store.js";
import type { SearchFilter, TextBlock } from "../../../src/knowledge/types.js";
import { tempDir } from "../../helpers/paths.js";
import { recountPostings, sqlReference } from "./reference.js";

const VOCAB = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "honeydew", "kiwi", "lemon", "mango", "nectarine", "olive", "papaya", "quince", "raisin", "salak", "tamarind", "ugli", "vanilla", "walnut", "yam", "zucchini", "almond", "basil", "cumin", "dill", "fennel"];

function corpusDoc(rand: () => number, i: number, version: number): DocumentInput {
  // Zipf-ish words so that a few terms are in most chunks (low idf) and many are rare; short texts
  // repeat exactly, which makes equal scores (ties broken by chunk id) common.
  const word = (): string => VOCAB[Math.min(VOCAB.length - 1, Math.floor(VOCAB.length * rand() ** 2.2))]!;
  const para = (n: number): string => Array.from({ length: n }, word).join(" ") + ".";
  const sections = 1 + Math.floor(rand() * 3);
  let text = "";
  const blocks: TextBlock[] = [];
  const add = (kind: "heading" | "paragraph", s: string): void => {
    blocks.push({ kind, ...(kind === "heading" ? { level: 1 } : {}), start: text.length, end: text.length + s.length });
    text += s + "\n\n";
  };
  for (let s = 0; s < sections; s++) {
    add("heading", `${word()} ${word()}`);
    add("paragraph", para(rand() < 0.3 ? 2 : 5 + Math.floor(rand() * 60)));
  }
  const document = { text, mime: "text/markdown", blocks };
  const groups = rand() < 0.5 ? [] : [`g${Math.floor(rand() * 4)}`];
  return {
    docId: `doc${i}`, source: `/src/${i % 3}/doc${i}.md`, title: rand() < 0.5 ? word() : `doc ${i}`, mime: "text/markdown",
    hash: `${i}-${version}-${text.length}`, size: text.length, text, acl: { users: rand() < 0.2 ? ["ann"] : [], groups },
    tags: rand() < 0.5 ? ["red"] : ["blue"], chunks: chunkDocument(document, { maxChars: 100 + Math.floor(rand() * 300), overlapChars: 20 }),
  };
}

const ACCESSES: Access[] = [OWNER, {}, { user: "ann" }, { user: "bob", groups: ["g1", "g2"] }];
const FILTERS: (SearchFilter | undefined)[] = [undefined, { tags: ["red"] }, { sourcePrefix: "/src/1/" }];
const PARAMS: Bm25Params[] = [DEFAULT_BM25, { k1: 1.2, b: 0.75, bTitle: 0.2, weightBody: 1, weightTitle: 2.5 }, { k1: 0.5, b: 0, bTitle: 1, weightBody: 1, weightTitle: 0 }];

function compare(store: KnowledgeStore, rand: () => number, queries: number, label: string): void {
  recountPostings(store.db);
  for (let q = 0; q < queries; q++) {
    const n = 1 + Math.floor(rand() * 6);
    const text = Array.from({ length: n }, () => VOCAB[Math.floor(rand() * VOCAB.length)]!).join(" ") + (rand() < 0.1 ? " unknownword" : "");
    const opts = { k: [1, 3, 10, 50][Math.floor(rand() * 4)]!, access: ACCESSES[Math.floor(rand() * ACCESSES.length)]!, filter: FILTERS[Math.floor(rand() * FILTERS.length)], params: PARAMS[Math.floor(rand() * PARAMS.length)]! };
    const terms = analyze(text);
    const want = sqlReference(store.db, terms, opts);
    const got = store.lexicalSearch(terms, opts);
    const where = `${label}, query ${q} "${text}" ${JSON.stringify({ ...opts, params: undefined })}`;
    assert.deepEqual(got.map((h) => h.chunkId), want.map((h) => h.chunkId), where);
    got.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) <= 1e-9, `${where}: ${h.score} vs ${want[i]!.score}`));
    // Both scoring strategies, forced: the same chunks in the same order with bit-identical scores.
    const maxScore = store.index.search(terms, { ...opts, strategy: "maxscore" });
    assert.deepEqual(store.index.search(terms, { ...opts, strategy: "exhaustive" }), maxScore, `${where}: exhaustive against MaxScore`);
    assert.deepEqual(maxScore.map((s) => s.score), got.map((h) => h.score), `${where}: MaxScore against the chosen strategy`);
  }
}

test("the segmented index ranks exactly as schema 2's SQL query: same hits, order, scores (1e-9) and tie-breaks, through updates, deletes and merges", () => {
  const rand = uniformSource(7);
  const store = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  let next = 0;
  // Many small batches: many segments, several merges.
  for (let b = 0; b < 25; b++) {
    const batch = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => corpusDoc(rand, next++, 1));
    for (const r of store.writeDocuments(batch)) assert.ok(!("error" in r));
  }
  assert.equal(store.index.check().problems.length, 0);
  compare(store, rand, 150, "after ingest");
  // Updates (new chunks, old ones tombstoned), ACL-only changes and deletes.
  for (let i = 0; i < 40; i++) {
    const id = Math.floor(rand() * next);
    if (rand() < 0.3) store.removeDocument(`doc${id}`);
    else store.writeDocument(corpusDoc(rand, id, 2 + i));
  }
  assert.deepEqual(store.index.check().problems, []);
  compare(store, rand, 150, "after updates and deletes");
  store.index.mergeDue({ all: true });
  assert.equal(store.index.listSegments().length, 1);
  assert.deepEqual(store.index.check().problems, []);
  compare(store, rand, 100, "after a full merge");
  store.close();
});

test("a caller who may read few chunks still gets k results: access is checked inside the scoring loop", () => {
  const store = KnowledgeStore.open(join(tempDir(), "kb"), { create: true });
  const docs: DocumentInput[] = [];
  for (let i = 0; i < 400; i++) {
    const text = `alpha ${i % 7 === 0 ? "alpha alpha" : "beta"} gamma ${i}`;
    docs.push({ docId: `d${i}`, source: `/d${i}`, title: "t", mime: "text/plain", hash: `${i}`, size: text.length, text, acl: { users: i % 40 === 0 ? ["few"] : ["other"], groups: [] }, tags: [], chunks: chunkDocument({ text, mime: "text/plain", blocks: [] }) });
  }
  store.writeDocuments(docs);
  const hits = store.lexicalSearch(analyze("alpha"), { k: 10, access: { user: "few" }, params: DEFAULT_BM25 });
  assert.equal(hits.length, 10);
  assert.ok(hits.every((h) => Number(h.docId.slice(1)) % 40 === 0));
  store.close();
});
