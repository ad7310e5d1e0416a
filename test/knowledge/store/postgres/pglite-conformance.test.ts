// The conformance suite on PGlite (PostgreSQL in WASM) with pgvector: the HNSW path that managed
// PostgreSQL services run is exercised here, since Debian's server has no pgvector. Also checks
// that ANN search goes through the model's HNSW index and still returns k readable chunks when a
// filter excludes most of them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { normalize } from "../../../../src/knowledge/dense/vectors.js";
import { OWNER } from "../../../../src/knowledge/store/access.js";
import { PgKnowledgeStore } from "../../../../src/knowledge/store/postgres/pg-store.js";
import { PGliteClient, type PGliteLike } from "../../../../src/knowledge/store/postgres/sql.js";
import { docInput, storeConformance } from "../conformance.js";

describe("PostgreSQL backend on PGlite with pgvector", () => {
  let lite: PGlite;
  let n = 0;
  before(async () => {
    lite = await PGlite.create({ extensions: { vector } });
  });
  after(() => lite?.close());

  const open = (): Promise<PgKnowledgeStore> => PgKnowledgeStore.openOn(new PGliteClient(lite as unknown as PGliteLike), `t${++n}`, "pglite", { create: true });

  storeConformance("postgres on pglite + pgvector", async () => {
    const store = await open();
    assert.equal(store.usesPgvector, true);
    return { store, dispose: () => store.close() };
  });

  it("ANN search walks the model's HNSW index and returns k readable chunks under a selective filter", async () => {
    const store = await open();
    const dims = 16;
    // 60 documents in 6 clusters; one in ten is tagged "rare".
    const inputs = Array.from({ length: 60 }, (_, i) => docInput(`mem:d${i}`, `document ${i}`, { tags: i % 10 === 3 ? ["rare"] : [] }));
    await store.writeDocuments(inputs);
    const todo = await store.chunksWithoutVector("m", 0, 100);
    const vec = (i: number): Float32Array => normalize(Array.from({ length: dims }, (_, d) => (d === i % 6 ? 1 : 0) + 0.01 * Math.sin(i * 7 + d)));
    assert.equal(await store.writeVectors("m", dims, todo.map((c, i) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: vec(i) }))), 60);
    // 60 rows are cheaper to sort than to walk a graph: make the planner take the index, as it does
    // on large collections (PGlite is one session, so the store's own queries run the same way).
    await lite.exec("SET enable_seqscan = off; SET enable_bitmapscan = off");
    const plan = await lite.query<{ "QUERY PLAN": string }>(
      `EXPLAIN SELECT chunk_rowid FROM t${n}.chunk_vectors v WHERE v.model_id = 'm' ORDER BY v.embedding::vector(${dims}) <=> '[${vec(0).join(",")}]'::vector(${dims}) LIMIT 5`,
    );
    assert.match(plan.rows.map((r) => r["QUERY PLAN"]).join("\n"), /Index Scan using chunk_vectors_hnsw_/);
    const exact = await store.denseSearch("m", vec(3), { k: 5, access: OWNER, method: "exact", filter: { tags: ["rare"] } });
    const ann = await store.denseSearch("m", vec(3), { k: 5, access: OWNER, method: "ann", filter: { tags: ["rare"] } });
    assert.equal(ann.length, 5);
    assert.deepEqual(ann.map((h) => h.source), exact.map((h) => h.source));
    assert.deepEqual(ann.map((h) => h.score), exact.map((h) => h.score));
    await lite.exec("RESET enable_seqscan; RESET enable_bitmapscan");
    await store.close();
  });
});
