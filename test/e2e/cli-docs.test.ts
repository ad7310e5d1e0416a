// `strata docs list|show|rm` end to end: pages, filters by tag, ACL and source, access checks, ids
// printed where a user needs them (search, ask), and the error hint that points at `docs list`;
// and `strata chat` without a model on the same base, where a follow-up carries the last question.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { cliPath, repoRoot, tempDir } from "../helpers/paths.js";

interface Summary { docId: string; source: string; title: string; tags: string[]; acl: { users: string[]; groups: string[] } }
interface Page { total: number; offset: number; documents: Summary[] }

const root = tempDir();
const docs = join(root, "docs");
cpSync(join(repoRoot(), "test", "fixtures", "kb"), docs, { recursive: true });
const kb = join(root, "kb");
assert.equal(strata(["ingest", join(docs, "public"), "--kb", kb, "--tags", "visitors", "--json"]).code, 0);
assert.equal(strata(["ingest", join(docs, "research"), "--kb", kb, "--acl-groups", "research", "--json"]).code, 0);
assert.equal(strata(["ingest", join(docs, "ops"), "--kb", kb, "--acl-users", "omar", "--tags", "ops", "--json"]).code, 0);
const list = (...args: string[]): Page => jsonOf<Page>(strata(["docs", "list", "--kb", kb, "--json", ...args]));

test("docs list pages through every document by source, with the total", () => {
  const all = list();
  assert.equal(all.total, 4);
  assert.deepEqual(all.documents.map((d) => d.source), [...all.documents.map((d) => d.source)].sort());
  const first = list("--limit", "3");
  const second = list("--limit", "3", "--offset", "3");
  assert.equal(first.documents.length, 3);
  assert.equal(second.documents.length, 1);
  assert.equal(second.total, 4);
  assert.deepEqual([...first.documents, ...second.documents].map((d) => d.docId), all.documents.map((d) => d.docId));
  const human = strata(["docs", "list", "--kb", kb, "--limit", "3"]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /1–3 of 4; next page: --offset 3/);
  for (const d of first.documents) assert.ok(human.stdout.includes(d.docId));
});

test("docs list filters by tag, ACL, source and by who is asking", () => {
  assert.deepEqual(list("--tags", "ops").documents.map((d) => d.source.split("/").pop()), ["facilities.txt"]);
  assert.deepEqual(list("--acl-group", "research").documents.map((d) => d.source.split("/").pop()), ["survey-plan.md"]);
  assert.deepEqual(list("--acl-user", "omar").documents.map((d) => d.acl.users), [["omar"]]);
  assert.equal(list("--public").total, 2);
  assert.equal(list("--source", join(docs, "research")).total, 1);
  // a guest sees the public documents only, whatever the filter says
  assert.equal(list("--as", "guest").total, 2);
  assert.equal(list("--as", "guest", "--acl-group", "research").total, 0);
  assert.equal(list("--as", "dana", "--groups", "research").total, 3);
  const bad = strata(["docs", "list", "--kb", kb, "--offset", "-1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--offset must be a whole number/);
});

test("search and ask print document ids; docs show opens them; the not-found hint names docs list", () => {
  const search = strata(["search", "lantern walks", "--kb", kb]);
  const id = /\b(doc_[0-9a-f]+)\b/.exec(search.stdout)?.[1];
  assert.ok(id, search.stdout);
  const ask = strata(["ask", "When do the lantern walks begin?", "--kb", kb]);
  assert.ok(ask.stdout.includes(id), ask.stdout);
  const shown = strata(["docs", "show", id, "--kb", kb]);
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, new RegExp(`id: ${id}`));
  const missing = strata(["docs", "show", "doc_0000000000000000", "--kb", kb]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /hint: list documents with `strata docs list --kb /);
});

test("docs rm removes a document from lists and search; unknown ids are reported", () => {
  const target = list("--tags", "ops").documents[0]!;
  const r = jsonOf<{ removed: string[]; missing: string[] }>(strata(["docs", "rm", target.docId, "doc_ffffffffffffffff", "--kb", kb, "--json"]));
  assert.deepEqual(r, { removed: [target.docId], missing: ["doc_ffffffffffffffff"] });
  assert.equal(list().total, 3);
  const hits = jsonOf<{ results: { docId: string }[] }>(strata(["search", "humidity sensors", "--kb", kb, "--json"])).results;
  assert.ok(!hits.some((h) => h.docId === target.docId));
  assert.equal(strata(["docs", "rm", target.docId, "--kb", kb]).code, 1);
});

test("chat without a model: extractive turns; a follow-up carries the previous question's words", () => {
  const r = spawnSync(process.execPath, [cliPath(), "chat", "--kb", kb, "--session", "walks", "--json"], {
    input: "When do the lantern walks begin?\nWhere do they go?\n",
    encoding: "utf8",
    env: { ...process.env, CI: "true" },
  });
  assert.equal(r.status, 0, r.stderr);
  const turns = (JSON.parse(r.stdout) as { turns: { answer: string; supported: boolean; trace: { condensed?: { method: string } } }[] }).turns;
  assert.equal(turns.length, 2);
  assert.equal(turns[1]!.supported, true);
  assert.match(turns[1]!.answer, /old pier/);
  assert.equal(turns[1]!.trace.condensed?.method, "terms");
  const history = strata(["chat", "--kb", kb, "--session", "walks", "--history", "--json"]);
  assert.deepEqual((JSON.parse(history.stdout) as { turns: { question: string }[] }).turns.map((t) => t.question), ["When do the lantern walks begin?", "Where do they go?"]);
});
