// `strata train diffusion` and `strata generate image` as a user runs them: a tiny model trained for
// a few steps on a synthetic Fashion-MNIST-shaped folder; a PNG of the right size; the same seed
// gives the same file and another seed another; an unknown prompt is said so and generated
// unconditioned; steps of 0 or above the schedule, a language-model run and a missing dataset are
// refused with one line naming the cause and a hint.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decodePng } from "../../src/formats/png.js";
import { strata } from "../helpers/cli.js";
import { writeFashionLike } from "../helpers/fashion.js";
import { tempDir } from "../helpers/paths.js";

describe("strata train diffusion / generate image", () => {
  const root = tempDir("strata-cli-diff-");
  const data = writeFashionLike(join(root, "data"));
  const run = join(root, "run");
  const trained = strata(["train", "diffusion", "--config", "tiny", "--data", data, "--out", run, "--json"]);

  it("trains a tiny model with progress on stderr and one JSON document on stdout", () => {
    assert.equal(trained.code, 0, trained.stderr);
    const r = trained.json as { steps: number; checkpoint: string; samples: string };
    assert.equal(r.steps, 4);
    assert.match(trained.stderr, /step 4\/4: loss/);
    assert.match(r.samples, /samples\/step-4\.png$/);
  });

  it("writes a PNG; the same seed gives the same image, another seed another", () => {
    const out = (n: string) => join(root, n);
    const a = strata(["generate", "image", "an ankle boot", "--model", `builtin:${run}`, "--steps", "5", "--guidance", "3", "--seed", "1", "--out", out("a.png")]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /Ankle boot/);
    const b = strata(["generate", "image", "an ankle boot", "--model", `builtin:${run}`, "--steps", "5", "--guidance", "3", "--seed", "1", "--out", out("b.png")]);
    const c = strata(["generate", "image", "an ankle boot", "--model", `builtin:${run}`, "--steps", "5", "--guidance", "3", "--seed", "2", "--out", out("c.png")]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(readFileSync(out("a.png")), readFileSync(out("b.png")));
    assert.notDeepEqual(readFileSync(out("a.png")), readFileSync(out("c.png")));
    const png = decodePng(readFileSync(out("a.png")));
    assert.deepEqual([png.width, png.height], [28 * 4, 28 * 4]);
    const grid = strata(["generate", "image", "a dress", "--model", `builtin:${run}`, "--steps", "3", "--grid", "4", "--scale", "1", "--out", out("grid.png"), "--json"]);
    assert.equal(grid.code, 0, grid.stderr);
    assert.deepEqual((grid.json as { seeds: number[] }).seeds, [0, 1, 2, 3]);
    const g = decodePng(readFileSync(out("grid.png")));
    assert.deepEqual([g.width, g.height], [2 * 28 + 2, 2 * 28 + 2]);
  });

  it("an unknown prompt is said so and generated unconditioned", () => {
    const r = strata(["generate", "image", "a red sports car", "--model", `builtin:${run}`, "--steps", "3", "--out", join(root, "car.png"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /not trained on the prompt "a red sports car"; generating unconditioned/);
    const j = r.json as { known: boolean; guidance: number };
    assert.equal(j.known, false);
    assert.equal(j.guidance, 0);
  });

  it("steps of 0 or above the schedule are refused", () => {
    for (const steps of ["0", "101"]) {
      const r = strata(["generate", "image", "a dress", "--model", `builtin:${run}`, "--steps", steps, "--out", join(root, "x.png")]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /error: steps must be a whole number from 1 to 100 \(the model's training schedule has 100 timesteps\)/);
      assert.match(r.stderr, /hint: /);
    }
  });

  it("a language-model run and a gguf: model are refused as another kind of model", () => {
    const lm = join(root, "lm");
    mkdirSync(lm);
    writeFileSync(join(lm, "run.json"), JSON.stringify({ format: "strata-run", version: 1, model: {}, tokenizer: "tokenizer.json", train: {} }));
    const r = strata(["generate", "image", "a dress", "--model", `builtin:${lm}`, "--out", join(root, "x.png")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds a language-model \(llama\) run, not an image model/);
    const g = strata(["generate", "image", "a dress", "--model", "gguf:./x.gguf", "--out", join(root, "x.png")]);
    assert.match(g.stderr, /gguf: models cannot make images/);
  });

  it("a missing dataset names the apt command", () => {
    const r = strata(["train", "diffusion", "--config", "tiny", "--data", join(root, "none"), "--out", join(root, "run2")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: dataset file .*train-images-idx3-ubyte\.gz is missing/);
    assert.match(r.stderr, /hint: install it with `apt-get install dataset-fashion-mnist`/);
  });
});
