// Image generation with the engine's diffusion model: open a run written by `strata train
// diffusion` (builtin:<run dir>), match the prompt to the prompts it was trained on, and sample
// (src/nn/diffusion/sample.ts). A prompt the model does not know is said so in a warning and the
// image is generated unconditioned (the null condition), rather than refused.

import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { StrataError } from "../../core/errors.js";
import type { LongOperationOptions } from "../../core/events.js";
import { type DiffusionRun, readDiffusionCheckpoint, readDiffusionRun } from "../../formats/diffusion-run.js";
import { DiT, type Sampler, promptRow, sampleImages } from "../../nn/diffusion/index.js";
import { parseModelRef } from "../ref.js";

export interface ImageModel {
  run: DiffusionRun;
  model: DiT;
  /** The checkpoint's step and directory. */
  step: number;
  dir: string;
  runDir: string;
}

/** Opens `builtin:<run dir>` (or a bare run directory) of a diffusion run. */
export async function loadImageModel(ref: string, options: { step?: number } = {}): Promise<ImageModel> {
  let target = ref;
  if (/^[a-z]+:/.test(ref)) {
    const r = parseModelRef(ref);
    if (r.scheme !== "builtin") throw new StrataError("MODEL_UNSUPPORTED", `image generation runs on Strata's own engine; ${r.scheme}: models cannot make images`, "use --model builtin:<run dir> of a run trained with `strata train diffusion`");
    target = r.target;
  }
  const runDir = resolve(target);
  const run = await readDiffusionRun(runDir);
  const model = new DiT(run.model);
  const ck = await readDiffusionCheckpoint(runDir, model.namedParameters().map(([n, t]) => [n, [...t.shape]]), options.step !== undefined ? { step: options.step } : {});
  model.loadStateDict(ck.stateDict);
  return { run, model, step: ck.step, dir: ck.dir, runDir };
}

export interface ImageRequest extends LongOperationOptions {
  prompt: string;
  /** One image per seed. */
  seeds: readonly number[];
  steps: number;
  /** Classifier-free guidance scale: 0 unconditional, 1 conditional, above 1 stronger (default 3). */
  guidance?: number;
  sampler?: Sampler;
}

export interface ImageResult {
  /** [count, channels, side, side] in [−1, 1]. */
  pixels: Float32Array;
  count: number;
  side: number;
  channels: number;
  /** The condition row used (null: the prompt was unknown and the images are unconditioned). */
  row: number | null;
  /** The class the prompt names, when known. */
  className: string | null;
  warnings: string[];
  ms: number;
}

export function generateImages(m: ImageModel, req: ImageRequest): ImageResult {
  const t0 = performance.now();
  const warnings: string[] = [];
  const row = promptRow(m.run.prompts, req.prompt);
  if (row === null) {
    const examples = m.run.classes.map((_, c) => m.run.prompts[m.run.classOf.indexOf(c)]).slice(0, 4).join('", "');
    warnings.push(`the model was not trained on the prompt "${req.prompt}"; generating unconditioned images (it knows ${m.run.prompts.length} prompts, e.g. "${examples}")`);
  }
  if (req.seeds.length === 0) throw new StrataError("USAGE", "no seeds given", "pass at least one seed");
  const rows = req.seeds.map(() => row ?? m.model.nullRow);
  const pixels = sampleImages(m.model, {
    rows, seeds: req.seeds, steps: req.steps, guidance: row === null ? 0 : (req.guidance ?? 3), sampler: req.sampler ?? "ddim",
    ...(req.signal ? { signal: req.signal } : {}), ...(req.onProgress ? { onProgress: req.onProgress } : {}),
  });
  const c = m.run.model;
  return { pixels, count: req.seeds.length, side: c.image, channels: c.channels, row, className: row === null ? null : m.run.classes[m.run.classOf[row]!]!, warnings, ms: performance.now() - t0 };
}
