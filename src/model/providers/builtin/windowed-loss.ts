// Next-token loss over a long text in windows of at most `window` positions, for the CPU and GPU
// engines alike: each window predicts its own next tokens, and the totals are summed in nats.
import { StrataError, throwIfAborted } from "../../../core/errors.js";
import type { ProgressListener } from "../../../core/events.js";

/** What a loss pass adds up (the engines' `loss` returns it). */
export interface LossTotals {
  /** Tokens predicted (scored). */
  tokens: number;
  /** Summed negative log-likelihood of those tokens, in nats. */
  nll: number;
}

/** The mean next-token loss of one window: `targets[i]` follows `input[i]`. */
export type WindowLoss = (input: Int32Array, targets: Int32Array) => number | Promise<number>;

export async function windowedLoss(ids: readonly number[], window: number, meanLoss: WindowLoss, o: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<LossTotals> {
  if (!Number.isInteger(window) || window < 1) throw new StrataError("USAGE", `window must be a whole number ≥ 1, got ${window}`, "e.g. 256");
  const total = Math.max(0, ids.length - 1);
  let nll = 0;
  let done = 0;
  for (let start = 0; start < total; start += window) {
    throwIfAborted(o.signal);
    const end = Math.min(start + window, total);
    const input = Int32Array.from(ids.slice(start, end));
    const targets = Int32Array.from(ids.slice(start + 1, end + 1));
    nll += (await meanLoss(input, targets)) * targets.length;
    done += targets.length;
    o.onProgress?.({ phase: "eval-lm", done, total });
    await new Promise<void>((r) => setImmediate(r)); // let aborts and other work through between windows
  }
  return { tokens: done, nll };
}
