// Named training configurations. `vocab` comes from the tokenizer, so a preset gives the rest of the
// model and the training settings, and the tokenizer it uses when none is given.
//
//   tiny   nanoGPT's CPU recipe for Shakespeare (4 layers, 4 heads, width 128, block 64, batch 12,
//          2000 steps, lr 1e-3 → 1e-4, warm-up 100, β2 0.99, weight decay 0.1, clip 1.0) as a llama
//          (RMSNorm, RoPE, SwiGLU with ffnDim 344) on bytes (vocab 261): 858,496 parameters. Trains
//          at ≈ 6,000 tokens/s on 2 idle cores: 1.5M tokens in ≈ 4–5 minutes (longer on a busy machine).
//   small  6 layers, 6 heads, width 192 (ffnDim 512), block 128, batch 16, on a 1,024-token BPE
//          vocabulary trained on the data: 3,049,920 parameters; 3,000 steps (6.1M tokens), about an
//          hour on 2 cores.
//
// `presetParameters(name, vocab)` gives the count for another vocabulary (src/nn countParameters).

import { StrataError } from "../core/errors.js";
import { type ModelShape, countParameters } from "../nn/index.js";
import type { TrainSettings } from "./settings.js";

export type { ModelShape };

export interface Preset {
  name: string;
  description: string;
  model: ModelShape;
  train: Partial<TrainSettings>;
  /** The tokenizer used when none is given: raw bytes (256 + 5 special tokens) or BPE trained on the data. */
  tokenizer: { kind: "bytes" } | { kind: "bpe"; vocab: number };
}

/** The preset names, for schemas that list them (the server's training runs). */
export const PRESET_NAMES = ["tiny", "small"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  tiny: {
    name: "tiny",
    description: "nanoGPT's CPU Shakespeare recipe as a byte-level llama: 4 layers, 4 heads, width 128, block 64, batch 12, 2000 steps (1.5M tokens): ≈ 4–5 minutes at 6,000 tokens/s on 2 idle cores, longer when busy; --steps for a shorter run",
    model: { dim: 128, layers: 4, heads: 4, kvHeads: 4, ffnDim: 344, maxSeq: 64, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false },
    train: { steps: 2000, batchSize: 12, blockSize: 64, gradAccum: 1, lr: 1e-3, minLr: 1e-4, warmupSteps: 100, weightDecay: 0.1, beta1: 0.9, beta2: 0.99, gradClip: 1.0, evalInterval: 250, evalBatches: 20, checkpointInterval: 500 },
    tokenizer: { kind: "bytes" },
  },
  small: {
    name: "small",
    description: "6 layers, 6 heads, width 192, block 128, batch 16, BPE vocabulary of 1024 trained on the data, 3000 steps; about an hour on 2 cores",
    model: { dim: 192, layers: 6, heads: 6, kvHeads: 6, ffnDim: 512, maxSeq: 128, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false },
    train: { steps: 3000, batchSize: 16, blockSize: 128, gradAccum: 1, lr: 1e-3, minLr: 1e-4, warmupSteps: 200, weightDecay: 0.1, beta1: 0.9, beta2: 0.99, gradClip: 1.0, evalInterval: 250, evalBatches: 20, checkpointInterval: 500 },
    tokenizer: { kind: "bpe", vocab: 1024 },
  },
};

export function isPresetName(s: string): s is PresetName {
  return Object.hasOwn(PRESETS, s);
}

export function getPreset(name: string): Preset {
  if (!isPresetName(name)) throw new StrataError("USAGE", `unknown preset "${name}"`, `use one of: ${Object.keys(PRESETS).join(", ")}, or a config .json file`);
  return PRESETS[name];
}

/** Parameters of a preset's model with a vocabulary of `vocab` tokens. */
export function presetParameters(name: PresetName, vocab: number): number {
  return countParameters({ ...PRESETS[name].model, vocab });
}
