// The image-generation model of the engine: a small diffusion transformer, its noise schedule,
// prompts and samplers.
export { type DitConfig, ditConfigSchema, tokenCount, validateDitConfig } from "./config.js";
export { DiT, noiseImages } from "./dit.js";
export { type NoiseSchedule, noiseSchedule, timestepFeatures } from "./schedule.js";
export { FASHION_PROMPTS, normalizePrompt, promptRow, promptTable } from "./prompts.js";
export { type SampleOptions, type Sampler, sampleImages, samplingTimesteps } from "./sample.js";
