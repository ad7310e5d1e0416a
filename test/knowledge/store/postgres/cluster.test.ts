// The throw-away cluster the PostgreSQL tests run on: starts on a loopback port, gives each test its
// own database, restarts, and leaves nothing behind when stopped.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import pg from "pg";
import { pgUnavailable, startPostgres } from "../../../helpers/postgres.js";

const skip = pgUnavailable();

describe("test PostgreSQL cluster", { skip }, () => {
  it("starts on loopback, hands out separate databases, survives a restart, and is removed when stopped", async () => {
    const cluster = await startPostgres();
    try {
      assert.match(cluster.url, /^postgres:\/\/strata@127\.0\.0\.1:\d+\/postgres$/);
      const a = await cluster.newDatabase();
      const b = await cluster.newDatabase();
      assert.notEqual(a, b);
      const c = new pg.Client({ connectionString: a });
      await c.connect();
      const { rows } = await c.query<{ addr: string; db: string }>("SELECT host(inet_server_addr()) AS addr, current_database() AS db");
      assert.equal(rows[0]!.addr, "127.0.0.1");
      assert.equal(rows[0]!.db, a.split("/").pop());
      await c.query("CREATE TABLE t (x int)");
      await c.query("INSERT INTO t VALUES (1)");
      await c.end();
      cluster.restart();
      const d = new pg.Client({ connectionString: a });
      await d.connect();
      assert.equal((await d.query("SELECT count(*)::int AS n FROM t")).rows[0].n, 1);
      await d.end();
    } finally {
      cluster.stop();
      assert.equal(existsSync(cluster.dir), false);
    }
  });
});
