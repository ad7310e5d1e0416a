import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { ProgressEvent } from "../../../src/core/events.js";
import { createOpenAiEmbeddingModel } from "../../../src/model/providers/openai/index.js";
import { deadServerUrl, deterministicVector, embedDeterministic, failTimes, replyJson, routes, startOpenAiServer, type Handler, type OpenAiServer } from "../../helpers/openai-server.js";
import { isStrataError } from "../../helpers/errors.js";

const servers: OpenAiServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function serve(embeddings: Handler, apiKey?: string): Promise<OpenAiServer> {
  const s = await startOpenAiServer({ handler: routes({ embeddings }), apiKey });
  servers.push(s);
  return s;
}

const isCode = isStrataError;

const texts = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"];

describe("OpenAI provider: embeddings", () => {
  it("embeds in batches, in input order, learning the dimensions and reporting progress", async () => {
    const s = await serve(embedDeterministic(8));
    const model = await createOpenAiEmbeddingModel(s.ref("emb"), { batchSize: 3, apiKey: "k" });
    assert.equal(model.id, s.ref("emb"));
    assert.equal(model.dimensions, 0, "unknown before the first answer");
    const progress: ProgressEvent[] = [];
    const vectors = await model.embed(texts, { onProgress: (e) => progress.push(e) });
    assert.equal(model.dimensions, 8);
    assert.equal(vectors.length, texts.length);
    vectors.forEach((v, i) => {
      assert.ok(v instanceof Float32Array);
      assert.deepEqual(Array.from(v), deterministicVector(texts[i]!, 8));
    });
    assert.deepEqual(s.requests.map((r) => r.body.input), [texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    assert.deepEqual(s.requests[0]!.body, { model: "emb", input: texts.slice(0, 3), encoding_format: "float" });
    assert.equal(s.requests[0]!.path, "/embeddings");
    assert.equal(s.requests[0]!.headers.authorization, "Bearer k");
    assert.deepEqual(progress, [3, 6, 7].map((done) => ({ phase: "embed", done, total: 7 })));
  });

  it("puts vectors back in input order when the server lists them out of order", async () => {
    const s = await serve(embedDeterministic(4, { reverse: true }));
    const vectors = await (await createOpenAiEmbeddingModel(s.ref())).embed(["a", "b", "c"]);
    assert.deepEqual(vectors.map((v) => Array.from(v)), ["a", "b", "c"].map((t) => deterministicVector(t, 4)));
  });

  it("sends nothing for an empty list", async () => {
    const s = await serve(embedDeterministic(4));
    assert.deepEqual(await (await createOpenAiEmbeddingModel(s.ref())).embed([]), []);
    assert.equal(s.requests.length, 0);
  });

  it("rejects vectors whose dimensions change from one answer to the next", async () => {
    const s = await serve(embedDeterministic(8, { dimFor: (n) => (n === 0 ? 8 : 16) }));
    const model = await createOpenAiEmbeddingModel(s.ref(), { batchSize: 2 });
    await assert.rejects(model.embed(["a", "b", "c"]), isCode("EMBEDDING_MISMATCH", /16-dimensional vector after 8-dimensional/, /must not be mixed/));
    assert.equal(model.dimensions, 8, "the learned dimensions stay");
  });

  it("rejects an answer with the wrong number of vectors, repeated indices, or no vectors at all", async () => {
    const one = [{ index: 0, embedding: [0.1, 0.2] }];
    const s1 = await serve(replyJson(200, { data: one }));
    await assert.rejects((await createOpenAiEmbeddingModel(s1.ref())).embed(["a", "b"]), isCode("EMBEDDING_MISMATCH", /1 vectors for 2 texts/));
    const s2 = await serve(replyJson(200, { data: [one[0], one[0]] }));
    await assert.rejects((await createOpenAiEmbeddingModel(s2.ref())).embed(["a", "b"]), isCode("MODEL_OUTPUT_INVALID", /index 0 is out of range or repeated/));
    const s3 = await serve(replyJson(200, { object: "list", results: [] }));
    await assert.rejects((await createOpenAiEmbeddingModel(s3.ref())).embed(["a"]), isCode("MODEL_OUTPUT_INVALID", /unusable embeddings: data/));
    const s4 = await serve(replyJson(200, { data: [{ index: 0, embedding: [] }] }));
    await assert.rejects((await createOpenAiEmbeddingModel(s4.ref())).embed(["a"]), isCode("MODEL_OUTPUT_INVALID", /empty vector/));
  });

  it("retries a 500 and passes on a 401 and a server that is down", async () => {
    const s = await serve(failTimes(1, 503, embedDeterministic(4)));
    const vectors = await (await createOpenAiEmbeddingModel(s.ref(), { retryBaseDelayMs: 1 })).embed(["a"]);
    assert.equal(vectors[0]!.length, 4);
    assert.equal(s.requests.length, 2);

    const locked = await serve(embedDeterministic(4), "right");
    await assert.rejects((await createOpenAiEmbeddingModel(locked.ref(), { apiKey: "wrong-key-123" })).embed(["a"]), isCode("MODEL_AUTH", /STRATA_OPENAI_API_KEY/));

    const url = await deadServerUrl();
    await assert.rejects((await createOpenAiEmbeddingModel(`openai:${url}#e`, { maxRetries: 0 })).embed(["a"]), isCode("MODEL_UNREACHABLE", /connection refused/));
  });

  it("stops between batches when cancelled", async () => {
    const ac = new AbortController();
    const s = await serve(embedDeterministic(4));
    const model = await createOpenAiEmbeddingModel(s.ref(), { batchSize: 2 });
    await assert.rejects(
      model.embed(["a", "b", "c", "d", "e"], { signal: ac.signal, onProgress: () => ac.abort() }),
      isCode("ABORTED"),
    );
    assert.equal(s.requests.length, 1, "no batch is sent after the cancel");
  });

  it("rejects a batch size below 1", async () => {
    await assert.rejects(createOpenAiEmbeddingModel("openai:http://127.0.0.1:1/v1#e", { batchSize: 0 }), isCode("USAGE", /batchSize/));
  });
});
