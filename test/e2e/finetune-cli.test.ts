// The fine-tuning commands as a user runs them: pretrain a micro base, `strata train sft --method
// lora --json`, `strata export lora`, `strata export gguf --merge`, `strata train dpo`, and the
// refusals (a malformed line, a rank too large) as one-line
// errors that leave no run behind.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { jsonOf, strata } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";
import { writeText } from "../train/helpers.js";

const dir = tempDir("strata-ft-cli-");
const base = join(dir, "base");
const sft = join(dir, "sft.jsonl");
const pairs = join(dir, "pairs.jsonl");
const WORDS = ["cat", "dog", "sun", "owl", "fig", "ant"];

before(() => {
  const cfg = join(dir, "micro.json");
  writeFileSync(cfg, JSON.stringify({ model: { dim: 32, layers: 1, heads: 2, kvHeads: 1, ffnDim: 64, maxSeq: 64 }, train: { batchSize: 4, blockSize: 32, warmupSteps: 0, evalBatches: 1 } }));
  const r = strata(["train", "pretrain", "--data", writeText(dir, "t.txt", 4000), "--config", cfg, "--out", base, "--steps", "3", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(sft, WORDS.map((w) => JSON.stringify({ messages: [{ role: "user", content: w }, { role: "assistant", content: [...w].reverse().join("") }] })).join("\n") + "\n");
  writeFileSync(pairs, WORDS.map((w) => JSON.stringify({ prompt: w, chosen: [...w].reverse().join(""), rejected: w })).join("\n") + "\n");
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe("strata train sft / dpo and export lora", () => {
  test("sft --method lora --json, then export lora and export gguf --merge", () => {
    const out = join(dir, "run-sft");
    const r = strata(["train", "sft", "--base", `builtin:${base}`, "--data", sft, "--out", out, "--rank", "4", "--alpha", "8", "--steps", "3", "--batch", "2", "--lr", "1e-2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf<{ method: string; steps: number; examples: { train: number; val: number }; trainable: number; parameters: number; chart: string }>(r);
    assert.equal(j.method, "lora");
    assert.equal(j.steps, 3);
    assert.equal(j.examples.train + j.examples.val, WORDS.length);
    assert.ok(j.trainable < j.parameters);
    assert.ok(existsSync(j.chart));
    const a = strata(["export", "lora", out, "--out", join(dir, "a.gguf"), "--json"]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(jsonOf<{ rank: number }>(a).rank, 4);
    const plain = strata(["export", "gguf", out, "--out", join(dir, "m.gguf")]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /is a LoRA run/);
    assert.equal(existsSync(join(dir, "m.gguf")), false);
    const m = strata(["export", "gguf", out, "--merge", "--out", join(dir, "m.gguf"), "--json"]);
    assert.equal(m.code, 0, m.stderr);
  });

  test("dpo reports the held-out reward margin and preference accuracy", () => {
    const r = strata(["train", "dpo", "--base", base, "--data", pairs, "--out", join(dir, "run-dpo"), "--rank", "2", "--steps", "2", "--batch", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf<{ metrics: Record<string, number> }>(r);
    for (const k of ["rewardMargin", "accuracy", "chosenReward", "rejectedReward"]) assert.equal(typeof j.metrics[k], "number", k);
  });

  test("bad input: one-line errors naming the cause, and no run folder left", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `${JSON.stringify({ prompt: "a", completion: "b" })}\n${JSON.stringify({ prompt: "a", completion: 5 })}\n`);
    const cases: Array<[string[], RegExp]> = [
      [["train", "sft", "--base", base, "--data", bad], /line 2: field completion/],
      [["train", "sft", "--base", base, "--data", sft, "--rank", "64"], /rank 64 exceeds the dimension/],
    ];
    let i = 0;
    for (const [args, re] of cases) {
      const out = join(dir, `bad-${i++}`);
      const r = strata([...args, "--out", out]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).length, 1);
      assert.equal(existsSync(join(out, "run.json")), false, `${args.join(" ")} left a run behind`);
    }
  });
});
