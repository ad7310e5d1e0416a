// `strata migrate --from <folder> --to postgres://…` on the README demo's material (this project's
// docs/), with ACLs, tags, a second version of one document, vectors, a conversation and a trace:
// the copy verifies itself, and the PostgreSQL knowledge base answers exactly as the folder did —
// same chunk ids and scores for every principal, same conversation and trace.
import assert from "node:assert/strict";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KnowledgeBase } from "../../src/knowledge/knowledge-base.js";
import { OWNER } from "../../src/knowledge/store/access.js";
import { PgKnowledgeStore } from "../../src/knowledge/store/postgres/pg-store.js";
import { jsonOf, strata } from "../helpers/cli.js";
import { HashEmbedder } from "../helpers/hash-embedder.js";
import { repoRoot, tempDir } from "../helpers/paths.js";
import { pgUnavailable, startPostgres, type PgCluster } from "../helpers/postgres.js";

describe("strata migrate", { skip: pgUnavailable() }, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.stop());

  it("copies the demo knowledge base into PostgreSQL and it answers as the folder did", async () => {
    const dir = tempDir("strata-migrate-");
    const docs = join(dir, "docs");
    cpSync(join(repoRoot(), "docs"), docs, { recursive: true });
    const folder = join(dir, "kb");
    const kb = KnowledgeBase.open(folder, { create: true });
    await kb.ingest([join(docs, "decisions")], { acl: { groups: ["eng"] }, tags: ["decisions"] });
    await kb.ingest([join(docs, "architecture.md")]);
    const note = join(docs, "note.md");
    writeFileSync(note, "# Note\n\nThe first draft of the harbour note.\n");
    await kb.ingest([note]);
    writeFileSync(note, "# Note\n\nThe second draft of the harbour note mentions the lighthouse.\n");
    await kb.ingest([note]);
    const embedder = new HashEmbedder({ dimensions: 16 });
    await kb.embed(embedder);
    await kb.store.conversations.append("chat-1", { user: "ana" }, [{ role: "user", content: "where is the harbour?" }, { role: "assistant", content: "by the lighthouse", data: { cites: [1] } }]);
    await kb.store.traces.save({ version: 1, id: "t-1", kind: "answer", startedAt: new Date().toISOString(), ms: 2, attributes: {}, usage: { inputTokens: 1, outputTokens: 1 }, spans: [] }, { user: "ana" });
    kb.setGuardrails({ redactPii: true, screenJailbreaks: false });
    const queries = ["segmented lexical index", "store interface conformance", "harbour lighthouse note", "GGUF tensors", "access control lists"];
    const principals = [OWNER, { user: "ana", groups: ["eng"] }, {}];
    const before = [];
    for (const q of queries) for (const p of principals) before.push((await kb.search(q, { k: 5, access: p })).map((h) => [h.chunkId, h.score]));
    const docCount = kb.store.listSources().length;
    kb.close();

    const url = `${await cluster.newDatabase()}?schema=demo`;
    const r = strata(["migrate", "--from", folder, "--to", url, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = jsonOf<{ copied: { documents: number; vectors: Record<string, number>; conversations: number; messages: number; traces: number; settings: number }; check: { ok: boolean; sampled: number } }>(r);
    assert.equal(out.check.ok, true);
    assert.ok(out.check.sampled >= 10);
    assert.equal(out.copied.documents, docCount);
    assert.ok(out.copied.vectors[embedder.id]! > 0);
    assert.deepEqual([out.copied.conversations, out.copied.messages, out.copied.traces, out.copied.settings], [1, 2, 1, 1]);

    const pg = await KnowledgeBase.openAt(url);
    try {
      const afterMigrate = [];
      for (const q of queries) for (const p of principals) afterMigrate.push((await pg.search(q, { k: 5, access: p })).map((h) => [h.chunkId, h.score]));
      assert.deepEqual(afterMigrate, before);
      assert.ok(before.some((hits) => hits.length > 0));
      assert.ok(afterMigrate.flat().some(([id]) => String(id).includes("-v2-")), "the second version's chunk ids are kept");
      assert.equal(pg.guardrails().redactPii, true);
      const store = pg.backend as PgKnowledgeStore;
      assert.deepEqual((await store.conversations.messages("chat-1", { user: "ana" })).map((m) => m.content), ["where is the harbour?", "by the lighthouse"]);
      assert.equal((await store.traces.get("t-1", { user: "ana" }))?.owner, "user:ana");
      const dense = await store.denseSearch(embedder.id, (await embedder.embed(["harbour lighthouse note"]))[0]!, { k: 3, access: OWNER, method: "exact" });
      assert.equal(dense.length, 3);
    } finally {
      await pg.closeAsync();
    }
    const again = strata(["migrate", "--from", folder, "--to", url]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds documents/);
  });
});
