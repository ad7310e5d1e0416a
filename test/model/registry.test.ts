import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { createEmbeddingModel, createLanguageModel, importFactory } from "../../src/model/registry.js";
import { embedDeterministic, replyText, routes, startOpenAiServer, type OpenAiServer } from "../helpers/openai-server.js";
import { tempDir } from "../helpers/paths.js";
import { isStrataError } from "../helpers/errors.js";

const isCode = isStrataError;

describe("model registry", () => {
  let server: OpenAiServer;
  after(() => server?.close());

  it("creates openai: language and embedding models that talk to the server", async () => {
    server = await startOpenAiServer(routes({ chat: replyText("hello from the server"), embeddings: embedDeterministic(5) }));
    const lm = await createLanguageModel(server.ref("chat-model"), { apiKey: "k" });
    assert.equal(lm.provider, "openai");
    assert.equal(lm.id, server.ref("chat-model"));
    assert.equal((await lm.generate({ messages: [{ role: "user", content: "hi" }] })).text, "hello from the server");
    const em = await createEmbeddingModel(server.ref("embed-model"));
    const [v] = await em.embed(["x"]);
    assert.equal(v!.length, 5);
    assert.equal(em.dimensions, 5);
    assert.deepEqual(server.requests.map((r) => r.body.model), ["chat-model", "embed-model"]);
  });

  it("rejects a reference with an unknown scheme, or none, as USAGE", async () => {
    await assert.rejects(createLanguageModel("hf:meta/llama"), isCode("USAGE", /unknown model scheme "hf:"/, /gguf:/));
    await assert.rejects(createEmbeddingModel("./model.gguf"), isCode("USAGE", /not a model reference/));
    await assert.rejects(createLanguageModel("openai:not a url#m"), isCode("USAGE", /not a URL/));
  });

  it("rejects a gguf: file that does not exist as NOT_FOUND, naming the path", async () => {
    const missing = join(tempDir(), "missing.gguf");
    await assert.rejects(createLanguageModel(`gguf:${missing}`), isCode("NOT_FOUND", new RegExp(`${missing} does not exist`), /check the path/));
    await assert.rejects(createEmbeddingModel(`gguf:${missing}#ctx=512`), isCode("NOT_FOUND", /missing\.gguf does not exist/));
  });

  it("hands an existing gguf: file on to the llama.cpp provider (no NOT_FOUND)", async () => {
    const file = join(tempDir(), "not-really.gguf");
    writeFileSync(file, "this is not a GGUF file");
    // Whatever the llama.cpp provider says about this file (it is not a GGUF; or the provider is
    // not installed), the registry found the file and passed it on.
    await assert.rejects(createLanguageModel(`gguf:${file}`), (e: unknown) => {
      assert.ok(e instanceof StrataError, String(e));
      assert.notEqual(e.code, "NOT_FOUND", e.message);
      return true;
    });
  });

  it("hands builtin: to the engine provider: a missing run dir is NOT_FOUND; embeddings are not offered", async () => {
    await assert.rejects(createLanguageModel("builtin:./no-such-runs/tiny"), isCode("NOT_FOUND", /no-such-runs\/tiny does not exist/, /run directory/));
    await assert.rejects(createEmbeddingModel("builtin:./runs/tiny"), isCode("MODEL_UNAVAILABLE", /embeddings/, /gguf:/));
  });

  it("turns a provider module that fails to load, or lacks its factory, into MODEL_UNAVAILABLE", async () => {
    await assert.rejects(importFactory("./providers/no-such-provider/index.js", "createX", "no-such"), isCode("MODEL_UNAVAILABLE", /the no-such provider could not be loaded/, /npm install/));
    await assert.rejects(importFactory("./usage.js", "createNothing", "usage"), isCode("MODEL_UNAVAILABLE", /has no createNothing\(\)/));
    const factory = await importFactory("./usage.js", "estimateTokens", "usage");
    assert.equal(typeof factory, "function");
  });
});
