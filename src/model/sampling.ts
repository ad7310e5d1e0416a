// Sampling: from a model's next-token logits to one token id, and the stop conditions of a
// generation. The one implementation for Strata's own engine (the builtin: provider); llama.cpp
// keeps its own sampler, fed from the same `SamplingOptions`.
//
// A token is chosen in this order (Hugging Face's and OpenAI's reading of the options):
//   1. repetition penalty  — every distinct token among the last `penaltyWindow` ids (prompt and
//      generated alike) has its logit divided by the penalty when positive and multiplied by it when
//      negative (CTRL's rule, as llama.cpp applies it); 1 = off.
//   2. temperature 0       — greedy: the largest logit, the lowest id on ties. Nothing is random.
//   3. temperature t > 0   — logits / t, then
//   4. top-k               — keep the k largest (0 = off), then softmax over what is left,
//   5. top-p               — keep the smallest set of most probable tokens whose probabilities sum
//      to at least p (1 = off), renormalised,
//   6. draw one token with the seeded Rng (xoshiro128**): a seed always gives the same tokens.
// Unset options mean greedy, no cut and no penalty; an unset seed is 0, so generation is
// deterministic by default (house rule), not random per call.
//
// Stop sequences are matched on the decoded text, not on tokens, so a stop string split across
// several tokens (or inside one) is found: `StopSequenceMatcher` holds back text that might still
// become a stop string and releases it once it cannot.
import { StrataError } from "../core/errors.js";
import { Rng } from "../core/random.js";
import type { SamplingOptions } from "./types.js";

/** How far back the repetition penalty looks (llama.cpp's default window). */
export const PENALTY_WINDOW = 64;

/** Validated sampling settings, every option resolved. */
export interface SamplerSettings {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 1 = off. */
  repetitionPenalty: number;
  /** Ids of the recent history the penalty looks at. */
  penaltyWindow: number;
  seed: number;
}

/** Checks the sampling options of a request (USAGE errors naming the option) and fills in defaults. */
export function resolveSampling(o: SamplingOptions & { penaltyWindow?: number }): SamplerSettings {
  const bad = (name: string, value: unknown, rule: string): never => {
    throw new StrataError("USAGE", `${name} ${String(value)} is out of range: ${rule}`, `fix ${name} in the request`);
  };
  if (o.temperature !== undefined && !(o.temperature >= 0 && o.temperature <= 100)) bad("temperature", o.temperature, "use 0 (greedy) or more");
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) bad("topK", o.topK, "use a whole number ≥ 0 (0 = off)");
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad("topP", o.topP, "use a number in (0, 1]");
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) bad("seed", o.seed, "use a whole number from 0 to 4294967295");
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0 && Number.isFinite(o.repetitionPenalty))) bad("repetitionPenalty", o.repetitionPenalty, "use a number > 0 (1 = off)");
  if (o.maxTokens !== undefined && !(Number.isInteger(o.maxTokens) && o.maxTokens >= 1)) bad("maxTokens", o.maxTokens, "use a whole number ≥ 1");
  if (o.penaltyWindow !== undefined && !(Number.isInteger(o.penaltyWindow) && o.penaltyWindow >= 0)) bad("penaltyWindow", o.penaltyWindow, "use a whole number ≥ 0");
  checkStops(o.stop);
  return {
    temperature: o.temperature ?? 0,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    repetitionPenalty: o.repetitionPenalty ?? 1,
    penaltyWindow: o.penaltyWindow ?? PENALTY_WINDOW,
    seed: o.seed ?? 0,
  };
}

function checkStops(stop: unknown): void {
  if (stop === undefined) return;
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== "string" || s.length === 0)) {
    throw new StrataError("USAGE", "stop must be a list of non-empty strings", 'e.g. stop: ["\\n\\n"]');
  }
}

/** The tokens still possible after the cuts, most probable first, with their probabilities (summing to 1). */
export interface Candidates {
  ids: Int32Array;
  probs: Float64Array;
}

/** Applies the repetition penalty to a copy of `logits` (the input is not changed). */
export function penalize(logits: Float32Array, history: readonly number[], penalty: number, window = PENALTY_WINDOW): Float32Array {
  const out = Float32Array.from(logits);
  if (penalty === 1 || window === 0) return out;
  const seen = new Set<number>();
  for (let i = Math.max(0, history.length - window); i < history.length; i++) {
    const id = history[i]!;
    if (seen.has(id) || id < 0 || id >= out.length) continue;
    seen.add(id);
    const v = out[id]!;
    out[id] = v > 0 ? v / penalty : v * penalty;
  }
  return out;
}

/** Index of the largest value; the lowest index on ties. NaN never wins. */
export function argmax(x: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * The distribution a token is drawn from: temperature, top-k and top-p applied to (already
 * penalized) logits. Temperature 0 gives the argmax alone with probability 1.
 */
export function candidates(logits: Float32Array, s: Pick<SamplerSettings, "temperature" | "topK" | "topP">): Candidates {
  const V = logits.length;
  if (V === 0) throw new StrataError("INTERNAL", "sampling from an empty vocabulary");
  if (s.temperature === 0) return { ids: Int32Array.of(argmax(logits)), probs: Float64Array.of(1) };
  // Most probable first; ties keep the lower id first, so the order (and the draw) is reproducible.
  let ids = Array.from({ length: V }, (_, i) => i).filter((i) => !Number.isNaN(logits[i]!));
  if (ids.length === 0) throw new StrataError("INTERNAL", "every logit is NaN", "the model's weights are broken (NaN); retrain or re-export it");
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (s.topK > 0 && s.topK < ids.length) ids = ids.slice(0, s.topK);
  const inv = 1 / s.temperature;
  const max = logits[ids[0]!]! * inv;
  const probs = new Float64Array(ids.length);
  let sum = 0;
  for (let i = 0; i < ids.length; i++) {
    const p = Math.exp(logits[ids[i]!]! * inv - max);
    probs[i] = p;
    sum += p;
  }
  let n = ids.length;
  if (s.topP < 1) {
    let mass = 0;
    for (let i = 0; i < ids.length; i++) {
      mass += probs[i]! / sum;
      if (mass >= s.topP) {
        n = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < n; i++) kept += probs[i]!;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = probs[i]! / kept;
  return { ids: Int32Array.from(ids.slice(0, n)), probs: out };
}

/** Chooses next tokens for one generation; holds the seeded random stream. */
export class Sampler {
  readonly settings: SamplerSettings;
  private readonly rng: Rng;

  constructor(options: SamplingOptions & { penaltyWindow?: number } = {}) {
    this.settings = resolveSampling(options);
    this.rng = new Rng(this.settings.seed);
  }

  /** The distribution the next token is drawn from, given the logits and the ids so far (prompt included). */
  distribution(logits: Float32Array, history: readonly number[] = []): Candidates {
    const s = this.settings;
    return candidates(penalize(logits, history, s.repetitionPenalty, s.penaltyWindow), s);
  }

  /** The next token id. */
  sample(logits: Float32Array, history: readonly number[] = []): number {
    const s = this.settings;
    const penalized = s.repetitionPenalty === 1 ? logits : penalize(logits, history, s.repetitionPenalty, s.penaltyWindow);
    if (s.temperature === 0) return argmax(penalized);
    const { ids, probs } = candidates(penalized, s);
    const u = this.rng.uniform();
    let acc = 0;
    for (let i = 0; i < ids.length; i++) {
      acc += probs[i]!;
      if (u < acc) return ids[i]!;
    }
    return ids[ids.length - 1]!; // rounding left u ≥ the sum
  }
}

/**
 * Finds stop strings in text that arrives in pieces. `push` returns the text that is safe to show
 * (it cannot be the start of a stop string any more) and whether a stop string was found; the text
 * before the stop string is returned and the stop string itself never is. `end` returns what was
 * held back when the generation ends without a stop.
 */
export class StopSequenceMatcher {
  private readonly stops: readonly string[];
  private held = "";
  private done = false;

  constructor(stops: readonly string[] = []) {
    checkStops(stops);
    this.stops = stops;
  }

  /** Whether a stop string has been found. */
  get stopped(): boolean {
    return this.done;
  }

  push(text: string): { text: string; stopped: boolean } {
    if (this.done) return { text: "", stopped: true };
    if (this.stops.length === 0) return { text, stopped: false };
    const buf = this.held + text;
    let first = -1;
    for (const s of this.stops) {
      const at = buf.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      this.done = true;
      this.held = "";
      return { text: buf.slice(0, first), stopped: true };
    }
    // Hold back the longest tail of the text that a stop string starts with.
    let keep = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > keep; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep), stopped: false };
  }

  /** The held-back text, once no more text will come. */
  end(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }
}
