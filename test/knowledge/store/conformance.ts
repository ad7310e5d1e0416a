// The knowledge-store conformance suite (decision 0010): one set of behaviours every backend must
// show, run once per implementation (sqlite-conformance.test.ts today, PostgreSQL next). It speaks
// only the KnowledgeStoreBackend interface and awaits every call, so a promise-based backend runs
// it unchanged. Each test gets a fresh, empty store from the factory.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TraceData } from "../../../src/core/trace.js";
import { DEFAULT_BM25 } from "../../../src/knowledge/bm25.js";
import { analyze } from "../../../src/knowledge/analyzer.js";
import { normalize } from "../../../src/knowledge/dense/vectors.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import type { KnowledgeStoreBackend } from "../../../src/knowledge/store/backend.js";
import type { DocumentInput } from "../../../src/knowledge/store/sqlite-store.js";
import type { Acl, Principal } from "../../../src/knowledge/types.js";

export interface BackendUnderTest {
  store: KnowledgeStoreBackend;
  /** Closes and removes what the factory made. */
  dispose(): Promise<void> | void;
}

export type BackendFactory = () => Promise<BackendUnderTest> | BackendUnderTest;

const PUBLIC: Acl = { users: [], groups: [] };
const ALICE: Principal = { user: "alice", groups: [] };
const BOB: Principal = { user: "bob", groups: ["research"] };
const ANON: Principal = {};

/** A document whose paragraphs (split on blank lines) become its chunks. */
export function docInput(source: string, text: string, o: { acl?: Acl; tags?: string[]; title?: string; hash?: string; pages?: number[] } = {}): DocumentInput {
  const chunks: DocumentInput["chunks"] = [];
  let at = 0;
  for (const para of text.split("\n\n")) {
    const start = text.indexOf(para, at);
    chunks.push({ ordinal: chunks.length, start, end: start + para.length, text: para, headingPath: [], ...(o.pages ? { page: o.pages[chunks.length] } : {}) });
    at = start + para.length;
  }
  return {
    docId: `doc-${source.replace(/[^a-z0-9]/gi, "_")}`,
    source,
    title: o.title ?? source,
    mime: "text/plain",
    hash: o.hash ?? `h:${text.length}:${text.slice(0, 16)}`,
    size: text.length,
    text,
    acl: o.acl ?? PUBLIC,
    tags: o.tags ?? [],
    chunks,
  };
}

function trace(id: string): TraceData {
  return { version: 1, id, kind: "answer", startedAt: new Date().toISOString(), ms: 3, attributes: { q: "x" }, usage: { inputTokens: 1, outputTokens: 2 }, spans: [] };
}

/** A unit vector that points mostly along axis `i` of `dims`. */
function axis(i: number, dims: number, lean = 0.05): Float32Array {
  const v = new Float32Array(dims).fill(lean);
  v[i % dims] = 1;
  return normalize(v);
}

export function storeConformance(name: string, factory: BackendFactory): void {
  const withStore = (title: string, fn: (s: KnowledgeStoreBackend) => Promise<void>): void => {
    it(title, async () => {
      const b = await factory();
      try {
        await fn(b.store);
      } finally {
        await b.dispose();
      }
    });
  };

  describe(`knowledge store conformance: ${name}`, () => {
    describe("documents", () => {
      withStore("adds, skips unchanged, updates with a new version, removes", async (s) => {
        const a = docInput("mem:a", "the harbour museum opens at nine\n\nthe lighthouse keeper rings the bell");
        assert.deepEqual(await s.writeDocument(a), { status: "added", version: 1 });
        const info = await s.findBySource("mem:a");
        assert.ok(info);
        assert.equal(info.version, 1);
        assert.equal(await s.isUnchanged(info, a.hash, PUBLIC, []), true);
        assert.equal(await s.isUnchanged(info, a.hash, PUBLIC, ["new-tag"]), false);
        assert.deepEqual(await s.writeDocument(a), { status: "unchanged", version: 1 });
        const changed = docInput("mem:a", "the harbour museum opens at ten");
        assert.deepEqual(await s.writeDocument(changed), { status: "updated", version: 2 });
        assert.equal(await s.chunkCount(), 1);
        const doc = await s.getDocument(a.docId, OWNER);
        assert.equal(doc?.text, "the harbour museum opens at ten");
        assert.equal(doc?.version, 2);
        assert.deepEqual(await s.listSources(), [{ docId: a.docId, source: "mem:a" }]);
        assert.equal(await s.removeDocument(a.docId), true);
        assert.equal(await s.removeDocument(a.docId), false);
        assert.equal(await s.getDocument(a.docId, OWNER), undefined);
        assert.equal(await s.chunkCount(), 0);
      });

      withStore("a new ACL or tag set replaces the old one without a new version", async (s) => {
        const a = docInput("mem:a", "canal boat tour");
        await s.writeDocument(a);
        assert.deepEqual(await s.writeDocument({ ...a, acl: { users: ["alice"], groups: [] }, tags: ["tours"] }), { status: "updated", version: 1 });
        const doc = await s.getDocument(a.docId, OWNER);
        assert.deepEqual(doc?.acl, { users: ["alice"], groups: [] });
        assert.deepEqual(doc?.tags, ["tours"]);
        assert.equal(await s.getDocument(a.docId, BOB), undefined);
        assert.ok(await s.getDocument(a.docId, ALICE));
      });

      withStore("writeDocuments writes a batch in one transaction: a failing document is returned as its error, the others are stored", async (s) => {
        const ok = docInput("mem:ok", "bread market on sunday");
        const dup = { ...docInput("mem:other", "coffee and bread"), docId: ok.docId };
        const results = await s.writeDocuments([ok, dup]);
        assert.deepEqual(results.map((r) => ("status" in r ? r.status : "error")), ["added", "error"]);
        assert.deepEqual((await s.listSources()).map((x) => x.source), ["mem:ok"]);
        const more = await s.writeDocuments([docInput("mem:b", "coffee and bread")]);
        assert.deepEqual(more.map((r) => ("status" in r ? r.status : "error")), ["added"]);
        assert.equal((await s.listSources()).length, 2);
      });
    });

    describe("access", () => {
      withStore("getDocument, the readable list, counts and page spans show only what a principal may read", async (s) => {
        await s.writeDocument(docInput("mem:pub", "public notes on the tram\n\nsecond part", { pages: [1, 2] }));
        await s.writeDocument(docInput("mem:alice", "alice's private diary", { acl: { users: ["alice"], groups: [] } }));
        await s.writeDocument(docInput("mem:research", "sonar survey results\n\nwreck found", { acl: { users: [], groups: ["research"] }, tags: ["survey"] }));
        const sources = async (p: Principal): Promise<string[]> => (await s.readable.list(p)).map((d) => d.source);
        assert.deepEqual(await sources(ANON), ["mem:pub"]);
        assert.deepEqual(await sources(ALICE), ["mem:alice", "mem:pub"]);
        assert.deepEqual(await sources(BOB), ["mem:pub", "mem:research"]);
        assert.deepEqual(await s.readable.counts(ANON), { documents: 1, chunks: 2 });
        assert.deepEqual(await s.readable.counts(BOB), { documents: 2, chunks: 4 });
        const research = (await s.readable.list(BOB)).find((d) => d.source === "mem:research")!;
        assert.deepEqual(research.acl, { users: [], groups: ["research"] });
        assert.deepEqual(research.tags, ["survey"]);
        assert.equal(await s.getDocument(research.docId, ALICE), undefined);
        const pub = (await s.readable.list(ANON))[0]!;
        const spans = await s.readable.pageSpans(pub.docId, ANON);
        assert.deepEqual(spans.map((p) => p.page), [1, 2]);
        assert.equal(spans[0]!.start, 0);
        assert.equal(spans[1]!.end, "public notes on the tram\n\nsecond part".length);
        assert.deepEqual(await s.readable.pageSpans(research.docId, ALICE), []);
      });
    });

    describe("lexical search", () => {
      withStore("ranks by BM25F within the caller's rights and the filters", async (s) => {
        await s.writeDocument(docInput("mem/pub/1", "the lighthouse lens was polished", { tags: ["light"] }));
        await s.writeDocument(docInput("mem/pub/2", "the lighthouse keeper and the lighthouse bell"));
        await s.writeDocument(docInput("mem/sec/3", "lighthouse lighthouse lighthouse secret", { acl: { users: [], groups: ["research"] } }));
        const q = analyze("lighthouse");
        const search = async (access: Principal | typeof OWNER, filter?: { tags?: string[]; sourcePrefix?: string }): Promise<string[]> =>
          (await s.lexicalSearch(q, { k: 10, access, filter, params: DEFAULT_BM25 })).map((h) => h.source);
        assert.deepEqual(await search(ANON), ["mem/pub/2", "mem/pub/1"]);
        assert.deepEqual(await search(BOB), ["mem/sec/3", "mem/pub/2", "mem/pub/1"]);
        assert.deepEqual(await search(BOB, { tags: ["light"] }), ["mem/pub/1"]);
        assert.deepEqual(await search(OWNER, { sourcePrefix: "mem/sec/" }), ["mem/sec/3"]);
        const hits = await s.lexicalSearch(q, { k: 1, access: ANON, params: DEFAULT_BM25 });
        assert.equal(hits.length, 1);
        assert.equal(hits[0]!.rank, 1);
        assert.ok(hits[0]!.score > 0);
        assert.equal(hits[0]!.text, "the lighthouse keeper and the lighthouse bell");
        const stats = await s.termStats([q[0]!, "absent"]);
        assert.equal(stats.chunks, 3);
        assert.equal(stats.df.get(q[0]!)?.df, 3);
        assert.equal(stats.df.has("absent"), false);
      });

      withStore("a removed or replaced document is no longer found", async (s) => {
        const a = docInput("mem:a", "schooner wreck in the bay");
        await s.writeDocument(a);
        await s.writeDocument(docInput("mem:a", "a quiet garden cafe"));
        assert.deepEqual(await s.lexicalSearch(analyze("schooner"), { k: 5, access: OWNER, params: DEFAULT_BM25 }), []);
        assert.equal((await s.lexicalSearch(analyze("garden"), { k: 5, access: OWNER, params: DEFAULT_BM25 })).length, 1);
        await s.removeDocument(a.docId);
        assert.deepEqual(await s.lexicalSearch(analyze("garden"), { k: 5, access: OWNER, params: DEFAULT_BM25 }), []);
      });
    });

    describe("vectors and dense search", () => {
      const DIMS = 8;
      const fill = async (s: KnowledgeStoreBackend): Promise<void> => {
        await s.writeDocument(docInput("mem:v0", "zero", { tags: ["even"] }));
        await s.writeDocument(docInput("mem:v1", "one"));
        await s.writeDocument(docInput("mem:v2", "two", { tags: ["even"] }));
        await s.writeDocument(docInput("mem:v3", "three", { acl: { users: [], groups: ["research"] } }));
        assert.equal(await s.countChunksWithoutVector("m"), 4);
        const todo = await s.chunksWithoutVector("m", 0, 10);
        assert.deepEqual(todo.map((c) => c.text), ["zero", "one", "two", "three"]);
        assert.equal(await s.writeVectors("m", DIMS, todo.map((c, i) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: axis(i, DIMS) }))), 4);
      };

      withStore("stores vectors per model, counts them, and refuses another width", async (s) => {
        await fill(s);
        assert.equal(await s.countChunksWithoutVector("m"), 0);
        const info = await s.embeddingModel("m");
        assert.equal(info?.dimensions, DIMS);
        assert.equal(info?.vectors, 4);
        assert.deepEqual((await s.listEmbeddingModels()).map((m) => m.modelId), ["m"]);
        const one = (await s.chunksWithoutVector("other", 0, 1))[0]!;
        await assert.rejects(async () => s.writeVectors("m", DIMS + 1, [{ rowid: one.rowid, chunkId: one.chunkId, vector: axis(0, DIMS + 1) }]), /EMBEDDING_MISMATCH|holds 8-dim/);
        assert.equal(await s.dropVectors("m"), 4);
        assert.equal(await s.embeddingModel("m"), undefined);
      });

      withStore("a vector for a chunk replaced since it was read is not stored", async (s) => {
        await s.writeDocument(docInput("mem:a", "first text"));
        const stale = (await s.chunksWithoutVector("m", 0, 10))[0]!;
        await s.writeDocument(docInput("mem:a", "second text"));
        assert.equal(await s.writeVectors("m", DIMS, [{ rowid: stale.rowid, chunkId: stale.chunkId, vector: axis(0, DIMS) }]), 0);
        assert.equal(await s.countChunksWithoutVector("m"), 1);
      });

      for (const method of ["exact", "ann", "auto"] as const) {
        withStore(`dense search (${method}) ranks by cosine within the caller's rights and filters`, async (s) => {
          await fill(s);
          const top = async (q: number, access: Principal | typeof OWNER, k = 4, tags?: string[]): Promise<string[]> =>
            (await s.denseSearch("m", axis(q, DIMS), { k, access, method, filter: tags ? { tags } : undefined })).map((h) => h.text);
          assert.deepEqual((await top(1, ANON, 1)), ["one"]);
          assert.deepEqual((await top(3, BOB, 1)), ["three"]);
          assert.equal((await top(3, ANON)).includes("three"), false);
          assert.deepEqual((await top(3, ANON)).length, 3);
          assert.deepEqual((await top(1, ANON, 4, ["even"])).sort(), ["two", "zero"]);
          const hits = await s.denseSearch("m", axis(2, DIMS), { k: 2, access: OWNER, method });
          assert.equal(hits[0]!.text, "two");
          assert.ok(Math.abs(hits[0]!.score - 1) < 1e-5);
          assert.deepEqual(hits.map((h) => h.rank), [1, 2]);
          assert.ok(hits[0]!.score >= hits[1]!.score);
        });
      }

      withStore("re-ingesting a document drops its vectors; dense search stops returning it", async (s) => {
        await fill(s);
        assert.deepEqual((await s.denseSearch("m", axis(1, DIMS), { k: 1, access: OWNER })).map((h) => h.text), ["one"]);
        await s.writeDocument(docInput("mem:v1", "one, rewritten"));
        assert.equal((await s.embeddingModel("m"))?.vectors, 3);
        assert.equal((await s.denseSearch("m", axis(1, DIMS), { k: 4, access: OWNER })).some((h) => h.source === "mem:v1"), false);
      });
    });

    describe("conversations", () => {
      withStore("belong to their owner: append, list, read, refuse others", async (s) => {
        const c = s.conversations;
        const info = await c.append("chat-1", ALICE, [
          { role: "user", content: "where is the tram?" },
          { role: "assistant", content: "at the harbour", data: { citations: [1] } },
        ]);
        assert.equal(info.messages, 2);
        await c.append("chat-1", ALICE, [{ role: "user", content: "and the ferry?" }]);
        assert.equal(await c.isOwnedBy("chat-1", ALICE), true);
        assert.equal(await c.isOwnedBy("chat-1", BOB), false);
        assert.deepEqual((await c.listOwn(ALICE)).map((x) => [x.id, x.title, x.messages]), [["chat-1", "where is the tram?", 3]]);
        assert.deepEqual(await c.listOwn(BOB), []);
        const msgs = await c.messages("chat-1", ALICE);
        assert.deepEqual(msgs.map((m) => [m.ordinal, m.role, m.content]), [[0, "user", "where is the tram?"], [1, "assistant", "at the harbour"], [2, "user", "and the ferry?"]]);
        assert.deepEqual(msgs[1]!.data, { citations: [1] });
        assert.deepEqual((await c.messages("chat-1", ALICE, { last: 1 })).map((m) => m.content), ["and the ferry?"]);
        await assert.rejects(async () => c.append("chat-1", BOB, [{ role: "user", content: "hi" }]), /another user/);
        await assert.rejects(async () => c.find("chat-1", BOB), /another user/);
        assert.equal((await c.find("chat-1", OWNER))?.owner, "user:alice");
        assert.equal(await c.find("chat-none", ALICE), undefined);
        await assert.rejects(async () => c.checkWritable("bad id!", ALICE), /not valid/);
        await assert.rejects(async () => c.append("chat-2", ANON, [{ role: "user", content: "hi" }]), /anonymous/);
      });
    });

    describe("traces", () => {
      withStore("are read by their owner and the operator only", async (s) => {
        await s.traces.save(trace("t-alice"), ALICE);
        await s.traces.save(trace("t-bob"), BOB);
        assert.equal((await s.traces.get("t-alice", ALICE))?.owner, "user:alice");
        assert.equal(await s.traces.get("t-alice", BOB), undefined);
        assert.equal((await s.traces.get("t-bob", OWNER))?.id, "t-bob");
        assert.deepEqual((await s.traces.list(ALICE)).map((t) => t.id), ["t-alice"]);
        assert.deepEqual((await s.traces.list(OWNER)).map((t) => t.id).sort(), ["t-alice", "t-bob"]);
        assert.deepEqual(await s.traces.list(ANON), []);
      });
    });

    describe("integrity", () => {
      withStore("a healthy store reports ok with its counts", async (s) => {
        await s.writeDocument(docInput("mem:a", "one\n\ntwo"));
        const report = await s.integrityCheck();
        assert.deepEqual(report, { ok: true, problems: [], documents: 1, chunks: 2 });
      });
    });
  });
}
