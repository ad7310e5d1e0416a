// Faults on a real PostgreSQL server: the server restarted (immediate shutdown) in the middle of an
// ingest — the client reconnects, the batch that was cut off is written once, nothing is lost or
// duplicated; two stores (two pools, as two processes) ingesting the same documents at once
// produce one version of each; wrong locations are one-line errors naming the cause.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { analyze } from "../../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../../../../src/knowledge/bm25.js";
import { OWNER } from "../../../../src/knowledge/store/access.js";
import { PgKnowledgeStore } from "../../../../src/knowledge/store/postgres/pg-store.js";
import { isStrataError } from "../../../helpers/errors.js";
import { pgUnavailable, startPostgres, type PgCluster } from "../../../helpers/postgres.js";
import { docInput } from "../conformance.js";

const skip = pgUnavailable();
const doc = (i: number) => docInput(`mem:doc-${String(i).padStart(4, "0")}`, `harbour note ${i} about ferries and trams\n\nsecond paragraph ${i} on the lighthouse`);

describe("PostgreSQL store faults", { skip }, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.stop());

  it("a server restart in the middle of an ingest loses and duplicates nothing", async () => {
    const url = await cluster.newDatabase();
    const store = await PgKnowledgeStore.open(url, { create: true, poolSize: 2 });
    try {
      const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 150 }, (_, i) => doc(b * 150 + i)));
      let restarted = false;
      for (const [b, batch] of batches.entries()) {
        const writing = store.writeDocuments(batch);
        if (b === 3) {
          // Immediate shutdown while the batch's transaction is in flight, then start again.
          await new Promise((r) => setTimeout(r, 40));
          cluster.restart();
          restarted = true;
        }
        const results = await writing;
        assert.ok(results.every((r) => !("error" in r)), `batch ${b}`);
      }
      assert.ok(restarted);
      const sources = await store.listSources();
      assert.equal(sources.length, 1200);
      assert.equal(new Set(sources.map((s) => s.source)).size, 1200);
      assert.equal(await store.chunkCount(), 2400);
      assert.deepEqual(await store.integrityCheck(), { ok: true, problems: [], documents: 1200, chunks: 2400 });
      const stats = await store.termStats(analyze("lighthouse"));
      assert.equal(stats.chunks, 2400);
      assert.equal([...stats.df.values()][0]!.df, 1200);
      const hits = await store.lexicalSearch(analyze("note 777 ferries"), { k: 3, access: OWNER, params: DEFAULT_BM25 });
      assert.equal(hits[0]!.source, "mem:doc-0777");
      for (const s of sources.slice(0, 50)) assert.equal((await store.findBySource(s.source))!.version, 1);
    } finally {
      await store.close();
    }
  });

  it("two stores ingesting the same documents at once write one version of each", async () => {
    const url = await cluster.newDatabase();
    const a = await PgKnowledgeStore.open(url, { create: true });
    const b = await PgKnowledgeStore.open(url, { create: true });
    try {
      const docs = Array.from({ length: 200 }, (_, i) => doc(i));
      const [ra, rb] = await Promise.all([a.writeDocuments(docs), b.writeDocuments(docs)]);
      const statuses = [...ra, ...rb].map((r) => ("status" in r ? r.status : "error"));
      assert.equal(statuses.filter((s) => s === "added").length, 200);
      assert.equal(statuses.filter((s) => s === "unchanged").length, 200);
      assert.equal(await a.chunkCount(), 400);
      assert.equal((await b.findBySource("mem:doc-0007"))!.version, 1);
      assert.equal((await a.integrityCheck()).ok, true);
      // Each store sees the other's writes in search.
      assert.equal((await b.lexicalSearch(analyze("note 7 ferries"), { k: 1, access: OWNER, params: DEFAULT_BM25 }))[0]!.source, "mem:doc-0007");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("unreachable servers, missing databases and non-Strata schemas are one-line errors", async () => {
    await assert.rejects(PgKnowledgeStore.open("postgres://x:pw@127.0.0.1:1/db"), isStrataError("BACKEND_UNAVAILABLE", /cannot reach PostgreSQL at postgres:\/\/x:\*\*\*@127\.0\.0\.1:1\/db: ECONNREFUSED/));
    const base = cluster.url.replace(/\/postgres$/, "");
    await assert.rejects(PgKnowledgeStore.open(`${base}/absent_db`), isStrataError("NOT_A_STORE", /absent_db.*does not exist/, /createdb/));
    const url = await cluster.newDatabase();
    await assert.rejects(PgKnowledgeStore.open(url), isStrataError("NOT_A_STORE", /no knowledge base at/, /strata ingest/));
    await assert.rejects(PgKnowledgeStore.open(`${url}?schema=Bad-Name`), isStrataError("USAGE", /schema name/));
    await assert.rejects(PgKnowledgeStore.open("postgres://"), isStrataError("USAGE", /names no host|not a valid/));
    for (const e of [PgKnowledgeStore.open("postgres://x:pw@127.0.0.1:1/db").catch((x: Error) => x.message)]) assert.doesNotMatch(String(await e), /\n|pw@/);
  });
});
