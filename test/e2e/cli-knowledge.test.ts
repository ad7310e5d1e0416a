// The knowledge CLI end to end on a small corpus with ACLs: cited answers whose quotes are exact
// spans, no leaks through ask, search or show, honest "not found", re-ingest and prune.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { repoRoot, tempDir } from "../helpers/paths.js";

interface Citation { n: number; docId: string; source: string; start: number; end: number; quote: string; page: number | null }
interface Answer { answer: string; mode: string; supported: boolean; citations: Citation[] }
interface Report { added: number; updated: number; unchanged: number; removed: number; failed: { source: string; code: string; message: string }[] }
interface Results { results: { rank: number; source: string; docId: string; start: number; end: number; text: string }[] }

const corpus = join(repoRoot(), "test", "fixtures", "kb");

function makeKb(): { kb: string; docs: string } {
  const root = tempDir();
  const docs = join(root, "docs");
  cpSync(corpus, docs, { recursive: true });
  const kb = join(root, "kb");
  assert.equal(strata(["ingest", join(docs, "public"), "--kb", kb, "--json"]).code, 0);
  assert.equal(strata(["ingest", join(docs, "research"), "--kb", kb, "--acl-groups", "research", "--json"]).code, 0);
  assert.equal(strata(["ingest", join(docs, "ops"), "--kb", kb, "--acl-users", "omar", "--json"]).code, 0);
  return { kb, docs };
}

const { kb, docs } = makeKb();
const ask = (q: string, as?: string, groups?: string) =>
  jsonOf<Answer>(strata(["ask", q, "--kb", kb, "--json", ...(as ? ["--as", as] : []), ...(groups ? ["--groups", groups] : [])]));
const docText = (id: string) => jsonOf<{ text: string }>(strata(["show", id, "--kb", kb, "--json"])).text;

const cases = [
  { q: "How much does a standard admission cost?", expect: "9 pounds", source: "museum-guide.md", as: "guest" },
  { q: "When do the lantern walks begin?", expect: "20:15", source: "museum-guide.md", as: "guest" },
  { q: "Who founded the Harbour Museum?", expect: "Agnes Morrow", source: "history.html", as: "guest" },
  { q: "How heavy is the Fresnel lens?", expect: "3 tonnes", source: "history.html", as: "guest" },
  { q: "How much money does the conservation team ask for the wreck survey?", expect: "215,000 pounds", source: "survey-plan.md", as: "dana", groups: "research" },
  { q: "How often are the humidity sensors recalibrated?", expect: "9 months", source: "facilities.txt", as: "omar" },
];

for (const c of cases) {
  test(`cited answer: ${c.q}`, () => {
    const a = ask(c.q, c.as, c.groups);
    assert.equal(a.mode, "extractive");
    assert.equal(a.supported, true);
    assert.ok(a.answer.includes(c.expect), a.answer);
    assert.match(a.answer, /\[1\]/);
    assert.ok(a.citations.some((x) => x.source.endsWith(c.source)), JSON.stringify(a.citations));
    for (const cit of a.citations) assert.equal(docText(cit.docId).slice(cit.start, cit.end), cit.quote);
  });
}

test("the answer quotes the HTML's main content, not its navigation or footer", () => {
  const a = ask("Who founded the Harbour Museum?", "guest");
  const text = docText(a.citations[0]!.docId);
  assert.ok(!text.includes("Plan your visit"));
  assert.ok(!text.includes("registered charity"));
});

test("no ACL leak through ask, search or show", () => {
  for (const [as, groups] of [["guest", ""], ["omar", ""], ["dana", "finance"]] as const) {
    const a = ask("How much money does the conservation team ask for the wreck survey?", as, groups || undefined);
    assert.ok(!a.citations.some((c) => c.source.includes("survey-plan")), `${as} got the research plan`);
    assert.ok(!a.answer.includes("215,000"));
    const s = jsonOf<Results>(strata(["search", "Kestrel sonar sled Marigold survey", "--kb", kb, "--json", "--as", as, ...(groups ? ["--groups", groups] : [])]));
    assert.ok(!s.results.some((r) => r.source.includes("survey-plan")), `${as} found the research plan`);
  }
  const s = jsonOf<Results>(strata(["search", "humidity sensors recalibrated", "--kb", kb, "--json", "--as", "dana", "--groups", "research"]));
  assert.ok(!s.results.some((r) => r.source.includes("facilities")));
  // show checks rights too when asked as someone
  const owner = jsonOf<Results>(strata(["search", "Kestrel", "--kb", kb, "--json"]));
  const secretId = owner.results[0]!.docId;
  const denied = strata(["show", secretId, "--kb", kb, "--json", "--as", "guest"]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /error: no document .* that you may read/);
  assert.equal(strata(["show", secretId, "--kb", kb, "--json", "--as", "dana", "--groups", "research"]).code, 0);
});

test("a question the corpus cannot answer is not called supported", () => {
  const a = ask("What is the policy on bringing dogs into the museum?", "guest");
  assert.equal(a.supported, false);
  assert.deepEqual(a.citations, []);
  assert.match(a.answer, /does not contain/);
});

test("search results carry exact spans, heading paths and ranks", () => {
  const r = jsonOf<Results & { results: { headingPath: string[]; chunkId: string }[] }>(strata(["search", "tram line museum gate", "--kb", kb, "--json", "-k", "3"]));
  assert.ok(r.results.length >= 1 && r.results.length <= 3);
  const top = r.results[0]!;
  assert.ok(top.source.endsWith("museum-guide.md"));
  assert.deepEqual(top.headingPath, ["Guide to the Harbour Museum", "Travel"]);
  assert.equal(docText(top.docId).slice(top.start, top.end), top.text);
  assert.deepEqual(r.results.map((x) => x.rank), r.results.map((_, i) => i + 1));
});

test("--json prints exactly one JSON document, human output otherwise", () => {
  const r = strata(["ask", "When do the lantern walks begin?", "--kb", kb]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /mode: extractive/);
  assert.match(r.stdout, /\[1\] .*museum-guide\.md chars \d+–\d+: "/);
  const j = strata(["search", "lantern", "--kb", kb, "--json"]);
  assert.doesNotThrow(() => JSON.parse(j.stdout));
});

test("re-ingest skips unchanged files, replaces changed ones with a new version, prunes deleted ones", () => {
  const pub = join(docs, "public");
  let r = jsonOf<Report>(strata(["ingest", pub, "--kb", kb, "--json"]));
  assert.deepEqual([r.added, r.updated, r.unchanged, r.removed], [0, 0, 2, 0]);
  writeFileSync(join(pub, "museum-guide.md"), "# Guide\n\nA standard admission now costs 11 pounds.\n");
  r = jsonOf<Report>(strata(["ingest", pub, "--kb", kb, "--json"]));
  assert.deepEqual([r.added, r.updated, r.unchanged], [0, 1, 1]);
  const hit = jsonOf<Results>(strata(["search", "standard admission", "--kb", kb, "--json"])).results[0]!;
  const shown = jsonOf<{ version: number; text: string }>(strata(["show", hit.docId, "--kb", kb, "--json"]));
  assert.equal(shown.version, 2);
  assert.ok(!shown.text.includes("9 pounds"));
  assert.ok(!ask("How much does a standard admission cost?").answer.includes("9 pounds"));
  rmSync(join(pub, "history.html"));
  r = jsonOf<Report>(strata(["ingest", pub, "--kb", kb, "--prune", "--json"]));
  assert.equal(r.removed, 1);
  assert.equal(jsonOf<Results>(strata(["search", "Agnes Morrow customs house", "--kb", kb, "--json"])).results.length, 0);
});
