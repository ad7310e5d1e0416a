// Our sampling options → node-llama-cpp's generation options, and its stop reasons → our finish
// reasons. Unset temperature means greedy (deterministic by default, as the house rules want).
import { PENALTY_WINDOW, resolveSampling } from "../../sampling.js";
import type { FinishReason, SamplingOptions } from "../../types.js";

export interface LlamaSampling {
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
  repeatPenalty: false | { penalty: number; lastTokens: number };
  customStopTriggers?: string[];
}

export function toLlamaSampling(o: SamplingOptions): LlamaSampling {
  resolveSampling(o); // the one check of a request's sampling options (USAGE errors naming the option)
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
