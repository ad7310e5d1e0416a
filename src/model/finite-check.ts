// NaN and infinity never reach a user as text: weights are checked when a model is loaded for
// inference (naming the first bad tensor), and the logits of every generated token are checked
// before sampling, so a model that overflows stops with an error instead of emitting NUL bytes.
import { StrataError, type ErrorCode } from "../core/errors.js";
import type { StateDict } from "../nn/index.js";

/** Index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) return i; // NaN - NaN and Inf - Inf are both NaN
  }
  return -1;
}

/** Throws naming the first tensor that holds NaN or infinity. */
export function assertFiniteWeights(stateDict: StateDict, source: string, code: ErrorCode = "CHECKPOINT_INVALID"): void {
  for (const [name, t] of Object.entries(stateDict)) {
    const at = firstNonFinite(t.data);
    if (at < 0) continue;
    const v = t.data[at]!;
    throw new StrataError(
      code,
      `weight tensor ${name} of ${source} holds ${Number.isNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity"} (at element ${at} of ${t.data.length})`,
      "the weights are corrupt or training diverged: load an earlier checkpoint (#step=…), re-export the file, or retrain with a lower learning rate",
    );
  }
}

/** Throws MODEL_OUTPUT_INVALID when the next-token logits hold NaN or infinity. */
export function assertFiniteLogits(logits: Float32Array, outputTokens: number): void {
  if (firstNonFinite(logits) < 0) return;
  throw new StrataError(
    "MODEL_OUTPUT_INVALID",
    `the model produced NaN or infinite logits at output token ${outputTokens + 1}; generation was stopped`,
    "the weights overflow at this input: check the checkpoint (strata eval-lm), load an earlier one, or retrain with a lower learning rate",
  );
}
