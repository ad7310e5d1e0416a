// Small text and model shapes for training tests: fast enough to train a few steps in milliseconds.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/tensor/index.js";
import type { ModelShape, TrainSettings } from "../../src/train/index.js";

const WORDS = ["the", "king", "queen", "shall", "speak", "of", "love", "and", "war", "my", "lord", "good", "night", "to", "be", "or", "not", "thou", "art", "sweet"];

/** Deterministic English-like lines (about `bytes` long). */
export function sampleText(bytes: number, seed = 1): string {
  const rng = new Rng(seed);
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    const words = Array.from({ length: 3 + rng.int(8) }, () => WORDS[rng.int(WORDS.length)]!);
    const line = words.join(" ").replace(/^./, (c) => c.toUpperCase()) + (rng.int(3) === 0 ? "?" : ".");
    lines.push(line);
    n += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

export function writeText(dir: string, name: string, bytes: number, seed = 1): string {
  const p = join(dir, name);
  writeFileSync(p, sampleText(bytes, seed));
  return p;
}

export const MICRO_MODEL: ModelShape = { dim: 16, layers: 2, heads: 2, kvHeads: 1, ffnDim: 32, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

export const MICRO_TRAIN: Partial<TrainSettings> = {
  steps: 8,
  batchSize: 4,
  blockSize: 16,
  lr: 3e-3,
  minLr: 3e-4,
  warmupSteps: 2,
  evalInterval: 4,
  evalBatches: 2,
  checkpointInterval: 4,
  seed: 7,
};
