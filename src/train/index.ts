// Pretraining: token datasets, AdamW, the learning-rate schedule, gradient clipping, memory checks,
// presets, the loss chart and the training loop. Checkpoints are written through src/formats/checkpoint.ts.
export { pretrain, type PretrainOptions, type PretrainResult, type TrainEvent, type TrainListener } from "./pretrain.js";
export { AdamW, type AdamWOptions, type NamedParameter, defaultDecay } from "./optimizer.js";
export { type LrSchedule, checkSchedule, learningRate } from "./schedule.js";
export { clipGradNorm, gradNorm } from "./clip.js";
export {
  type Batch, type BuildDatasetOptions, type DatasetManifest, type DatasetSource, type TokenRange, TOKENS_HEADER_BYTES, TOKENS_MAGIC, TOKENS_VERSION, TokenDataset,
  buildTokenDataset, sampleBatch, tokenizerHash,
} from "./dataset.js";
export { type MemoryEstimate, checkTrainingMemory, estimateTrainingMemory, formatBytes, systemMemoryLimit } from "./memory.js";
export { type ModelShape, type Preset, type PresetName, PRESETS, PRESET_NAMES, getPreset, isPresetName, presetParameters } from "./presets.js";
export { DEFAULT_TRAIN_SETTINGS, type TrainSettings, resolveSettings } from "./settings.js";
export { type ChartInput, renderLossChart } from "./chart.js";
export { finetune, type FinetuneEvent, type FinetuneMethod, type FinetuneObjective, type FinetuneOptions, type FinetuneResult } from "./finetune.js";
export { loadFinetuneBase, type FinetuneBase } from "./finetune-base.js";
export { DpoStepper, SftStepper, dpoLoss, sequenceLogProbs } from "./finetune-steppers.js";
export { type EncodedSummary, encodePreference, encodeSft, maskedConversation } from "./sft-data.js";
