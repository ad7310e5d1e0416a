// `strata train tokenizer` and `strata train pretrain` as a user runs them (the built CLI in a child
// process): train a tokenizer, pretrain a few steps, resume to continue the step count, the --json
// contract, the bad-input refusals (exit 1 with error/hint) and bad flags (exit 2).
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jsonOf, strata } from "../helpers/cli.js";
import { cliPath, tempDir } from "../helpers/paths.js";
import { sampleText } from "../train/helpers.js";

const built = existsSync(cliPath());
const skip = built ? false : "the CLI is not built (run `npm run build`)";

interface PretrainJson {
  steps: number;
  trainLoss: number;
  valLoss: number;
  valPerplexity: number;
  tokensPerSecond: number;
  checkpoint: string;
  chart: string;
  startStep: number;
  parameters: number;
}

describe("strata train (CLI)", { skip }, () => {
  let dir: string;
  let text: string;
  let config: string;
  before(() => {
    dir = tempDir("strata-cli-train-");
    text = join(dir, "text.txt");
    writeFileSync(text, sampleText(15_000));
    config = join(dir, "micro.json");
    writeFileSync(config, JSON.stringify({ model: { dim: 16, layers: 1, heads: 2, ffnDim: 32, maxSeq: 16 }, train: { batchSize: 4, blockSize: 16, warmupSteps: 1, evalBatches: 2, evalInterval: 2 } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("trains a tokenizer (--json contract)", () => {
    const r = strata(["train", "tokenizer", "--data", text, "--vocab", "300", "--out", join(dir, "tok.json"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf<{ out: string; vocabSize: number; learnedTokens: number; bytes: number; warnings: string[] }>(r);
    assert.equal(j.vocabSize, 300);
    assert.equal(j.learnedTokens, 300 - 256 - 5);
    assert.ok(existsSync(join(dir, "tok.json")));
  });

  it("pretrains a few steps with that tokenizer, then --resume continues the step count", () => {
    const out = join(dir, "run");
    const r = strata(["train", "pretrain", "--data", text, "--config", config, "--tokenizer", join(dir, "tok.json"), "--out", out, "--steps", "3", "--seed", "5", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf<PretrainJson>(r);
    assert.deepEqual(Object.keys(j).slice(0, 7), ["steps", "trainLoss", "valLoss", "valPerplexity", "tokensPerSecond", "checkpoint", "chart"]);
    assert.equal(j.steps, 3);
    assert.equal(j.startStep, 0);
    for (const k of ["trainLoss", "valLoss", "valPerplexity", "tokensPerSecond"] as const) assert.ok(Number.isFinite(j[k]) && j[k] > 0, k);
    assert.ok(Math.abs(j.valPerplexity - Math.exp(j.valLoss)) < 1e-9);
    assert.equal(j.checkpoint, join(out, "checkpoints", "step-3"));
    assert.ok(existsSync(join(j.checkpoint, "model.safetensors")) && existsSync(j.chart));
    assert.match(r.stderr, /eval at step 2: train loss/, "progress lines go to stderr");
    assert.match(r.stderr, /step 1\/3: loss [\d.]+, lr \S+, [\d,]+ tok\/s, eta \d+s/, "each progress line carries rate and ETA");
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { format: string; model: { vocab: number; kvHeads: number }; train: { seed: number } };
    assert.equal(run.format, "strata-run");
    assert.equal(run.model.vocab, 300);
    assert.equal(run.model.kvHeads, 2);
    assert.equal(run.train.seed, 5);

    const again = strata(["train", "pretrain", "--out", out, "--resume", "--steps", "5", "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const k = jsonOf<PretrainJson>(again);
    assert.equal(k.startStep, 3);
    assert.equal(k.steps, 5);
    assert.match(again.stderr, /resuming at step 3/);
    assert.equal(readFileSync(join(out, "checkpoints", "latest"), "utf8").trim(), "step-5");

    // Starting over the same folder without --resume is refused.
    const over = strata(["train", "pretrain", "--data", text, "--config", config, "--out", out, "--steps", "2"]);
    assert.equal(over.code, 2);
    assert.match(over.stderr, /already holds a training run/);
    assert.match(over.stderr, /hint: continue it with --resume/);

    // Resuming with another model shape names the difference.
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ model: { dim: 32, layers: 1, heads: 2, ffnDim: 32, maxSeq: 16 } }));
    const shape = strata(["train", "pretrain", "--out", out, "--resume", "--config", other, "--steps", "6"]);
    assert.equal(shape.code, 1);
    assert.match(shape.stderr, /error: the checkpoint in .* is of another model shape \(stored → requested: dim 16 → 32\)/);

    // A damaged checkpoint is a clear error, not a crash.
    const model = join(out, "checkpoints", "step-5", "model.safetensors");
    truncateSync(model, 100);
    const bad = strata(["train", "pretrain", "--out", out, "--resume", "--steps", "6"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: checkpoint file .*model\.safetensors: /);
    assert.match(bad.stderr, /hint: /);
  });

  it("the tiny preset trains on bytes by default", () => {
    const r = strata(["train", "pretrain", "--data", text, "--config", "tiny", "--out", join(dir, "tiny"), "--steps", "1", "--eval-every", "1", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf<PretrainJson>(r);
    assert.equal(j.parameters, 858_496);
    assert.ok(j.valLoss > 4 && j.valLoss < 6.5, `untrained byte model: ${j.valLoss}`);
  });

  it("refuses bad input with error and hint (exit 1)", () => {
    const latin1 = join(dir, "latin1.txt");
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    const cases: Array<[string[], RegExp]> = [
      [["--data", latin1], /not UTF-8 text \(byte 0xe9 at offset 3/],
      [["--data", empty], /is empty/],
      [["--data", text, "--vocab", "100000"], /the training data supports at most \d+ tokens/],
      [["--data", text, "--memory-limit", "1MB"], /needs about .* but the limit is 1\.0 MiB/],
    ];
    for (const [args, re] of cases) {
      const r = strata(["train", "pretrain", "--config", config, "--out", join(dir, `bad-${Math.random().toString(36).slice(2)}`), "--steps", "1", ...args, "--json"]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /hint: /);
      const j = jsonOf<{ error: { code: string } }>(r);
      assert.ok(j.error.code);
    }
    const tok = strata(["train", "tokenizer", "--data", latin1, "--vocab", "300", "--out", join(dir, "t2.json")]);
    assert.equal(tok.code, 1);
    assert.match(tok.stderr, /not UTF-8/);
  });

  it("bad flags are usage errors (exit 2), --help shows examples and presets", () => {
    const cases: string[][] = [
      ["train", "pretrain", "--bogus"],
      ["train", "pretrain", "--data", text, "--config", "tiny"],
      ["train", "pretrain", "--data", text, "--out", join(dir, "x")],
      ["train", "pretrain", "--data", text, "--config", "huge", "--out", join(dir, "x")],
      ["train", "pretrain", "--data", text, "--config", "tiny", "--out", join(dir, "x"), "--steps", "abc"],
      ["train", "pretrain", "--data", text, "--config", "tiny", "--out", join(dir, "x"), "--device", "tpu"], // "gpu" is a device now (test/e2e/cli-gpu.test.ts)
      ["train", "pretrain", "--data", text, "--config", "tiny", "--out", join(dir, "x"), "--tokenizer", "a.json", "--vocab", "300"],
      ["train", "pretrain", "--data", text, "--config", "tiny", "--out", join(dir, "x"), "--lr", "-1"],
      ["train", "tokenizer", "--data", text, "--out", join(dir, "t.json")],
      ["train", "tokenizer", "--data", text, "--vocab", "10", "--out", join(dir, "t.json")],
    ];
    for (const args of cases) {
      const r = strata(args);
      assert.equal(r.code, 2, `${args.slice(2).join(" ")}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /error: /);
    }
    const h = strata(["train", "pretrain", "--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Examples:\n {2}strata train pretrain --data/);
    assert.match(h.stdout, /tiny .*858,496 parameters/);
    assert.match(strata(["train", "tokenizer", "--help"]).stdout, /Example:/);
  });
});
