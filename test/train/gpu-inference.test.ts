// Inference on the GPU (the builtin provider's GpuLlamaInference over the WGSL interpreter) against
// the CPU engine on the same weights: logits of a whole sequence, the KV-cached prefill + steps
// (including a prefix reused across prompts), windowed loss for `eval lm`, and greedy generation
// through the provider (`createBuiltinLanguageModel(..., { device: "gpu" })`) giving the same text.
// Tolerance: logits within 1e-5 absolute (f32 sums of ≤ 24 terms in another order), losses 1e-5.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Rng } from "../../src/core/random.js";
import { Llama } from "../../src/nn/index.js";
import { LlamaInference, createBuiltinLanguageModel } from "../../src/model/providers/builtin/index.js";
import { GpuLlamaInference } from "../../src/model/providers/builtin/gpu-engine.js";
import { pretrain } from "../../src/train/index.js";
import { tempDir } from "../helpers/paths.js";
import { InterpreterRunner } from "../tensor/webgpu/interpreter-runner.js";
import { interpreterContext, interpreterOpener } from "../tensor/webgpu/interpreter-context.js";
import { GPU_TEST_MODEL, compare } from "./gpu-helpers.js";

const config = { ...GPU_TEST_MODEL, maxSeq: 12 };

describe("GPU inference (WGSL interpreter) against the CPU engine", () => {
  const model = new Llama(config, { seed: 9 });
  const rng = new Rng(4);
  const ids = Array.from({ length: 12 }, () => rng.int(config.vocab));
  const cpu = new LlamaInference(model);
  const ctx = interpreterContext();
  const gpu = new GpuLlamaInference(model, ctx, { contextLength: 12 });
  after(() => gpu.release());

  it("logits of a whole sequence", async () => {
    compare("logits", await gpu.logitsAll(ids), cpu.logitsAll(ids), 0, 1e-5);
    assert.equal(ctx.runner.problems(), "");
  });

  it("prefill and cached steps, and a prompt that shares a prefix", async () => {
    compare("prefill", await gpu.prefill(ids.slice(0, 5)), cpu.prefill(ids.slice(0, 5)), 0, 1e-5);
    for (let t = 5; t < 9; t++) compare(`step ${t}`, await gpu.step(ids[t]!), cpu.step(ids[t]!), 0, 1e-5);
    assert.equal(gpu.cachedLength, 9);
    const other = [...ids.slice(0, 4), (ids[4]! + 1) % config.vocab, 3];
    compare("prefix reuse", await gpu.prefill(other), cpu.prefill(other), 0, 1e-5);
    assert.equal(gpu.cachedLength, other.length);
    await assert.rejects(gpu.prefill(Array.from({ length: 13 }, () => 1)), (e: Error & { code?: string }) => e.code === "CONTEXT_OVERFLOW");
  });

  it("windowed loss (eval lm)", async () => {
    const want = await cpu.loss(ids, { window: 5 });
    const got = await gpu.loss(ids, { window: 5 });
    assert.equal(got.tokens, want.tokens);
    assert.ok(Math.abs(got.nll - want.nll) <= 1e-5 * want.tokens, `${got.nll} vs ${want.nll}`);
  });
});

describe("the builtin provider on the GPU (WGSL interpreter)", () => {
  let dir: string;
  before(async () => {
    dir = tempDir("strata-gpu-infer-");
    const { writeText } = await import("./helpers.js");
    const text = writeText(dir, "text.txt", 3_000);
    await pretrain({ runDir: join(dir, "run"), data: [text], model: { dim: 8, layers: 1, heads: 2, kvHeads: 1, ffnDim: 16, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: true }, train: { steps: 2, batchSize: 2, blockSize: 8, evalBatches: 1, seed: 2 }, chart: false });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("greedy generation gives the CPU's tokens, and lossOf its loss", async () => {
    const opened: InterpreterRunner[] = [];
    const ref = `builtin:${join(dir, "run")}`;
    const onCpu = await createBuiltinLanguageModel(ref);
    const onGpu = await createBuiltinLanguageModel(ref, {}, { device: "gpu", open: interpreterOpener(opened) });
    try {
      assert.notEqual(onGpu.active, onGpu.engine, "requests run on the GPU engine");
      const request = { prompt: "The king", maxTokens: 6, temperature: 0 };
      const [a, b] = [await onCpu.complete(request), await onGpu.complete(request)];
      assert.equal(b.text, a.text);
      assert.equal(b.usage.outputTokens, a.usage.outputTokens);
      const [la, lb] = [await onCpu.lossOf("The queen shall speak.", { window: 8 }), await onGpu.lossOf("The queen shall speak.", { window: 8 })];
      assert.equal(lb.tokens, la.tokens);
      assert.ok(Math.abs(lb.nll - la.nll) <= 1e-5 * la.tokens, `${lb.nll} vs ${la.nll}`);
      assert.equal(opened[0]!.problems(), "");
    } finally {
      await onCpu.close();
      await onGpu.close();
    }
  });
});
