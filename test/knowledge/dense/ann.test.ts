// The approximate dense index (decision 0009): equal to the exact scan on small sets, k readable
// hits under a narrow ACL, caught up or rebuilt when its file is stale, damaged or for another
// width, and a query of the wrong width refused.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { uniformSource } from "../../../src/core/random.js";
import type { ProgressEvent } from "../../../src/core/events.js";
import { DEFAULT_ANN_PARAMS } from "../../../src/knowledge/dense/ann-index.js";
import { normalize } from "../../../src/knowledge/dense/vectors.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { KnowledgeStore } from "../../../src/knowledge/store/sqlite-store.js";
import type { Principal, SearchFilter } from "../../../src/knowledge/types.js";
import { tempDir } from "../../helpers/paths.js";
import { HashEmbedder } from "../../helpers/hash-embedder.js";
import { docInput } from "../store/conformance.js";
import { buildCorpus } from "./fixture.js";

const DIMS = 24;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Unit vectors around `clusters` random centres: what embeddings look like, unlike uniform noise. */
function clustered(n: number, seed: number, clusters = 12): Float32Array[] {
  const rand = uniformSource(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: clusters }, () => normalize(Array.from({ length: DIMS }, gauss)));
  return Array.from({ length: n }, (_, i) => normalize(Array.from(centres[i % clusters]!, (c) => c + 0.35 * gauss())));
}

/** A store of `n` one-chunk documents with vectors; every 100th readable only by alice. */
function makeStore(n: number, seed = 1): { dir: string; store: KnowledgeStore; vectors: Float32Array[] } {
  const dir = tempDir("strata-ann-");
  dirs.push(dir);
  const store = KnowledgeStore.open(join(dir, "kb"), { create: true });
  tune(store);
  store.writeDocuments(Array.from({ length: n }, (_, i) => docInput(`mem:${i}`, `chunk ${i}`, { acl: i % 100 === 0 ? { users: ["alice"], groups: [] } : { users: [], groups: ["staff"] }, tags: i % 10 === 0 ? ["ten"] : [] })));
  const vectors = clustered(n, seed);
  const todo = store.chunksWithoutVector("m", 0, n);
  store.writeVectors("m", DIMS, todo.map((c, i) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: vectors[i]! })));
  return { dir, store, vectors };
}

/**
 * The index on from 100 vectors, never the exact scan of a narrow readable set, and a search beam
 * wider than these small sets: the graph is then searched exhaustively and must agree with the
 * exact scan exactly (recall at the default beam is what bench/dense-scale.ts measures).
 */
function tune(store: KnowledgeStore, onProgress?: (e: ProgressEvent) => void): void {
  store.dense.tuning = { ...store.dense.tuning, annMinVectors: 100, exactReadableShare: 0, params: { ...DEFAULT_ANN_PARAMS, expansionSearch: 4096 }, onProgress };
}

const ids = (store: KnowledgeStore, q: Float32Array, method: "ann" | "exact" | "auto", access: Principal | typeof OWNER = OWNER, k = 10, tags?: string[]): string[] =>
  store.denseSearch("m", q, { k, access, method, filter: tags ? { tags } : undefined }).map((h) => h.source);

const indexFiles = (dir: string): string[] => readdirSync(join(dir, "kb")).filter((f) => f.startsWith("dense-") && f.endsWith(".usearch"));

describe("approximate dense index", () => {
  it("returns exactly what the exact scan returns on a small set", () => {
    const { store } = makeStore(800);
    const queries = clustered(30, 99);
    for (const q of queries) assert.deepEqual(ids(store, q, "ann"), ids(store, q, "exact"));
    for (const q of queries.slice(0, 5)) assert.deepEqual(ids(store, q, "ann", { user: "bob", groups: ["staff"] }, 10, ["ten"]), ids(store, q, "exact", { user: "bob", groups: ["staff"] }, 10, ["ten"]));
    store.close();
  });

  it("gives a caller who may read 1% of the vectors k readable hits, the exact ones", () => {
    const { store } = makeStore(2000);
    const alice: Principal = { user: "alice", groups: [] };
    for (const q of clustered(10, 5)) {
      const hits = store.denseSearch("m", q, { k: 10, access: alice, method: "ann" });
      assert.equal(hits.length, 10);
      for (const h of hits) assert.equal(Number(h.source.slice(4)) % 100, 0, `${h.source} is not readable by alice`);
      assert.deepEqual(hits.map((h) => h.source), ids(store, q, "exact", alice));
      assert.deepEqual(ids(store, q, "auto", alice), ids(store, q, "exact", alice));
    }
    assert.deepEqual(ids(store, clustered(1, 6)[0]!, "ann", {}), [], "anonymous reads nothing here");
    store.close();
  });

  it("persists beside the store and catches up with changes made after it was saved, by any connection", () => {
    const { dir, store, vectors } = makeStore(600);
    assert.deepEqual(store.dense.prepare("m"), { vectors: 600, indexed: true });
    assert.equal(indexFiles(dir).length, 1);
    store.close();
    const other = KnowledgeStore.open(join(dir, "kb"));
    const reader = KnowledgeStore.open(join(dir, "kb"));
    tune(reader);
    assert.equal(ids(reader, vectors[7]!, "ann", OWNER, 1)[0], "mem:7");
    // Another connection replaces document 7 (its vector goes) and adds one with a new vector.
    other.writeDocument(docInput("mem:7", "chunk seven, rewritten"));
    other.writeDocument(docInput("mem:new", "a new chunk"));
    const fresh = normalize(Array.from({ length: DIMS }, (_, i) => (i === 3 ? 1 : 0.01)));
    const todo = other.chunksWithoutVector("m", 0, 10);
    other.writeVectors("m", DIMS, todo.map((c) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: c.text === "a new chunk" ? fresh : vectors[7]! })));
    assert.equal(ids(reader, fresh, "ann", OWNER, 1)[0], "mem:new");
    const near7 = reader.denseSearch("m", vectors[7]!, { k: 1, access: OWNER, method: "ann" })[0]!;
    assert.equal(near7.source, "mem:7");
    assert.equal(near7.text, "chunk seven, rewritten");
    other.close();
    reader.close();
  });

  it("rebuilds a truncated, damaged or outdated index file instead of trusting it (and never crashes)", () => {
    const { dir, store, vectors } = makeStore(500);
    store.dense.prepare("m");
    store.close();
    const file = join(dir, "kb", indexFiles(dir)[0]!);
    const good = readFileSync(file);
    const damages: [string, () => void, RegExp][] = [
      ["truncated", () => truncateSync(file, Math.floor(good.length / 2)), /truncated/],
      ["damaged", () => writeFileSync(file, Buffer.from(good).fill(7, 200, 4000)), /checksum/],
      ["sidecar garbled", () => writeFileSync(`${file}.json`, "{not json"), /not valid JSON/],
    ];
    for (const [what, damage, reason] of damages) {
      const sidecar = readFileSync(`${file}.json`);
      damage();
      const events: ProgressEvent[] = [];
      const s = KnowledgeStore.open(join(dir, "kb"));
      tune(s, (e) => events.push(e));
      assert.equal(ids(s, vectors[3]!, "ann", OWNER, 1)[0], "mem:3", what);
      assert.ok(events.some((e) => reason.test(e.item ?? "")), `${what}: ${JSON.stringify(events.slice(0, 2))}`);
      assert.ok(events.some((e) => e.phase === "dense-index" && e.done === 500), `${what}: rebuilt with progress`);
      s.close();
      writeFileSync(`${file}.json`, sidecar);
      writeFileSync(file, good);
    }
    // Older than what the change log still holds: the file is replaced, not replayed.
    const s = KnowledgeStore.open(join(dir, "kb"));
    tune(s);
    renameSync(file, `${file}.old`);
    renameSync(`${file}.json`, `${file}.json.old`);
    s.writeDocument(docInput("mem:3", "three, rewritten"));
    const c = s.chunksWithoutVector("m", 0, 5)[0]!;
    s.writeVectors("m", DIMS, [{ rowid: c.rowid, chunkId: c.chunkId, vector: vectors[3]! }]);
    s.dense.prepare("m");
    s.close();
    renameSync(`${file}.old`, file);
    renameSync(`${file}.json.old`, `${file}.json`);
    const t = KnowledgeStore.open(join(dir, "kb"));
    tune(t);
    assert.equal(t.denseSearch("m", vectors[3]!, { k: 1, access: OWNER, method: "ann" })[0]!.text, "three, rewritten");
    t.close();
    assert.ok(existsSync(file));
  });

  it("refuses a query of another width, and rebuilds an index file of another width", () => {
    const { dir, store } = makeStore(300);
    store.dense.prepare("m");
    assert.throws(() => store.denseSearch("m", new Float32Array(DIMS + 1).fill(0.1), { k: 3, access: OWNER, method: "ann" }), /holds 24-dim vectors/);
    assert.throws(() => store.denseSearch("m", new Float32Array(DIMS - 1).fill(0.1), { k: 3, access: OWNER, method: "exact" }), /EMBEDDING_MISMATCH|holds 24-dim/);
    // The model is re-embedded at another width (after a drop): the old file must not be used.
    store.dropVectors("m");
    const todo = store.chunksWithoutVector("m", 0, 1000);
    const wide = (i: number): Float32Array => normalize(Array.from({ length: 8 }, (_, j) => (j === i % 8 ? 1 : 0.02)));
    store.writeVectors("m", 8, todo.map((c, i) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: wide(i) })));
    store.close();
    const s = KnowledgeStore.open(join(dir, "kb"));
    tune(s);
    const hits = s.denseSearch("m", wide(5), { k: 3, access: OWNER, method: "ann" });
    assert.equal(hits.length, 3);
    assert.ok(hits.every((h) => Number(h.source.slice(4)) % 8 === 5));
    s.close();
  });
});

describe("dense and hybrid search through the knowledge base with the index", () => {
  it("ranks the same through the index as through the exact scan, with access and tags applied", async () => {
    const { kb, dir } = buildCorpus(300, 20, 11);
    dirs.push(dir);
    const model = new HashEmbedder();
    tune(kb.store);
    await kb.embed(model, { batch: 100 });
    assert.equal(indexFiles(join(dir, "..")).length, 1, "embed built the index");
    const research: Principal = { user: "r", groups: ["research"] };
    const cases: [string, Principal | typeof OWNER, SearchFilter | undefined][] = [
      ["sonar survey of the wreck", research, undefined],
      ["sonar survey of the wreck", {}, undefined],
      ["harbour museum lantern", OWNER, { tags: ["even"] }],
    ];
    for (const [query, access, filter] of cases) {
      for (const mode of ["dense", "hybrid"] as const) {
        const viaIndex = await kb.search(query, { k: 8, access, filter, mode, embedder: model, denseMethod: "ann" });
        const exact = await kb.search(query, { k: 8, access, filter, mode, embedder: model, denseMethod: "exact" });
        assert.deepEqual(viaIndex.map((h) => h.chunkId), exact.map((h) => h.chunkId), `${mode} ${query}`);
        assert.equal(viaIndex.length, 8);
        if (!("owner" in access) && !access.groups) assert.ok(viaIndex.every((h) => !h.source.startsWith("mem:research/")));
        if (filter) assert.ok(viaIndex.every((h) => Number(h.source.split("/")[1]) % 2 === 0));
      }
    }
    kb.close();
  });
});
