// Run directories and checkpoints: the round trip, `latest` and crash leftovers, and every way a
// checkpoint can be wrong — foreign, newer, truncated, damaged, incomplete, another model shape.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import {
  type TrainState, assertSameModel, cleanCheckpointLeftovers, latestStep, listCheckpoints, llamaParameterShapes, pruneCheckpoints, readCheckpoint, readRunConfig,
  writeCheckpoint, writeRunConfig,
} from "../../src/formats/checkpoint.js";
import { writeSafetensors } from "../../src/formats/safetensors/index.js";
import { Llama, type LlamaConfig } from "../../src/nn/index.js";
import { Rng } from "../../src/tensor/index.js";
import { Tokenizer } from "../../src/tokenizer/index.js";
import { tempDir } from "../helpers/paths.js";

const tok = new Tokenizer({ merges: [] });
const config: LlamaConfig = { vocab: tok.vocabSize, dim: 8, layers: 2, heads: 2, kvHeads: 1, ffnDim: 12, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

function state(step: number): TrainState {
  return { format: "strata-train-state", version: 1, step, rng: new Rng(step).state(), data: { samples: step * 4, tokens: step * 64 }, lr: 1e-3, history: { train: [{ step, loss: 2.5, lr: 1e-3 }], val: [{ step, loss: 2.6, perplexity: Math.exp(2.6), trainLoss: 2.5 }] }, elapsedMs: 10 };
}

const code = (c: string, re?: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof StrataError, String(e));
  assert.equal(e.code, c, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

describe("checkpoints", () => {
  let dir: string;
  let run: string;
  let model: Llama;
  beforeEach(async () => {
    dir = tempDir("strata-ckpt-");
    run = join(dir, "run");
    model = new Llama(config, { seed: 3 });
    await writeRunConfig(run, { model: config, train: { steps: 10, lr: 1e-3 } }, tok);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const save = (step: number, m = model) =>
    writeCheckpoint(run, { stateDict: m.stateDict(), optimizer: { metadata: { type: "adamw", step: String(step) }, tensors: { "x.exp_avg": { shape: [2], data: Float32Array.of(1, 2) } } }, state: state(step) });

  it("names parameters as src/nn does, for plain, grouped-query, tied and mixture-of-experts models", () => {
    for (const c of [config, { ...config, kvHeads: 2 }, { ...config, tieEmbeddings: true }, { ...config, moe: { experts: 3, topK: 2 } }]) {
      const m = new Llama(c, { seed: 1 });
      assert.deepEqual(llamaParameterShapes(c), m.namedParameters().map(([n, t]) => [n, [...t.shape]]));
    }
  });

  it("round-trips weights, optimizer state, train state, run config and tokenizer; latest names the newest", async () => {
    await save(2);
    const r = await save(5);
    assert.equal(r.dir, join(run, "checkpoints", "step-5"));
    assert.equal(readFileSync(join(run, "checkpoints", "latest"), "utf8"), "step-5\n");
    const ck = await readCheckpoint(run, { optimizer: true });
    assert.equal(ck.step, 5);
    assert.deepEqual(ck.run.model, config);
    assert.deepEqual(ck.run.train, { steps: 10, lr: 1e-3 });
    assert.equal(ck.tokenizer.vocabSize, tok.vocabSize);
    assert.deepEqual(ck.state, state(5));
    assert.deepEqual(ck.stateDict, model.stateDict());
    assert.deepEqual(ck.optimizer, { metadata: { type: "adamw", step: "5" }, tensors: { "x.exp_avg": { shape: [2], data: Float32Array.of(1, 2) } } });
    const m2 = new Llama(ck.run.model, { seed: 99 });
    m2.loadStateDict(ck.stateDict);
    assert.equal((await readCheckpoint(run, { step: 2 })).step, 2);
    assert.equal((await readCheckpoint(run)).optimizer, undefined, "optimizer only when asked");
    assert.deepEqual(await listCheckpoints(run), [2, 5]);
    assert.equal(await latestStep(run), 5);
    assert.deepEqual(await pruneCheckpoints(run, 1), [2]);
    assert.deepEqual(await listCheckpoints(run), [5]);
    assert.deepEqual((await readRunConfig(run)).model, config);
  });

  it("a crash mid-write leaves latest on the previous complete checkpoint; leftovers are cleaned", async () => {
    await save(1);
    // What a crash after writing part of step 2 leaves: a temporary directory, a temporary latest.
    mkdirSync(join(run, "checkpoints", ".step-2.tmp-123-abc"));
    writeFileSync(join(run, "checkpoints", ".step-2.tmp-123-abc", "model.safetensors"), "partial");
    writeFileSync(join(run, "checkpoints", "latest.tmp-123-abc"), "step-2");
    assert.equal((await readCheckpoint(run)).step, 1);
    await cleanCheckpointLeftovers(run);
    assert.deepEqual(await listCheckpoints(run), [1]);
    // Saving the same step again replaces it whole.
    const other = new Llama(config, { seed: 4 });
    await save(1, other);
    assert.deepEqual((await readCheckpoint(run)).stateDict, other.stateDict());
  });

  it("refuses to save weights of another shape, and a run.json of another shape over an existing run", async () => {
    const other = new Llama({ ...config, dim: 16 }, { seed: 1 });
    await assert.rejects(save(1, other), code("STATE_DICT_MISMATCH", /tok_embeddings\.weight has shape \[261, 16\] but the model in run\.json needs \[261, 8\]/));
    await assert.rejects(writeRunConfig(run, { model: { ...config, layers: 3 }, train: {} }), code("STATE_DICT_MISMATCH", /layers 2 → 3/));
    assert.throws(() => assertSameModel("r", config, { ...config, heads: 4, kvHeads: 2, moe: { experts: 2, topK: 1 } }), code("STATE_DICT_MISMATCH", /heads 2 → 4, kvHeads 1 → 2, moe none → 2×top1/));
  });

  describe("bad run directories and checkpoints", () => {
    it("a missing folder, a folder without run.json, a run without checkpoints, a missing step", async () => {
      await assert.rejects(readCheckpoint(join(dir, "nope")), code("NOT_FOUND", /does not exist/));
      mkdirSync(join(dir, "empty"));
      await assert.rejects(readCheckpoint(join(dir, "empty")), code("CHECKPOINT_INVALID", /not a Strata run directory \(it has no run\.json\)/));
      await assert.rejects(readCheckpoint(run), code("NOT_FOUND", /has no checkpoint yet/));
      await save(3);
      await assert.rejects(readCheckpoint(run, { step: 4 }), (e: unknown) => code("NOT_FOUND", /no checkpoint of step 4/)(e) && /steps with a checkpoint: 3/.test((e as StrataError).hint));
    });

    it("a foreign run.json, a newer one, and one with an invalid model", async () => {
      const p = join(run, "run.json");
      writeFileSync(p, JSON.stringify({ architectures: ["LlamaForCausalLM"], hidden_size: 8 }));
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /not a Strata strata-run file/));
      writeFileSync(p, JSON.stringify({ format: "strata-run", version: 2, model: config, tokenizer: "tokenizer.json", train: {} }));
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_TOO_NEW", /format version 2; this Strata reads version 1/));
      writeFileSync(p, JSON.stringify({ format: "strata-run", version: 1, model: { ...config, heads: 3 }, tokenizer: "tokenizer.json", train: {} }));
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /dim 8 is not divisible by heads 3/));
      writeFileSync(p, "{ not json");
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /not valid JSON/));
    });

    it("a latest that names nothing valid", async () => {
      await save(1);
      writeFileSync(join(run, "checkpoints", "latest"), "../../etc/passwd");
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /does not name a step directory/));
    });

    it("a truncated model file", async () => {
      await save(1);
      const p = join(run, "checkpoints", "step-1", "model.safetensors");
      truncateSync(p, readFileSync(p).length - 100);
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /model\.safetensors: tensor .* ends at byte \d+ of a data buffer/));
    });

    it("a damaged model file (header bytes overwritten)", async () => {
      await save(1);
      const p = join(run, "checkpoints", "step-1", "model.safetensors");
      const b = readFileSync(p);
      b.fill(0xff, 0, 8);
      writeFileSync(p, b);
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /exceeds the 100 MB/));
    });

    it("a foreign safetensors file (no Strata metadata), a newer one, and one of another shape", async () => {
      await save(1);
      const p = join(run, "checkpoints", "step-1", "model.safetensors");
      await writeSafetensors(p, model.stateDict(), { metadata: { format: "pt" } });
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /not a Strata strata-model file/));
      await writeSafetensors(p, model.stateDict(), { metadata: { "strata.format": "strata-model", "strata.version": "7", "strata.step": "1" } });
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_TOO_NEW", /format version 7/));
      const bigger = new Llama({ ...config, ffnDim: 16 }, { seed: 1 });
      await writeSafetensors(p, bigger.stateDict(), { metadata: { "strata.format": "strata-model", "strata.version": "1", "strata.step": "1" } });
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /layers\.0\.feed_forward\.w1\.weight has shape \[16, 8\] but the model in run\.json needs \[12, 8\]/));
      const { "norm.weight": _dropped, ...missing } = model.stateDict();
      await writeSafetensors(p, missing, { metadata: { "strata.format": "strata-model", "strata.version": "1", "strata.step": "1" } });
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /lacks parameter norm\.weight/));
      await writeSafetensors(p, model.stateDict(), { metadata: { "strata.format": "strata-model", "strata.version": "1", "strata.step": "9" } });
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /says step 9, but it is in the directory of step 1/));
    });

    it("a missing, newer or damaged state.json, and a missing optimizer file when asked for", async () => {
      await save(1);
      const p = join(run, "checkpoints", "step-1", "state.json");
      writeFileSync(p, JSON.stringify({ ...state(1), version: 3 }));
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_TOO_NEW"));
      writeFileSync(p, JSON.stringify({ ...state(1), rng: { s: [1, 2, 3], spareNormal: null } }));
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /state\.json: rng\.s/));
      rmSync(p);
      await assert.rejects(readCheckpoint(run), code("CHECKPOINT_INVALID", /state\.json: is missing: the checkpoint is incomplete/));
      await save(2);
      rmSync(join(run, "checkpoints", "step-2", "optimizer.safetensors"));
      await readCheckpoint(run);
      await assert.rejects(readCheckpoint(run, { optimizer: true }), code("CHECKPOINT_INVALID", /optimizer\.safetensors: is missing/));
    });

    it("a tokenizer that does not match the model's vocabulary", async () => {
      await save(1);
      writeFileSync(join(run, "tokenizer.json"), readFileSync(join(run, "tokenizer.json"), "utf8").replace('"format": "strata.tokenizer"', '"format": "hf"'));
      await assert.rejects(readCheckpoint(run), code("TOKENIZER_INVALID"));
      await assert.rejects(writeRunConfig(join(dir, "r2"), { model: { ...config, vocab: 300 }, train: {} }, tok), code("INVALID_CONFIG", /261 tokens but the model config has vocab 300/));
    });
  });
});
