// Reductions, deterministic (fixed tree order, no atomics): the sum (or sum of squares) of a vector
// in passes of WG·ITEMS elements per workgroup; column sums of a [rows, n] matrix; and the global
// gradient norm with torch's clip_grad_norm_ rule (src/train/clip.ts): norm = sqrt(Σ g²) over all
// gradients, scale = maxNorm / (norm + 1e-6) when norm > maxNorm, applied on the device so a
// training step needs no read-back.

import { type Runner, ceilDiv, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";
import { workgroupReduce } from "./wgsl-snippets.js";

export const REDUCE_WG = 256;
const ITEMS = 4;
const SUM_PARAMS: ParamLayout = [["n", "u32"], ["outOff", "u32"], ["scale", "f32"]];

/** One pass: workgroup w sums (or sums the squares of) its WG·ITEMS elements into out[outOff + w], times scale. */
export function sumPassShader(square: boolean, wg = REDUCE_WG): string {
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${paramDecl(SUM_PARAMS, 2)}
${workgroupReduce(wg)}
@compute @workgroup_size(${wg})
fn main(${gridBuiltins}) {
  let w = ${flatGroup};
  var acc = 0.0;
  for (var k = 0u; k < ${ITEMS}u; k++) {
    let i = w * ${wg * ITEMS}u + k * ${wg}u + lid;
    if (i < p.n) { let v = x[i]; acc = acc + ${square ? "v * v" : "v"}; }
  }
  let total = wgSum(acc, lid);
  if (lid == 0u) { out[p.outOff + w] = total * p.scale; }
}`;
}

/** Partial sums of x[0..n) written to out[outOff..]; returns how many. */
export function sumPass<B>(r: Runner<B>, x: B, n: number, out: B, outOff: number, options: { square?: boolean; scale?: number; wg?: number } = {}): number {
  const wg = options.wg ?? REDUCE_WG;
  const groups = Math.max(1, ceilDiv(n, wg * ITEMS));
  r.run({
    label: options.square ? "sumSquares" : "sum", code: sumPassShader(options.square ?? false, wg), entry: "main", groups: grid(groups),
    storage: [x, out], params: packParams(SUM_PARAMS, { n, outOff, scale: options.scale ?? 1 }),
  });
  return groups;
}

/** A one-element buffer holding scale · Σ x (or Σ x²), reduced in passes until one value is left. */
export function sumAll<B>(r: Runner<B>, x: B, n: number, options: { square?: boolean; scale?: number; wg?: number } = {}): B {
  const wg = options.wg ?? REDUCE_WG;
  let cur = x;
  let count = n;
  let square = options.square ?? false;
  for (;;) {
    const groups = Math.max(1, ceilDiv(count, wg * ITEMS));
    const out = r.alloc(groups);
    sumPass(r, cur, count, out, 0, { square, wg, scale: groups === 1 ? (options.scale ?? 1) : 1 });
    if (cur !== x) r.release(cur);
    cur = out;
    count = groups;
    square = false;
    if (groups === 1) return cur;
  }
}

const COL_PARAMS: ParamLayout = [["rows", "u32"], ["n", "u32"]];

/** out[j] = Σ_r x[r·n + j], one thread per column, rows in order. */
export function colSumShader(wg = REDUCE_WG): string {
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${paramDecl(COL_PARAMS, 2)}
@compute @workgroup_size(${wg})
fn main(${gridBuiltins}) {
  let j = ${flatGroup} * ${wg}u + lid;
  if (j < p.n) {
    var acc = 0.0;
    for (var r = 0u; r < p.rows; r++) { acc = acc + x[r * p.n + j]; }
    out[j] = acc;
  }
}`;
}

export function colSum<B>(r: Runner<B>, x: B, rows: number, n: number, out = r.alloc(n), wg = REDUCE_WG): B {
  r.run({ label: "colSum", code: colSumShader(wg), entry: "main", groups: grid(ceilDiv(n, wg)), storage: [x, out], params: packParams(COL_PARAMS, { rows, n }) });
  return out;
}

const CLIP_PARAMS: ParamLayout = [["maxNorm", "f32"]];

/** From Σ g² in sumsq[0]: stats = [norm, scale, clipped]; non-finite norms never scale (the host stops the run). */
export const clipStatsShader = `@group(0) @binding(0) var<storage, read> sumsq: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
${paramDecl(CLIP_PARAMS, 2)}
@compute @workgroup_size(1)
fn main() {
  let norm = sqrt(sumsq[0]);
  let finite = (bitcast<u32>(norm) & 0x7f800000u) != 0x7f800000u;
  let clip = p.maxNorm > 0.0 && finite && norm > p.maxNorm;
  stats[0] = norm;
  stats[1] = select(1.0, p.maxNorm / (norm + 1e-6), clip);
  stats[2] = select(0.0, 1.0, clip);
}`;

const SCALE_PARAMS: ParamLayout = [["n", "u32"]];

export const scaleByStatShader = `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> stats: array<f32>;
${paramDecl(SCALE_PARAMS, 2)}
@compute @workgroup_size(${REDUCE_WG})
fn main(${gridBuiltins}) {
  let i = ${flatGroup} * ${REDUCE_WG}u + lid;
  if (i < p.n) { x[i] = x[i] * stats[1]; }
}`;

/**
 * clip_grad_norm_ over gradients (buffer, element count): returns a 3-element buffer
 * [norm, scale, clipped], and scales the gradients in place when clipped. maxNorm ≤ 0 only measures.
 */
export function clipGradNorm<B>(r: Runner<B>, grads: readonly (readonly [B, number])[], maxNorm: number, wg = REDUCE_WG): B {
  const slots = grads.map(([, n]) => Math.max(1, ceilDiv(n, wg * ITEMS)));
  const partials = r.alloc(slots.reduce((a, b) => a + b, 0));
  let off = 0;
  grads.forEach(([g, n], i) => {
    sumPass(r, g, n, partials, off, { square: true, wg });
    off += slots[i]!;
  });
  const sumsq = sumAll(r, partials, off, { wg });
  r.release(partials);
  const stats = r.alloc(3);
  r.run({ label: "clipStats", code: clipStatsShader, entry: "main", groups: [1, 1, 1], storage: [sumsq, stats], params: packParams(CLIP_PARAMS, { maxNorm: maxNorm > 0 && Number.isFinite(maxNorm) ? maxNorm : 0 }) });
  r.release(sumsq);
  if (maxNorm > 0 && Number.isFinite(maxNorm)) {
    for (const [g, n] of grads) {
      r.run({ label: "clipScale", code: scaleByStatShader, entry: "main", groups: grid(ceilDiv(n, REDUCE_WG)), storage: [g, stats], params: packParams(SCALE_PARAMS, { n }) });
    }
  }
  return stats;
}
