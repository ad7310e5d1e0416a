// Embedding lookup and its gradient. WGSL has no f32 atomics, so the gradient is gathered, not
// scattered: the host sorts the token ids into per-row position lists (a stable counting sort,
// `embeddingGradIndex`), and one workgroup per vocabulary row sums its positions' gradient rows in
// ascending position order — the order src/tensor/ops.ts uses, so the sums match it exactly.

import { type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

const WG = 256;
const GATHER_PARAMS: ParamLayout = [["total", "u32"], ["D", "u32"]];

export const embeddingShader = `@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${paramDecl(GATHER_PARAMS, 3)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let e = ${flatGroup} * ${WG}u + lid;
  if (e < p.total) { out[e] = weight[u32(ids[e / p.D]) * p.D + e % p.D]; }
}`;

/** out [N, D] = weight[ids[i]] (ids must be valid: the host checks them, as the CPU op does). */
export function embeddingForward<B>(r: Runner<B>, weight: B, ids: B, count: number, D: number): B {
  const total = count * D;
  const out = r.alloc(total);
  r.run({ label: "embedding", code: embeddingShader, entry: "main", groups: grid(total / WG), storage: [weight, ids, out], params: packParams(GATHER_PARAMS, { total, D }) });
  return out;
}

/** For each row v: positions start[v] .. start[v+1] of `order` are the positions holding token v, ascending. */
export function embeddingGradIndex(ids: ArrayLike<number>, vocab: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(vocab + 1);
  for (let i = 0; i < ids.length; i++) start[ids[i]! + 1]!++;
  for (let v = 0; v < vocab; v++) start[v + 1]! += start[v]!;
  const next = start.slice(0, vocab);
  const order = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) order[next[ids[i]!]!++] = i;
  return { start, order };
}

const GRAD_PARAMS: ParamLayout = [["V", "u32"], ["D", "u32"]];

export const embeddingGradShader = `@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> start: array<i32>;
@group(0) @binding(2) var<storage, read> order: array<i32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
${paramDecl(GRAD_PARAMS, 4)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let v = ${flatGroup};
  if (v >= p.V) { return; }
  let s0 = u32(start[v]);
  let s1 = u32(start[v + 1u]);
  for (var j = lid; j < p.D; j += ${WG}u) {
    var acc = 0.0;
    for (var k = s0; k < s1; k++) { acc = acc + g[u32(order[k]) * p.D + j]; }
    dw[v * p.D + j] = acc;
  }
}`;

/** dW [V, D] from the output gradient g [N, D]; rows of tokens that do not occur are zero. */
export function embeddingBackward<B>(r: Runner<B>, g: B, start: B, order: B, V: number, D: number): B {
  const dw = r.alloc(V * D);
  r.run({ label: "embeddingGrad", code: embeddingGradShader, entry: "main", groups: grid(V), storage: [g, start, order, dw], params: packParams(GRAD_PARAMS, { V, D }) });
  return dw;
}
