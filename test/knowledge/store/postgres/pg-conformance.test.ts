// The knowledge-store conformance suite against a real PostgreSQL server (a throw-away cluster on
// a loopback port): each test gets its own schema in one database. Skips, saying why, where
// PostgreSQL is not installed.
import { after, before, describe } from "node:test";
import { PgKnowledgeStore } from "../../../../src/knowledge/store/postgres/pg-store.js";
import { pgUnavailable, startPostgres, type PgCluster } from "../../../helpers/postgres.js";
import { storeConformance } from "../conformance.js";

const skip = pgUnavailable();

describe("PostgreSQL backend", { skip }, () => {
  let cluster: PgCluster;
  let url: string;
  let n = 0;
  before(async () => {
    cluster = await startPostgres();
    url = await cluster.newDatabase();
  });
  after(() => cluster?.stop());

  storeConformance("postgres", async () => {
    const store = await PgKnowledgeStore.open(`${url}?schema=t${++n}`, { create: true, poolSize: 4 });
    return { store, dispose: () => store.close() };
  });
});
