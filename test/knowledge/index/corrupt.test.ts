import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyze } from "../../../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../../../src/knowledge/bm25.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { KnowledgeStore } from "../../../src/knowledge/store/sqlite-store.js";
import { tempDir } from "../../helpers/paths.js";

function store(): { s: KnowledgeStore; dir: string } {
  const dir = join(tempDir(), "kb");
  const s = KnowledgeStore.open(dir, { create: true });
  for (let i = 0; i < 300; i++) {
    const text = `alpha beta ${"gamma ".repeat(i % 5)} delta${i % 17}`;
    s.writeDocument({ docId: `d${i}`, source: `/d${i}`, title: "t", mime: "text/plain", hash: `${i}`, size: text.length, text, acl: { users: [], groups: [] }, tags: [], chunks: [{ ordinal: 0, start: 0, end: text.length, text, headingPath: [] }] });
  }
  return { s, dir };
}

const search = (s: KnowledgeStore) => s.lexicalSearch(analyze("alpha gamma"), { k: 10, access: OWNER, params: DEFAULT_BM25 });

for (const [name, damage] of [
  ["truncated", "UPDATE lex_postings SET data = substr(data, 1, length(data) - 5)"],
  ["overwritten", "UPDATE lex_postings SET data = substr(data, 1, 20) || x'ff' || substr(data, 22)"],
  ["cut to its header", "UPDATE lex_postings SET data = substr(data, 1, 10)"],
] as const) {
  test(`a ${name} segment is reported as STORE_CORRUPT naming the knowledge base and the rebuild command; a rebuild restores the exact ranking`, () => {
    const { s, dir } = store();
    const good = search(s);
    s.close();
    const damaged = KnowledgeStore.open(dir);
    damaged.db.exec(`${damage} WHERE term_id IN (SELECT term_id FROM terms WHERE term IN ('alpha', 'gamma'))`);
    damaged.close();
    const reopened = KnowledgeStore.open(dir);
    assert.throws(() => search(reopened), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, "STORE_CORRUPT");
      assert.match(e.message, new RegExp(`lexical index of ${dir.replace(/[/\\]/g, "\\$&")} is damaged`));
      assert.match(e.hint ?? "", /strata index rebuild --kb /);
      return true;
    });
    reopened.index.rebuild();
    assert.deepEqual(search(reopened), good);
    assert.deepEqual(reopened.index.check().problems, []);
    reopened.close();
  });
}
