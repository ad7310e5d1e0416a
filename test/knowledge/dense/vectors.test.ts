import { test } from "node:test";
import assert from "node:assert/strict";
import { TopK } from "../../../src/knowledge/dense/top-k.js";
import { checkEmbeddings, decodeVector, dot, encodeVector, normalize } from "../../../src/knowledge/dense/vectors.js";
import { OWNER } from "../../../src/knowledge/store/access.js";
import { StrataError } from "../../../src/core/errors.js";
import { buildCorpus, rng } from "./fixture.js";

test("a vector survives encode → decode bit for bit, as 4 little-endian bytes per dimension", () => {
  const v = new Float32Array([1.5, -0.25, 3.4028234663852886e38, 1e-45, 0]);
  const blob = encodeVector(v);
  assert.equal(blob.length, 20);
  assert.equal(blob.readFloatLE(4), -0.25);
  assert.deepEqual(decodeVector(blob), v);
  // An unaligned buffer (as a pooled Buffer can be) is copied, not misread.
  const shifted = Buffer.alloc(21);
  blob.copy(shifted, 1);
  assert.deepEqual(decodeVector(shifted.subarray(1)), v);
});

test("a blob that is not whole floats is reported as corruption", () => {
  assert.throws(() => decodeVector(Buffer.alloc(7)), (e: unknown) => e instanceof StrataError && e.code === "STORE_CORRUPT");
});

test("normalize gives unit length and leaves a zero vector at zero", () => {
  const n = normalize([3, 4]);
  assert.ok(Math.abs(dot(n, n) - 1) < 1e-6);
  assert.deepEqual([...normalize([0, 0, 0])], [0, 0, 0]);
});

test("model output is checked: one finite vector per text, one width", () => {
  assert.equal(checkEmbeddings([new Float32Array(3), new Float32Array(3)], 2, "m"), 3);
  const bad = (vs: Float32Array[], n: number) => assert.throws(() => checkEmbeddings(vs, n, "m"), StrataError);
  bad([new Float32Array(3)], 2);
  bad([new Float32Array(3), new Float32Array(4)], 2);
  bad([new Float32Array([1, Number.NaN])], 1);
  bad([new Float32Array(0)], 1);
});

test("TopK keeps the k best of a stream, ties broken by key, same as a full sort", () => {
  const rand = rng(3);
  const items = Array.from({ length: 500 }, (_, i) => ({ score: Math.round(rand() * 50) / 50, key: `c${String(i).padStart(4, "0")}`, item: i }));
  for (const k of [0, 1, 7, 500, 800]) {
    const top = new TopK<number>(k);
    for (const it of items) top.push(it);
    const expected = [...items].sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1)).slice(0, k);
    assert.deepEqual(top.sorted(), expected, `k=${k}`);
  }
});

test("the store round-trips vectors per model and records the model's width", () => {
  const { kb } = buildCorpus(5, 0);
  const chunks = kb.store.chunksWithoutVector("m1", 0, 100);
  assert.equal(chunks.length, 5);
  const vectors = chunks.map((c, i) => ({ rowid: c.rowid, chunkId: c.chunkId, vector: normalize([i + 1, 1, -2]) }));
  assert.equal(kb.store.writeVectors("m1", 3, vectors), 5);
  assert.deepEqual(kb.store.embeddingModel("m1")?.dimensions, 3);
  assert.equal(kb.store.embeddingModel("m1")?.vectors, 5);
  assert.equal(kb.store.embeddingModel("m2"), undefined);
  const back = new Map([...kb.store.readableVectors("m1", OWNER)].map((v) => [v.chunkId, [...v.vector]]));
  for (const v of vectors) assert.deepEqual(back.get(v.chunkId), [...v.vector]);
  assert.equal(kb.store.countChunksWithoutVector("m1"), 0);
  assert.equal(kb.store.countChunksWithoutVector("m2"), 5);
  // A chunk id that no longer matches its row (the chunk was replaced) gets no vector.
  assert.equal(kb.store.writeVectors("m2", 3, [{ rowid: chunks[0]!.rowid, chunkId: "gone-v1-0", vector: normalize([1, 0, 0]) }]), 0);
  assert.equal(kb.store.dropVectors("m1"), 5);
  assert.equal(kb.store.embeddingModel("m1"), undefined);
  kb.close();
});
