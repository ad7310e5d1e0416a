// What the CPU and GPU inference engines share about a new prompt: it must fit the context, and the
// positions it shares with the cached sequence are reused (at least one is always run again, so there
// are logits to return).
import { StrataError } from "../../../core/errors.js";

/** How many leading positions of `ids` can be kept from the cache; throws when `ids` cannot run. */
export function reusablePrefix(cached: readonly number[], ids: readonly number[], contextLength: number): number {
  if (ids.length === 0) throw new StrataError("USAGE", "the prompt has no tokens", "give the model some text (a BOS token counts)");
  if (ids.length > contextLength) {
    throw new StrataError("CONTEXT_OVERFLOW", `the prompt is ${ids.length} tokens but the context holds ${contextLength}`, "shorten the prompt, or load the model with a larger context (#ctx=…, up to the model's maximum)");
  }
  let common = 0;
  const limit = Math.min(cached.length, ids.length - 1);
  while (common < limit && cached[common] === ids[common]) common++;
  return common;
}
