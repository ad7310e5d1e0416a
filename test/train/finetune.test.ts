// Fine-tuning through the one loop: SFT with LoRA (adapter saved beside the frozen base, loss falls,
// exact resume), full SFT, DPO with the adapter switched off as reference, and the refusals.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readCheckpoint } from "../../src/formats/checkpoint.js";
import { llamaGgufModelMetadata, llamaGgufTensors, llamaGgufTokenizerMetadata, writeGguf } from "../../src/formats/gguf/index.js";
import { finetune, pretrain } from "../../src/train/index.js";
import { isStrataError } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";
import { writeText } from "./helpers.js";
import { writeTinyLlamaGguf } from "../helpers/tiny-llama.js";
import { rmSync } from "node:fs";

const dir = tempDir("strata-finetune-");
let baseRun: string;
let sftData: string;
let dpoData: string;

const SHAPE = { dim: 32, layers: 2, heads: 2, kvHeads: 1, ffnDim: 64, maxSeq: 64, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };
const WORDS = ["cat", "dog", "sun", "red", "sea", "owl", "fig", "ant"];

before(async () => {
  baseRun = join(dir, "base");
  const text = writeText(dir, "text.txt", 6000, 3);
  await pretrain({ runDir: baseRun, data: [text], model: SHAPE, train: { steps: 80, batchSize: 8, blockSize: 48, lr: 1e-2, minLr: 1e-3, evalInterval: 80, evalBatches: 1, checkpointInterval: 80, seed: 1, warmupSteps: 0 }, chart: false });
  // Answer = the word reversed: learnable by a tiny model from the prompt's own letters.
  sftData = join(dir, "sft.jsonl");
  writeFileSync(sftData, WORDS.flatMap((w) => [JSON.stringify({ prompt: w, completion: [...w].reverse().join("") })]).join("\n") + "\n");
  dpoData = join(dir, "dpo.jsonl");
  writeFileSync(dpoData, WORDS.map((w) => JSON.stringify({ prompt: w, chosen: [...w].reverse().join(""), rejected: w.toUpperCase() })).join("\n") + "\n");
});

after(() => rmSync(dir, { recursive: true, force: true }));

const LORA_TRAIN = { batchSize: 4, blockSize: 48, lr: 1e-2, minLr: 1e-3, evalBatches: 2, seed: 5 };

describe("fine-tuning", () => {
  test("SFT with LoRA: the loss falls, the base stays as it was, the adapter is saved with alpha", async () => {
    const out = join(dir, "sft-lora");
    const events: string[] = [];
    const r = await finetune({ runDir: out, objective: "sft", base: `builtin:${baseRun}`, data: sftData, method: "lora", lora: { rank: 4, alpha: 8, dropout: 0 }, train: { ...LORA_TRAIN, lr: 5e-2, minLr: 5e-3, steps: 40, evalInterval: 10 }, chart: true, onEvent: (e) => events.push(e.type) });
    assert.equal(r.method, "lora");
    assert.ok(events.includes("examples") && events.includes("eval") && events.includes("checkpoint"));
    assert.ok(r.trainable < r.parameters / 4, `trainable ${r.trainable} of ${r.parameters}`);
    const first = r.settings && (await readCheckpoint(out)).state.history.train[0]!.loss;
    assert.ok(r.trainLoss < first * 0.8, `train loss ${first} → ${r.trainLoss}`);
    const ck = await readCheckpoint(out);
    const base = await readCheckpoint(baseRun);
    assert.ok(ck.adapter, "adapter.safetensors");
    assert.equal(ck.adapter.metadata["lora.alpha"], "8");
    assert.deepEqual(ck.adapter.tensors["layers.0.attention.wq.lora_a"]!.shape, [4, 32]);
    assert.deepEqual(ck.adapter.tensors["layers.1.feed_forward.w2.lora_b"]!.shape, [32, 4]);
    for (const [n, t] of Object.entries(base.stateDict)) assert.deepEqual(ck.stateDict[n]!.data, t.data, `${n} unchanged`);
    assert.ok(r.chart);
  });

  test("a resumed LoRA run ends bit-identical to an uninterrupted one (dropout on)", async () => {
    const common = { objective: "sft" as const, base: baseRun, data: sftData, method: "lora" as const, lora: { rank: 2, alpha: 4, dropout: 0.1 }, chart: false };
    const a = join(dir, "straight");
    await finetune({ ...common, runDir: a, train: { ...LORA_TRAIN, steps: 6, evalInterval: 3, checkpointInterval: 3 } });
    const b = join(dir, "halves");
    await finetune({ ...common, runDir: b, train: { ...LORA_TRAIN, steps: 6, evalInterval: 3, checkpointInterval: 3 }, signal: AbortSignal.abort() }).catch(() => {});
    const half = join(dir, "half");
    await finetune({ ...common, runDir: half, train: { ...LORA_TRAIN, steps: 6, evalInterval: 3, checkpointInterval: 3 }, onEvent: (e) => { if (e.type === "checkpoint" && e.step === 3) throw new Error("stop"); } }).catch(() => {});
    await finetune({ ...common, runDir: half, resume: true });
    const x = await readCheckpoint(a);
    const y = await readCheckpoint(half);
    assert.equal(y.step, 6);
    for (const [n, t] of Object.entries(x.adapter!.tensors)) assert.deepEqual(y.adapter!.tensors[n]!.data, t.data, n);
    assert.deepEqual(y.state.history.train.map((p) => p.loss), x.state.history.train.map((p) => p.loss));
  });

  test("early stop: the run ends once the validation loss has not improved for N evaluations", async () => {
    const events: Array<{ type: string; step?: number }> = [];
    const r = await finetune({ runDir: join(dir, "early"), objective: "sft", base: baseRun, data: sftData, method: "lora", lora: { rank: 4, alpha: 8 }, earlyStopPatience: 2, train: { ...LORA_TRAIN, lr: 0.5, minLr: 0.5, steps: 40, evalInterval: 1 }, chart: false, onEvent: (e) => events.push(e) });
    assert.equal(r.stoppedEarly, true);
    assert.ok(r.steps < 40, `stopped at ${r.steps}`);
    const vals = (await readCheckpoint(join(dir, "early"))).state.history.val.map((p) => p.loss);
    const best = vals.indexOf(Math.min(...vals));
    assert.equal(vals.length - 1 - best, 2, `val losses ${vals.map((v) => v.toFixed(3)).join(" ")}`);
    assert.ok(events.some((e) => e.type === "early-stop" && e.step === r.steps));
  });

  test("full SFT trains every weight", async () => {
    const out = join(dir, "sft-full");
    const r = await finetune({ runDir: out, objective: "sft", base: baseRun, data: sftData, method: "full", train: { ...LORA_TRAIN, lr: 3e-3, steps: 4 }, chart: false });
    assert.equal(r.trainable, r.parameters);
    const ck = await readCheckpoint(out);
    const base = await readCheckpoint(baseRun);
    assert.equal(ck.adapter, undefined);
    assert.notDeepEqual(ck.stateDict["layers.0.attention.wq.weight"]!.data, base.stateDict["layers.0.attention.wq.weight"]!.data);
  });

  test("DPO with LoRA: starts at log 2 (policy = reference), then prefers the chosen answers", async () => {
    const out = join(dir, "dpo");
    const r = await finetune({ runDir: out, objective: "dpo", base: baseRun, data: dpoData, method: "lora", lora: { rank: 4, alpha: 8, dropout: 0 }, beta: 0.5, train: { ...LORA_TRAIN, batchSize: 2, steps: 25, evalInterval: 25 }, chart: true });
    const ck = await readCheckpoint(out);
    assert.ok(Math.abs(ck.state.history.train[0]!.loss - Math.log(2)) < 1e-5, `first loss ${ck.state.history.train[0]!.loss}`);
    assert.ok(r.metrics, "metrics");
    assert.ok(r.metrics.accuracy! > 0.5, JSON.stringify(r.metrics));
    assert.ok(r.metrics.rewardMargin! > 0, JSON.stringify(r.metrics));
    assert.ok(r.valLoss < Math.log(2));
    const html = readFileSync(r.chart!, "utf8");
    assert.match(html, /Held-out metrics/);
    assert.match(html, /Held-out accuracy/);
  });

  test("full DPO keeps a frozen copy of the base as reference: starts at log 2, then the margin grows", async () => {
    const out = join(dir, "dpo-full");
    const r = await finetune({ runDir: out, objective: "dpo", base: baseRun, data: dpoData, method: "full", beta: 0.5, train: { ...LORA_TRAIN, lr: 3e-3, batchSize: 2, steps: 6, evalInterval: 6 }, chart: false });
    const ck = await readCheckpoint(out);
    assert.ok(Math.abs(ck.state.history.train[0]!.loss - Math.log(2)) < 1e-5);
    assert.equal(r.trainable, r.parameters);
    assert.ok(r.metrics!.rewardMargin! > 0, JSON.stringify(r.metrics));
  });

  test("refusals: rank above a layer's dimension, nothing left after filtering, SFT data for DPO", async () => {
    await assert.rejects(finetune({ runDir: join(dir, "r1"), objective: "sft", base: baseRun, data: sftData, lora: { rank: 33 }, chart: false }), isStrataError("INVALID_CONFIG", /rank 33 exceeds the dimension of layers\.0\.attention\.wq/));
    assert.equal(existsSync(join(dir, "r1")), false, "a refused run leaves no folder behind");
    await assert.rejects(finetune({ runDir: join(dir, "r2"), objective: "sft", base: baseRun, data: sftData, overlong: "drop", train: { blockSize: 8 }, chart: false }), isStrataError("DATASET_EMPTY", /no example is left/));
    await assert.rejects(finetune({ runDir: join(dir, "r3"), objective: "dpo", base: baseRun, data: sftData, chart: false }), isStrataError("USAGE", /not preference pairs/));
  });

  test("refusals of the base: another architecture (naming the supported ones), a foreign vocabulary, a tensor type it cannot read", async () => {
    const arch = join(dir, "arch.gguf");
    await writeTinyLlamaGguf(arch, { seed: 1, extraMetadata: [["general.architecture", { type: "string", value: "gpt2" }]] });
    await assert.rejects(finetune({ runDir: join(dir, "b1"), objective: "sft", base: `gguf:${arch}`, data: sftData, chart: false }), isStrataError("UNSUPPORTED_TYPE", /"llama" and "qwen2"/));
    const foreign = join(dir, "foreign.gguf");
    await writeTinyLlamaGguf(foreign, { seed: 1 });
    await assert.rejects(finetune({ runDir: join(dir, "b2"), objective: "sft", base: `gguf:${foreign}`, data: sftData, chart: false }), isStrataError("UNSUPPORTED_TYPE", /not laid out as Strata's tokenizer/));
    // A tensor type the importer cannot dequantize (IQ4_NL: 32 values in 18 bytes).
    const ck = await readCheckpoint(baseRun);
    const { tensors } = llamaGgufTensors(ck.run.model, ck.stateDict, "f32");
    const i = tensors.findIndex((t) => t.name === "blk.0.attn_q.weight");
    tensors[i] = { ...tensors[i]!, type: "IQ4_NL", data: new Uint8Array((tensors[i]!.dims[0]! * tensors[i]!.dims[1]! / 32) * 18) };
    const iq = join(dir, "iq.gguf");
    await writeGguf(iq, { metadata: [...llamaGgufModelMetadata(ck.run.model), ...llamaGgufTokenizerMetadata(ck.tokenizer, ck.run.model.vocab)], tensors });
    await assert.rejects(finetune({ runDir: join(dir, "b3"), objective: "sft", base: `gguf:${iq}`, data: sftData, chart: false }), isStrataError("UNSUPPORTED_TYPE", /blk\.0\.attn_q\.weight" is IQ4_NL/, /Q8_0/));
    assert.equal(existsSync(join(dir, "b1")) || existsSync(join(dir, "b2")) || existsSync(join(dir, "b3")), false);
  });
});
