import { test } from "node:test";
import assert from "node:assert/strict";
import { StrataError } from "../../../src/core/errors.js";
import type { ProgressEvent } from "../../../src/core/events.js";
import { embeddingText } from "../../../src/knowledge/dense/embed-chunks.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { HashEmbedder, hashEmbed } from "../../helpers/hash-embedder.js";
import { buildCorpus, doc } from "./fixture.js";

const codeOf = (code: string) => (e: unknown) => e instanceof StrataError && e.code === code;

test("the embedded text is title, heading path, then chunk text; a heading equal to the title is not repeated", () => {
  assert.equal(embeddingText({ title: "Guide", headingPath: ["Guide", "Travel"], text: "Take the tram." }), "Guide\n\nTravel\n\nTake the tram.");
  assert.equal(embeddingText({ title: "Guide", headingPath: ["Prices", "Adults"], text: "9 pounds." }), "Guide\n\nPrices > Adults\n\n9 pounds.");
  assert.equal(embeddingText({ title: "", headingPath: [], text: "bare" }), "bare");
});

test("embed stores one unit vector per chunk, in batches, reporting progress", async () => {
  const { kb } = buildCorpus(45, 5);
  const model = new HashEmbedder();
  const events: ProgressEvent[] = [];
  const r = await kb.embed(model, { batch: 16, onProgress: (e) => events.push(e) });
  assert.deepEqual([r.embedded, r.vectors, r.chunks, r.dimensions], [50, 50, 50, 64]);
  assert.equal(model.calls, 4); // 16 + 16 + 16 + 2
  assert.ok(events.every((e) => e.phase === "embed" && e.total === 50));
  assert.deepEqual(events.map((e) => e.done), [0, 16, 32, 48, 50]);
  // The stored vector is the model's vector of the chunk's embedding text.
  const chunk = kb.store.chunksWithoutVector("other", 0, 1)[0]!;
  const stored = [...kb.store.readableVectors(model.id, OWNER)].find((v) => v.chunkId === chunk.chunkId)!;
  const expected = hashEmbed(embeddingText(chunk), 64);
  stored.vector.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-6));
  // Nothing is missing now: a second run embeds nothing and calls the model not at all.
  const again = await kb.embed(model);
  assert.equal(again.embedded, 0);
  assert.equal(model.calls, 4);
  kb.close();
});

test("embed is resumable: cancelled after two batches, a rerun embeds only the rest", async () => {
  const { kb } = buildCorpus(70, 0);
  const first = new HashEmbedder();
  const controller = new AbortController();
  await assert.rejects(
    kb.embed(first, { batch: 10, signal: controller.signal, onProgress: (e) => e.done >= 20 && controller.abort() }),
    codeOf("ABORTED"),
  );
  assert.equal(kb.store.embeddingModel(first.id)?.vectors, 20);
  const second = new HashEmbedder();
  const r = await kb.embed(second, { batch: 10 });
  assert.equal(second.texts, 50);
  assert.equal(r.embedded, 50);
  assert.equal(first.texts + second.texts, 70);
  assert.equal(r.vectors, 70);
  kb.close();
});

test("a model failing midway keeps the batches already written", async () => {
  const { kb } = buildCorpus(30, 0);
  let batches = 0;
  const flaky = new HashEmbedder({ beforeBatch: () => { if (++batches === 3) throw new Error("connection reset"); } });
  await assert.rejects(kb.embed(flaky, { batch: 8 }), /connection reset/);
  assert.equal(kb.store.embeddingModel(flaky.id)?.vectors, 16);
  assert.equal((await kb.embed(new HashEmbedder(), { batch: 8 })).embedded, 14);
  kb.close();
});

test("re-ingesting a changed document drops its stale vectors; embed fills exactly those", async () => {
  const { kb } = buildCorpus(20, 0);
  const model = new HashEmbedder();
  await kb.embed(model);
  const source = "mem:public/3";
  const before = (await kb.search("lighthouse", { k: 50, access: OWNER, filter: { sourcePrefix: source } }))[0];
  kb.writeExtracted({ source, document: doc("A completely new text about a lighthouse keeper and his bell.", "Note 3") });
  assert.equal(kb.store.embeddingModel(model.id)?.vectors, 19);
  assert.equal(kb.store.countChunksWithoutVector(model.id), 1);
  const r = await kb.embed(model);
  assert.equal(r.embedded, 1);
  assert.equal(r.vectors, 20);
  const hit = (await kb.search("lighthouse keeper bell", { k: 1, mode: "dense", embedder: model, access: OWNER, filter: { sourcePrefix: source } }))[0]!;
  assert.match(hit.text, /completely new text/);
  assert.notEqual(hit.chunkId, before?.chunkId);
  // Removing a document removes its vectors with its chunks.
  kb.remove(hit.docId);
  assert.equal(kb.store.embeddingModel(model.id)?.vectors, 19);
  kb.close();
});

test("a model id that changes width is refused with a fix; --rebuild re-embeds everything", async () => {
  const { kb } = buildCorpus(10, 0);
  await kb.embed(new HashEmbedder({ id: "hash", dimensions: 64 }));
  const wider = new HashEmbedder({ id: "hash", dimensions: 96 });
  kb.writeExtracted({ source: "mem:new", document: doc("one more note about a harbour bell") });
  await assert.rejects(kb.embed(wider), (e: unknown) => {
    assert.ok(e instanceof StrataError);
    assert.equal(e.code, "EMBEDDING_MISMATCH");
    assert.equal(e.message, "the knowledge base holds 64-dim vectors for hash, the model now returns 96");
    assert.match(e.hint, /--rebuild/);
    return true;
  });
  assert.equal(wider.calls, 0);
  // A model that declares no width (some remote providers) is caught when its vectors arrive.
  const undeclared = { id: "hash", dimensions: 0, embed: (t: string[]) => wider.embed(t), close: async () => {} };
  await assert.rejects(kb.embed(undeclared), codeOf("EMBEDDING_MISMATCH"));
  assert.equal(kb.store.embeddingModel("hash")?.vectors, 10);
  // Querying with the wrong width is refused too, rather than comparing unlike vectors.
  await assert.rejects(kb.search("harbour", { mode: "dense", embedder: wider, access: OWNER }), codeOf("EMBEDDING_MISMATCH"));
  const r = await kb.embed(wider, { rebuild: true });
  assert.deepEqual([r.embedded, r.vectors, r.dimensions], [11, 11, 96]);
  assert.equal((await kb.search("harbour bell", { mode: "dense", embedder: wider, access: OWNER })).length, 10);
  kb.close();
});

test("bad batch sizes and broken model output are refused", async () => {
  const { kb } = buildCorpus(3, 0);
  await assert.rejects(kb.embed(new HashEmbedder(), { batch: 0 }), RangeError);
  const short = Object.assign(new HashEmbedder(), { embed: async (texts: string[]) => texts.slice(1).map(() => new Float32Array(64)) });
  await assert.rejects(kb.embed(short), StrataError);
  assert.equal(kb.store.embeddingModel(short.id), undefined);
  kb.close();
});
