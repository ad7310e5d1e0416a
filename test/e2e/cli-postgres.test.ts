// Knowledge-base locations on the command line: `--kb postgres://…` ingests into and searches a
// real PostgreSQL server (same ranking as the same files in a folder), any other URL-looking
// location is refused with one line naming the backends (no folder named after it appears), and a
// wrong or unreachable server is a one-line error naming the cause.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { strata, jsonOf } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";
import { pgUnavailable, startPostgres, type PgCluster } from "../helpers/postgres.js";

interface Hits {
  results: { source: string; score: number; chunkId: string }[];
}

function corpus(): string {
  const dir = tempDir("strata-pg-docs-");
  const docs = join(dir, "docs");
  mkdirSync(docs);
  writeFileSync(join(docs, "harbour.md"), "# Harbour\n\nThe harbour museum opens at nine. Ferries leave the harbour every hour.\n");
  writeFileSync(join(docs, "tram.md"), "# Trams\n\nThe tram to the harbour runs every ten minutes from the station.\n");
  writeFileSync(join(docs, "garden.md"), "# Garden\n\nThe botanical garden has a quiet cafe near the glasshouse.\n");
  return dir;
}

describe("knowledge-base locations on the command line", () => {
  it("refuses a URL no backend handles, in one line naming the backends, and creates nothing", () => {
    const cwd = tempDir("strata-url-");
    for (const args of [["search", "harbour", "--kb", "mysql://db/kb"], ["ingest", cwd, "--kb", "postgress://host/db"], ["serve", "--data", "redis://cache:6379"]]) {
      const r = strata(args, { cwd });
      assert.equal(r.code, 2, r.stderr);
      const first = r.stderr.split("\n").find((l) => l.startsWith("error:"))!;
      assert.match(first, /no knowledge-base backend handles (mysql|postgress|redis):\/\/ locations/);
      assert.match(r.stderr, /hint: .*folder.*postgres:\/\//);
    }
    assert.deepEqual(readdirSync(cwd), []);
  });

  it("an unreachable server is a one-line error naming the cause", () => {
    const cwd = tempDir("strata-url-");
    const r = strata(["search", "harbour", "--kb", "postgres://nobody:secret@127.0.0.1:1/kb"], { cwd });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot reach PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/kb: ECONNREFUSED$/m);
    assert.doesNotMatch(r.stderr, /secret/);
    assert.deepEqual(readdirSync(cwd), []);
  });

  describe("on a PostgreSQL server", { skip: pgUnavailable() }, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startPostgres();
    });
    after(() => cluster?.stop());

    it("ingests and searches postgres:// with the ranking of the same files in a folder", async () => {
      const dir = corpus();
      const url = await cluster.newDatabase();
      const docs = join(dir, "docs");
      const folder = join(dir, "kb");
      const ing = strata(["ingest", docs, "--kb", url, "--json"]);
      assert.equal(ing.code, 0, ing.stderr);
      assert.equal(jsonOf<{ added: number }>(ing).added, 3);
      assert.equal(strata(["ingest", docs, "--kb", folder, "--json"]).code, 0);
      const again = strata(["ingest", docs, "--kb", url, "--json"]);
      assert.equal(jsonOf<{ unchanged: number }>(again).unchanged, 3);
      const onPg = jsonOf<Hits>(strata(["search", "harbour tram", "--kb", url, "--json"]));
      const onDisk = jsonOf<Hits>(strata(["search", "harbour tram", "--kb", folder, "--json"]));
      assert.equal(onPg.results.length, 2);
      assert.deepEqual(onPg.results.map((h) => [h.source, h.score, h.chunkId]), onDisk.results.map((h) => [h.source, h.score, h.chunkId]));
      const ask = strata(["ask", "When does the harbour museum open?", "--kb", url, "--json"]);
      assert.equal(ask.code, 0, ask.stderr);
      assert.match(JSON.stringify(ask.json), /nine/);
      assert.equal(existsSync("postgres:"), false);
    });

    it("a database that does not exist, or a knowledge base never created there, is a one-line error", async () => {
      const base = cluster.url.replace(/\/postgres$/, "");
      const missing = strata(["search", "x", "--kb", `${base}/no_such_db`]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^error: PostgreSQL at .*no_such_db.*does not exist$/m);
      const empty = await cluster.newDatabase();
      const none = strata(["search", "x", "--kb", empty]);
      assert.match(none.stderr, /^error: no knowledge base at postgres:\/\/.*$/m);
      assert.match(none.stderr, /hint: create one with `strata ingest <path> --kb postgres:/);
    });
  });
});
