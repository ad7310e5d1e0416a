// Segment merges on PostgreSQL follow the embedded policy: many small batches collapse into few
// segments, postings of replaced and removed chunks are dropped, and the ranking stays exactly the
// embedded store's on the same writes.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { analyze } from "../../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../../../../src/knowledge/bm25.js";
import { OWNER } from "../../../../src/knowledge/store/access.js";
import { PgKnowledgeStore } from "../../../../src/knowledge/store/postgres/pg-store.js";
import { KnowledgeStore } from "../../../../src/knowledge/store/sqlite-store.js";
import { tempDir } from "../../../helpers/paths.js";
import { pgUnavailable, startPostgres, type PgCluster } from "../../../helpers/postgres.js";
import { docInput } from "../conformance.js";

const WORDS = ["harbour", "ferry", "tram", "lighthouse", "garden", "museum", "bridge", "market", "station", "canal"];
const text = (i: number, v = 0) => Array.from({ length: 6 + (i % 5) }, (_, j) => WORDS[(i * 7 + j * 3 + v) % WORDS.length]).join(" ");

describe("PostgreSQL segment merges", { skip: pgUnavailable() }, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.stop());

  it("collapse small batches, drop dead postings, and keep the embedded ranking", async () => {
    const dir = tempDir("strata-pg-merge-");
    const lite = KnowledgeStore.open(join(dir, "kb"), { create: true });
    const pg = await PgKnowledgeStore.open(await cluster.newDatabase(), { create: true });
    try {
      for (let b = 0; b < 25; b++) {
        const batch = Array.from({ length: 4 }, (_, i) => docInput(`mem:${b * 4 + i}`, text(b * 4 + i)));
        lite.writeDocuments(batch);
        await pg.writeDocuments(batch);
      }
      // Replace some documents and remove others: their old postings must stop counting.
      for (const i of [3, 17, 42, 88]) {
        lite.writeDocument(docInput(`mem:${i}`, text(i, 5)));
        await pg.writeDocument(docInput(`mem:${i}`, text(i, 5)));
      }
      for (const i of [5, 50]) {
        lite.removeDocument(docInput(`mem:${i}`, "").docId);
        await pg.removeDocument(docInput(`mem:${i}`, "").docId);
      }
      const segments = await pg.segmentCount();
      assert.ok(segments < 15, `${segments} segments after 31 writes`);
      const blobs = (await pg.db.query<{ n: number }>("SELECT count(*)::int AS n FROM lex_postings"))[0]!.n;
      assert.ok(blobs > 0);
      for (const q of ["harbour ferry", "lighthouse", "garden museum bridge", "canal station market tram"]) {
        const opts = { k: 10, access: OWNER, params: DEFAULT_BM25 };
        const a = lite.lexicalSearch(analyze(q), opts).map((h) => [h.chunkId, h.score]);
        const b = (await pg.lexicalSearch(analyze(q), opts)).map((h) => [h.chunkId, h.score]);
        assert.equal(b.length, 10);
        assert.deepEqual(b, a, q);
      }
      assert.equal((await pg.integrityCheck()).ok, true);
    } finally {
      lite.close();
      await pg.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
