// Our sampling options → node-llama-cpp's generation options, and its stop reasons → our finish
// reasons. Unset temperature means greedy (deterministic by default, as the house rules want).
import { StrataError } from "../../../core/errors.js";
import type { FinishReason, SamplingOptions } from "../../types.js";

export interface LlamaSampling {
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
  repeatPenalty: false | { penalty: number; lastTokens: number };
  customStopTriggers?: string[];
}

/** How far back the repetition penalty looks (llama.cpp's default window). */
const PENALTY_WINDOW = 64;

export function toLlamaSampling(o: SamplingOptions): LlamaSampling {
  const bad = (name: string, value: unknown, rule: string): never => {
    throw new StrataError("USAGE", `${name} ${String(value)} is out of range: ${rule}`, `fix ${name} in the request`);
  };
  if (o.temperature !== undefined && !(o.temperature >= 0 && o.temperature <= 100)) bad("temperature", o.temperature, "use 0 (greedy) or more");
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) bad("topK", o.topK, "use a whole number ≥ 0 (0 = off)");
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad("topP", o.topP, "use a number in (0, 1]");
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) bad("seed", o.seed, "use a whole number from 0 to 4294967295");
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0 && Number.isFinite(o.repetitionPenalty))) bad("repetitionPenalty", o.repetitionPenalty, "use a number > 0 (1 = off)");
  if (o.maxTokens !== undefined && !(Number.isInteger(o.maxTokens) && o.maxTokens >= 1)) bad("maxTokens", o.maxTokens, "use a whole number ≥ 1");
  if (o.stop !== undefined && (!Array.isArray(o.stop) || o.stop.some((s) => typeof s !== "string" || s.length === 0))) {
    throw new StrataError("USAGE", "stop must be a list of non-empty strings", 'e.g. stop: ["\\n\\n"]');
  }
  return {
    temperature: o.temperature ?? 0,
    topK: o.topK,
    topP: o.topP,
    seed: o.seed,
    repeatPenalty: o.repetitionPenalty === undefined || o.repetitionPenalty === 1 ? false : { penalty: o.repetitionPenalty, lastTokens: PENALTY_WINDOW },
    customStopTriggers: o.stop && o.stop.length > 0 ? o.stop : undefined,
  };
}

export type LlamaStopReason = "eogToken" | "stopGenerationTrigger" | "functionCalls" | "maxTokens" | "abort" | "customStopTrigger";

export function toFinishReason(stop: LlamaStopReason, hasToolCalls: boolean): FinishReason {
  switch (stop) {
    case "functionCalls":
      return hasToolCalls ? "tool_calls" : "stop";
    case "maxTokens":
      return "length";
    case "abort":
      return "aborted";
    default:
      return "stop";
  }
}
