// Shared by the GPU llama tests: the tiny model, random batches, and the per-tensor comparison.
import assert from "node:assert/strict";
import type { Rng } from "../../src/core/random.js";
import type { LlamaConfig } from "../../src/nn/index.js";

/** vocab 24, width 16, 2 layers, 2 query heads sharing 1 kv head (GQA), block 8. */
export const GPU_TEST_MODEL: LlamaConfig = { vocab: 24, dim: 16, layers: 2, heads: 2, kvHeads: 1, ffnDim: 24, maxSeq: 8, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

export function randomBatch(rng: Rng, vocab: number, B: number, T: number): { ids: Int32Array; targets: Int32Array; shape: [number, number] } {
  const ids = Int32Array.from({ length: B * T }, () => rng.int(vocab));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(vocab));
  return { ids, targets, shape: [B, T] };
}

export function compare(name: string, got: Float32Array, want: Float32Array, rel = 1e-3, abs = 1e-5): number {
  assert.equal(got.length, want.length, `${name}: length`);
  let scale = 0;
  for (const w of want) scale = Math.max(scale, Math.abs(w));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  assert.ok(err <= abs + rel * scale, `${name}: max |gpu − cpu| ${err} > ${abs} + ${rel}·${scale}`);
  return err;
}

