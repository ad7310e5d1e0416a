import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { StrataError } from "../../../src/core/errors.js";
import { embeddingText } from "../../../src/knowledge/dense/embed-chunks.js";
import { reciprocalRankFusion } from "../../../src/knowledge/fusion.js";
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { HashEmbedder, hashEmbed } from "../../helpers/hash-embedder.js";
import { repoRoot } from "../../helpers/paths.js";
import { buildCorpus } from "./fixture.js";

const codeOf = (code: string) => (e: unknown) => e instanceof StrataError && e.code === code;
const guest = { user: "guest" };
const dana = { user: "dana", groups: ["research"] };

const { kb, researchSources } = buildCorpus(80, 8);
const model = new HashEmbedder();
await kb.embed(model, { batch: 25 });

/** Every chunk with its text, by brute force outside the store. */
function allChunks() {
  return kb.store.db
    .prepare("SELECT c.chunk_id, c.heading_path, c.text, d.title, d.source FROM chunks c JOIN documents d ON d.rowid = c.doc_rowid")
    .all() as { chunk_id: string; heading_path: string; text: string; title: string; source: string }[];
}

test("dense top-k equals a brute-force cosine ranking of every chunk", async () => {
  for (const query of ["sonar survey of the wreck", "coffee and bread at the market", "lantern tour at night"]) {
    const q = hashEmbed(query, 64);
    const expected = allChunks()
      .map((c) => {
        const v = hashEmbed(embeddingText({ title: c.title, headingPath: JSON.parse(c.heading_path) as string[], text: c.text }), 64);
        return { id: c.chunk_id, score: v.reduce((s, x, i) => s + x * q[i]!, 0) };
      })
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, 10);
    const hits = await kb.search(query, { k: 10, mode: "dense", embedder: model, access: OWNER });
    assert.deepEqual(hits.map((h) => h.chunkId), expected.map((e) => e.id), query);
    hits.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i]!.score) < 1e-5));
    assert.deepEqual(hits.map((h) => h.rank), hits.map((_, i) => i + 1));
  }
});

test("dense and hybrid never give a guest a research chunk, and k counts only readable chunks", async () => {
  const query = "sonar survey of the schooner wreck with the sled";
  for (const mode of ["dense", "hybrid"] as const) {
    const owner = await kb.search(query, { k: 5, mode, embedder: model, access: OWNER });
    assert.ok(owner.every((h) => researchSources.includes(h.source)), `${mode}: the research notes are the best matches for the owner`);
    const asGuest = await kb.search(query, { k: 5, mode, embedder: model, access: guest });
    assert.equal(asGuest.length, 5, `${mode}: k filled with readable chunks`);
    assert.ok(!asGuest.some((h) => h.source.startsWith("mem:research/")), `${mode}: guest got a research chunk`);
    const all = await kb.search(query, { k: 1000, mode, embedder: model, access: guest });
    assert.equal(all.length, 80, `${mode}: every public chunk and nothing else`);
    const member = await kb.search(query, { k: 5, mode, embedder: model, access: dana });
    assert.deepEqual(member.map((h) => h.chunkId), owner.map((h) => h.chunkId));
  }
});

test("filters apply inside dense retrieval: tags and source prefix", async () => {
  const tagged = await kb.search("harbour museum", { k: 100, mode: "dense", embedder: model, access: OWNER, filter: { tags: ["even"] } });
  assert.equal(tagged.length, 40);
  assert.ok(tagged.every((h) => Number(h.source.split("/")[1]) % 2 === 0));
  const prefixed = await kb.search("harbour museum", { k: 100, mode: "hybrid", embedder: model, access: OWNER, filter: { sourcePrefix: "mem:research/" } });
  assert.equal(prefixed.length, 8);
});

test("hybrid is the RRF (k = 60) of the lexical and dense lists, each fetched max(k, 50) deep", async () => {
  const query = "night tour of the lighthouse lens";
  const lexical = await kb.search(query, { k: 50, mode: "lexical", access: guest });
  const dense = await kb.search(query, { k: 50, mode: "dense", embedder: model, access: guest });
  const expected = reciprocalRankFusion([lexical, dense], { k: 60, limit: 10 });
  const hybrid = await kb.search(query, { k: 10, mode: "hybrid", embedder: model, access: guest });
  assert.deepEqual(hybrid.map((h) => h.chunkId), expected.map((h) => h.chunkId));
  hybrid.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i]!.score) < 1e-12));
  // The fused list differs from both inputs here, so the test would notice a missing list.
  assert.notDeepEqual(hybrid.map((h) => h.chunkId), lexical.slice(0, 10).map((h) => h.chunkId));
  assert.notDeepEqual(hybrid.map((h) => h.chunkId), dense.slice(0, 10).map((h) => h.chunkId));
});

test("dense or hybrid without an embedder, or without vectors for it, is a clear error naming the fix", async () => {
  await assert.rejects(kb.search("wreck", { mode: "dense", access: OWNER }), (e: unknown) => {
    assert.ok(e instanceof StrataError && e.code === "USAGE");
    assert.match(e.hint, /strata embed --kb .* --model/);
    return true;
  });
  await assert.rejects(kb.search("wreck", { mode: "hybrid", access: OWNER }), codeOf("USAGE"));
  await assert.rejects(kb.search("wreck", { mode: "fuzzy" as "dense", embedder: model, access: OWNER }), codeOf("USAGE"));
  const unknown = new HashEmbedder({ id: "never-used" });
  await assert.rejects(kb.search("wreck", { mode: "hybrid", embedder: unknown, access: OWNER }), (e: unknown) => {
    assert.ok(e instanceof StrataError && e.code === "NO_VECTORS");
    assert.match(e.message, /no vectors for embedding model never-used/);
    assert.match(e.hint, /strata embed --kb .* --model <ref>.*--embed <ref>/);
    return true;
  });
  assert.equal(unknown.calls, 0);
});

test("the reranker re-sorts the best candidates by its scores; ties keep retrieval order", async () => {
  const seen: number[] = [];
  const hits = await kb.search("harbour museum", {
    k: 3,
    mode: "hybrid",
    embedder: model,
    access: OWNER,
    rerankDepth: 12,
    rerank: async (_q, candidates) => {
      seen.push(candidates.length);
      return candidates.map((c) => (c.source.startsWith("mem:research/") ? 9 : 1));
    },
  });
  assert.deepEqual(seen, [12]);
  const fused = await kb.search("harbour museum", { k: 12, mode: "hybrid", embedder: model, access: OWNER });
  const promoted = fused.filter((h) => h.source.startsWith("mem:research/"));
  const expected = [...promoted, ...fused.filter((h) => !h.source.startsWith("mem:research/"))].slice(0, 3);
  assert.deepEqual(hits.map((h) => h.chunkId), expected.map((h) => h.chunkId));
  assert.deepEqual(hits.map((h) => h.rank), [1, 2, 3]);
  await assert.rejects(kb.search("harbour", { access: OWNER, rerank: async () => [1] }), codeOf("MODEL_OUTPUT_INVALID"));
});

test("lexical search is unchanged by stored vectors, and the extractive answer still works", async () => {
  const fixtureKb = KnowledgeBase.open(join(kb.location, "..", "fixture-kb"), { create: true });
  const docs = join(repoRoot(), "test", "fixtures", "kb");
  await fixtureKb.ingest([join(docs, "public")]);
  await fixtureKb.ingest([join(docs, "research")], { acl: { groups: ["research"] } });
  const before = await fixtureKb.answer("When do the lantern walks begin?", { access: guest });
  const lexicalBefore = await fixtureKb.search("lantern walks", { access: guest });
  await fixtureKb.embed(new HashEmbedder());
  const after = await fixtureKb.answer("When do the lantern walks begin?", { access: guest });
  assert.deepEqual(after.citations, before.citations);
  assert.equal(after.supported, true);
  assert.match(after.answer, /20:15/);
  assert.deepEqual(await fixtureKb.search("lantern walks", { access: guest }), lexicalBefore);
  const secret = await fixtureKb.answer("How much money does the conservation team ask for the wreck survey?", { access: guest });
  assert.ok(!secret.answer.includes("215,000"));
  fixtureKb.close();
});
