// Will a training configuration fit? An estimate made before anything is allocated, so a config
// that cannot fit is refused with the numbers instead of swapping or dying half-way.
//
// Per parameter: weights, gradients and AdamW's two moments, 4 bytes each (16 bytes).
// Per token of a micro-batch, float32 values the autograd graph keeps for the backward pass, counted
// from src/nn/llama.ts (C = dim, Ckv = kvHeads·headDim, F = ffnDim, H = heads, V = vocab):
//   each layer: block input, normed input, q, k, v, rotated q and k, attention output and its
//   log-sum-exp, output projection, residual, normed residual, w1 and w3 outputs, SwiGLU output,
//   w2 output  →  10·C + 3·Ckv + 3·F + H   (with mixture of experts, F counts topK experts)
//   the head: final norm, logits and their gradient  →  2·C + 2·V
// The backward pass briefly holds a gradient beside each activation it consumes; a factor of 1.5 on
// the activations covers that, and 64 MiB covers the runtime.

import { freemem, totalmem } from "node:os";
import { readFileSync } from "node:fs";
import { StrataError } from "../core/errors.js";
import { type LlamaConfig, countParameters } from "../nn/index.js";

export interface MemoryEstimate {
  parameters: number;
  /** Bytes, by use. */
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  total: number;
}

const RUNTIME_BYTES = 64 * 2 ** 20;

export function estimateTrainingMemory(c: LlamaConfig, micro: { batch: number; block: number }): MemoryEstimate {
  const P = countParameters(c);
  const D = c.dim / c.heads;
  const Ckv = c.kvHeads * D;
  const F = c.moe ? c.ffnDim * c.moe.topK : c.ffnDim;
  const perLayer = 10 * c.dim + 3 * Ckv + 3 * F + c.heads;
  const perToken = c.layers * perLayer + 2 * c.dim + 2 * c.vocab;
  const activations = Math.ceil(1.5 * 4 * micro.batch * micro.block * perToken);
  const weights = 4 * P;
  return { parameters: P, weights, gradients: weights, optimizer: 2 * weights, activations, total: 4 * weights + activations + RUNTIME_BYTES };
}

/** The memory this process may use: the smaller of the machine's RAM and a cgroup (container) limit. */
export function systemMemoryLimit(): number {
  let limit = totalmem();
  for (const f of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    try {
      const v = Number(readFileSync(f, "utf8").trim());
      if (Number.isFinite(v) && v > 0 && v < limit) limit = v;
    } catch {
      // not in a cgroup with a limit
    }
  }
  return limit;
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/**
 * Refuses (MEMORY_LIMIT) when the estimate exceeds `limitBytes` (default: 90% of systemMemoryLimit()).
 * Also refuses a single array beyond what a Float32Array can hold.
 */
export function checkTrainingMemory(c: LlamaConfig, micro: { batch: number; block: number }, limitBytes?: number): MemoryEstimate {
  const est = estimateTrainingMemory(c, micro);
  const limit = limitBytes ?? Math.floor(0.9 * systemMemoryLimit());
  const largest = Math.max(c.vocab * c.dim, micro.batch * micro.block * c.vocab, c.dim * c.ffnDim);
  if (largest > 2 ** 31 - 1) {
    throw new StrataError("MEMORY_LIMIT", `the configuration needs an array of ${largest.toLocaleString("en-US")} values; one array holds at most ${(2 ** 31 - 1).toLocaleString("en-US")}`, "use a smaller vocabulary, width or batch × block");
  }
  if (est.total > limit) {
    throw new StrataError(
      "MEMORY_LIMIT",
      `training this configuration needs about ${formatBytes(est.total)} (${est.parameters.toLocaleString("en-US")} parameters: ${formatBytes(est.weights)} weights + ${formatBytes(est.gradients)} gradients + ${formatBytes(est.optimizer)} AdamW state; ${formatBytes(est.activations)} activations for a micro-batch of ${micro.batch} × ${micro.block}) but the limit is ${formatBytes(limit)} (free now: ${formatBytes(freemem())})`,
      "use a smaller model (dim, layers, vocab) or a smaller batch with more gradient accumulation (--batch, --grad-accum)",
    );
  }
  return est;
}
