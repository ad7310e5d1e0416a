import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { costOf, estimateTokens, meterEmbeddingModel, meterLanguageModel, priceFor, UsageMeter, withCost } from "../../src/model/usage.js";
import type { EmbeddingModel, GenerateResult, LanguageModel, StreamEvent } from "../../src/model/types.js";

const close = (actual: number | undefined, expected: number): void => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `expected ${expected}, got ${actual}`);
};

describe("costOf", () => {
  it("prices input and output tokens per million", () => {
    // 1,000 in at $0.15/M + 500 out at $0.60/M = 0.00015 + 0.0003 = 0.00045
    close(costOf({ inputTokens: 1000, outputTokens: 500 }, { inputPerMillion: 0.15, outputPerMillion: 0.6 }), 0.00045);
    assert.equal(costOf({ inputTokens: 0, outputTokens: 0 }, { inputPerMillion: 5, outputPerMillion: 15 }), 0);
  });
});

describe("priceFor", () => {
  const prices = { "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6 }, "openai:http://h/v1#special": { inputPerMillion: 1, outputPerMillion: 2 } };

  it("finds an exact reference before the bare model name", () => {
    assert.deepEqual(priceFor(prices, "openai:http://h/v1#special"), { inputPerMillion: 1, outputPerMillion: 2 });
    assert.deepEqual(priceFor(prices, "openai:http://other/v1#gpt-4o-mini"), { inputPerMillion: 0.15, outputPerMillion: 0.6 });
    assert.deepEqual(priceFor(prices, "gpt-4o-mini"), { inputPerMillion: 0.15, outputPerMillion: 0.6 });
  });

  it("is undefined for unknown models, no table, and Object.prototype names", () => {
    assert.equal(priceFor(prices, "llama3"), undefined);
    assert.equal(priceFor(prices, "openai:http://h/v1#llama3"), undefined);
    assert.equal(priceFor(undefined, "gpt-4o-mini"), undefined);
    assert.equal(priceFor(prices, "constructor"), undefined);
    assert.equal(priceFor(prices, "openai:http://h/v1#toString"), undefined);
  });
});

describe("withCost", () => {
  it("adds costUsd only when a price is known", () => {
    assert.deepEqual(withCost({ inputTokens: 10, outputTokens: 2 }, undefined), { inputTokens: 10, outputTokens: 2 });
    assert.ok(!("costUsd" in withCost({ inputTokens: 10, outputTokens: 2 }, undefined)));
    close(withCost({ inputTokens: 2_000_000, outputTokens: 1_000_000 }, { inputPerMillion: 1, outputPerMillion: 3 }).costUsd, 5);
  });
});

describe("estimateTokens", () => {
  it("counts one token per four characters, rounding up", () => {
    assert.equal(estimateTokens(""), 0);
    assert.equal(estimateTokens("abc"), 1);
    assert.equal(estimateTokens("abcd"), 1);
    assert.equal(estimateTokens("abcde"), 2);
    assert.equal(estimateTokens("x".repeat(400)), 100);
  });
});

describe("UsageMeter", () => {
  it("sums calls, tokens, cost and latency; unpriced calls are counted apart", () => {
    const meter = new UsageMeter();
    meter.record({ inputTokens: 100, outputTokens: 20, costUsd: 0.5 }, 30);
    meter.recordResult({ usage: { inputTokens: 50, outputTokens: 5 }, latencyMs: 12 });
    meter.record({ inputTokens: 1, outputTokens: 1, costUsd: 0.25 });
    assert.deepEqual(meter.snapshot(), { calls: 3, inputTokens: 151, outputTokens: 26, costUsd: 0.75, unpricedCalls: 1, latencyMs: 42 });
  });

  it("snapshot is a copy and reset starts over", () => {
    const meter = new UsageMeter();
    meter.record({ inputTokens: 1, outputTokens: 1 }, 1);
    const snap = meter.snapshot();
    meter.record({ inputTokens: 1, outputTokens: 1 }, 1);
    assert.equal(snap.calls, 1);
    meter.reset();
    assert.deepEqual(meter.snapshot(), { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, latencyMs: 0 });
  });
});

describe("meterLanguageModel / meterEmbeddingModel", () => {
  const result: GenerateResult = { text: "hi", toolCalls: [], finishReason: "stop", usage: { inputTokens: 4, outputTokens: 2, costUsd: 0.01 }, model: "m", latencyMs: 5 };
  const fake: LanguageModel = {
    id: "fake:1",
    provider: "fake",
    generate: async () => result,
    async *stream(): AsyncIterable<StreamEvent> {
      yield { type: "text-delta", text: "hi" };
      yield { type: "finish", result };
    },
    countTokens: async (t) => t.length,
    close: async () => {},
  };

  it("records every finished generate and stream, and passes events through unchanged", async () => {
    const meter = new UsageMeter();
    const model = meterLanguageModel(fake, meter);
    assert.equal(model.id, "fake:1");
    await model.generate({ messages: [{ role: "user", content: "x" }] });
    const events: StreamEvent[] = [];
    for await (const e of model.stream({ messages: [{ role: "user", content: "x" }] })) events.push(e);
    assert.deepEqual(events.map((e) => e.type), ["text-delta", "finish"]);
    assert.equal(await model.countTokens("abc"), 3);
    const t = meter.snapshot();
    assert.equal(t.calls, 2);
    assert.equal(t.inputTokens, 8);
    close(t.costUsd, 0.02);
  });

  it("does not record a stream abandoned before its finish event, nor a failed call", async () => {
    const meter = new UsageMeter();
    const model = meterLanguageModel(fake, meter);
    for await (const _e of model.stream({ messages: [] })) break;
    const failing = meterLanguageModel({ ...fake, generate: async () => Promise.reject(new Error("down")) }, meter);
    await assert.rejects(failing.generate({ messages: [] }), /down/);
    assert.equal(meter.snapshot().calls, 0);
  });

  it("meters embeddings by estimated input tokens and keeps dimensions live", async () => {
    let dims = 0;
    const emb: EmbeddingModel = {
      id: "fake-emb",
      get dimensions() {
        return dims;
      },
      embed: async (texts) => {
        dims = 2;
        return texts.map(() => new Float32Array(2));
      },
      close: async () => {},
    };
    const meter = new UsageMeter();
    const metered = meterEmbeddingModel(emb, meter);
    assert.equal(metered.dimensions, 0);
    await metered.embed(["abcdefgh", "abc"]);
    assert.equal(metered.dimensions, 2);
    assert.equal(meter.snapshot().inputTokens, 3);
    assert.equal(meter.snapshot().unpricedCalls, 1);
  });
});
