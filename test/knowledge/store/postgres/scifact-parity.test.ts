// The PostgreSQL store ranks exactly as the embedded one (decision 0018): SciFact (5,183 abstracts,
// ../shared/data/scifact) loaded into both through the same KnowledgeBase path; every one of its
// 1,109 queries must return the same top 10 chunks with the same scores, and nDCG@10 over the
// judged test queries must agree to 1e-6. Skips where the dataset or PostgreSQL is missing.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readBeir, type BeirDataset } from "../../../../src/eval/beir.js";
import { beirDocument, passageIdOf } from "../../../../src/eval/knowledge-retrieval.js";
import { ndcgAtK } from "../../../../src/eval/metrics.js";
import { KnowledgeBase } from "../../../../src/knowledge/knowledge-base.js";
import { OWNER } from "../../../../src/knowledge/store/access.js";
import { sharedData, tempDir } from "../../../helpers/paths.js";
import { pgUnavailable, startPostgres, type PgCluster } from "../../../helpers/postgres.js";
import { readFileSync } from "node:fs";

const data = sharedData("scifact");
const skip = pgUnavailable() ?? (data ? undefined : "../shared/data/scifact is not here");

describe("SciFact on PostgreSQL ranks as embedded", { skip }, () => {
  let cluster: PgCluster;
  let dir: string;
  let embedded: KnowledgeBase;
  let onPg: KnowledgeBase;
  let test: BeirDataset;
  let allQueries: string[];

  before(async () => {
    cluster = await startPostgres();
    dir = tempDir("strata-parity-");
    test = await readBeir(data!, "test");
    allQueries = readFileSync(join(data!, "queries.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { text: string }).text);
    const sources = test.corpus.map((d) => ({ source: `beir:${d.id}`, document: beirDocument(d) }));
    const chunking = { maxChars: 100_000, overlapChars: 0 };
    embedded = KnowledgeBase.open(join(dir, "kb"), { create: true });
    embedded.writeMany(sources, { chunking });
    onPg = await KnowledgeBase.openAt(await cluster.newDatabase(), { create: true });
    // Smaller batches than the embedded load: the segments differ, the ranking must not.
    await onPg.writeManyAsync(sources, { chunking, batch: 700 });
  });

  after(async () => {
    embedded?.close();
    await onPg?.closeAsync();
    cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every query returns the same top 10 (chunk ids and scores)", async () => {
    assert.equal(allQueries.length, 1109);
    let compared = 0;
    for (const q of allQueries) {
      const a = await embedded.search(q, { k: 10, access: OWNER });
      const b = await onPg.search(q, { k: 10, access: OWNER });
      assert.deepEqual(b.map((h) => [h.chunkId, h.score]), a.map((h) => [h.chunkId, h.score]), q);
      compared += a.length;
    }
    assert.ok(compared > 10_000, `only ${compared} hits compared`);
  });

  it("nDCG@10 over the judged test queries agrees to 1e-6", async () => {
    const ndcg = async (kb: KnowledgeBase): Promise<number> => {
      let sum = 0;
      for (const [id, q] of test.queries) {
        const ranked = [...new Set((await kb.search(q, { k: 30, access: OWNER })).map((h) => passageIdOf(h.source)))].slice(0, 10);
        sum += ndcgAtK(ranked, test.qrels.get(id)!, 10);
      }
      return sum / test.queries.size;
    };
    const a = await ndcg(embedded);
    const b = await ndcg(onPg);
    assert.ok(a > 0.5, `embedded nDCG@10 ${a}`);
    assert.ok(Math.abs(a - b) <= 1e-6, `embedded ${a}, PostgreSQL ${b}`);
  });
});
