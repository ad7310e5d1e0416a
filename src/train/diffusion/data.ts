// Training examples for the diffusion model: Fashion-MNIST images scaled to [−1, 1], a prompt row
// drawn among the phrasings of the image's class (or the null row, with probability condDropout),
// a timestep and Gaussian noise — all drawn from one generator, so a resumed run draws the same.

import type { LabelledImages } from "../../formats/idx.js";
import type { Rng } from "../../tensor/index.js";

export interface DiffusionBatch {
  /** [B, 1, side, side] clean images in [−1, 1]. */
  x0: Float32Array;
  noise: Float32Array;
  t: Int32Array;
  rows: Int32Array;
  labels: Int32Array;
  size: number;
}

export interface BatchSource {
  set: LabelledImages;
  /** Condition rows of each class. */
  rowsOfClass: number[][];
  nullRow: number;
  timesteps: number;
}

export function rowsByClass(classOf: readonly number[], classes: number): number[][] {
  const out = Array.from({ length: classes }, () => [] as number[]);
  classOf.forEach((c, row) => out[c]!.push(row));
  return out;
}

export function drawBatch(src: BatchSource, size: number, rng: Rng, condDropout: number): DiffusionBatch {
  const { set } = src;
  const per = set.rows * set.cols;
  const x0 = new Float32Array(size * per);
  const t = new Int32Array(size);
  const rows = new Int32Array(size);
  const labels = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const i = rng.int(set.count);
    const label = set.labels[i]!;
    labels[b] = label;
    for (let j = 0; j < per; j++) x0[b * per + j] = set.images[i * per + j]! / 127.5 - 1;
    const choices = src.rowsOfClass[label]!;
    const row = choices[rng.int(choices.length)]!;
    rows[b] = rng.uniform() < condDropout ? src.nullRow : row;
    t[b] = rng.int(src.timesteps);
  }
  const noise = rng.fillNormal(new Float32Array(size * per));
  return { x0, noise, t, rows, labels, size };
}
