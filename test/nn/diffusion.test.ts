// The diffusion model's schedule, prompts and samplers: the schedule has the documented shape,
// timesteps are refused outside 1…T, the same seed gives the same image, DDIM is deterministic and
// DDPM is not, and guidance 0 ignores the prompt.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DiT, type DitConfig, FASHION_PROMPTS, noiseSchedule, promptRow, promptTable, sampleImages, samplingTimesteps } from "../../src/nn/diffusion/index.js";
import { isStrataError } from "../helpers/errors.js";

const config: DitConfig = { image: 8, channels: 1, patch: 4, dim: 16, depth: 1, heads: 2, mlpRatio: 2, freqDim: 8, prompts: 3, timesteps: 40, schedule: "cosine" };

function trainedLike(): DiT {
  const m = new DiT(config, { seed: 3 });
  // Non-zero weights everywhere (a fresh model's adaLN-Zero output is 0 and ignores its inputs).
  let s = 1;
  for (const [, p] of m.namedParameters()) for (let i = 0; i < p.size; i++) p.data[i] = (((s = (s * 16807) % 2147483647) / 2147483647) - 0.5) * 0.6;
  return m;
}

describe("noise schedules", () => {
  it("ᾱ falls from near 1 to near 0; cosine keeps more signal early than linear", () => {
    for (const kind of ["cosine", "linear"] as const) {
      const { alphaBar, betas } = noiseSchedule(kind, 1000);
      assert.ok(alphaBar[0]! > 0.999 && alphaBar[999]! < 0.001, `${kind}: ${alphaBar[0]} … ${alphaBar[999]}`);
      for (let t = 1; t < 1000; t++) assert.ok(alphaBar[t]! < alphaBar[t - 1]!);
      assert.ok(betas.every((b) => b > 0 && b <= 0.999));
    }
    assert.ok(noiseSchedule("cosine", 1000).alphaBar[500]! > noiseSchedule("linear", 1000).alphaBar[500]!);
  });

  it("sampling timesteps run from T−1 down to 0; 0 steps and more than T are refused", () => {
    assert.deepEqual(samplingTimesteps(1000, 5), [999, 749, 500, 250, 0]);
    assert.deepEqual(samplingTimesteps(10, 10), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert.throws(() => samplingTimesteps(1000, 0), isStrataError("USAGE", /from 1 to 1000/));
    assert.throws(() => samplingTimesteps(1000, 1001), isStrataError("USAGE", /training schedule has 1000 timesteps/));
  });
});

describe("prompts", () => {
  it("every class has phrasings; matching ignores case, spaces and a full stop; others are unknown", () => {
    const { prompts, classOf } = promptTable(FASHION_PROMPTS);
    assert.equal(new Set(classOf).size, 10);
    assert.equal(classOf[promptRow(prompts, "  An Ankle  Boot. ")!], 9);
    assert.equal(classOf[promptRow(prompts, "a dress")!], 3);
    assert.equal(promptRow(prompts, "a car"), null);
  });
});

describe("sampling", () => {
  it("the same seed gives the same image; another seed another image", () => {
    const m = trainedLike();
    const a = sampleImages(m, { rows: [0], seeds: [7], steps: 5, guidance: 3 });
    const b = sampleImages(m, { rows: [0], seeds: [7], steps: 5, guidance: 3 });
    const c = sampleImages(m, { rows: [0], seeds: [8], steps: 5, guidance: 3 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.every((v) => v >= -1 - 1e-6 && v <= 1 + 1e-6), "images stay in [−1, 1]");
  });

  it("DDPM adds noise at each step (differs from DDIM) but is repeatable by seed", () => {
    const m = trainedLike();
    const ddim = sampleImages(m, { rows: [1], seeds: [2], steps: 6 });
    const ddpm = sampleImages(m, { rows: [1], seeds: [2], steps: 6, sampler: "ddpm" });
    assert.notDeepEqual(ddim, ddpm);
    assert.deepEqual(ddpm, sampleImages(m, { rows: [1], seeds: [2], steps: 6, sampler: "ddpm" }));
  });

  it("guidance 0 ignores the prompt; guidance 1 and 3 follow it", () => {
    const m = trainedLike();
    const g0a = sampleImages(m, { rows: [0], seeds: [4], steps: 4, guidance: 0 });
    const g0b = sampleImages(m, { rows: [2], seeds: [4], steps: 4, guidance: 0 });
    assert.deepEqual(g0a, g0b);
    const g1a = sampleImages(m, { rows: [0], seeds: [4], steps: 4, guidance: 1 });
    const g1b = sampleImages(m, { rows: [2], seeds: [4], steps: 4, guidance: 1 });
    assert.notDeepEqual(g1a, g1b);
    assert.notDeepEqual(sampleImages(m, { rows: [0], seeds: [4], steps: 4, guidance: 3 }), g1a);
  });

  it("refuses negative guidance and a seed count that does not match", () => {
    const m = trainedLike();
    assert.throws(() => sampleImages(m, { rows: [0], seeds: [1], steps: 2, guidance: -1 }), isStrataError("USAGE", /guidance/));
    assert.throws(() => sampleImages(m, { rows: [0, 1], seeds: [1], steps: 2 }), isStrataError("USAGE", /seeds/));
  });
});
