// Softmax cross-entropy as src/tensor/kernels/rows.ts: per row the log-sum-exp (max, then sum of
// exponentials, as workgroup reductions), loss_r = lse_r − x[r, t_r], ignored rows count 0; the
// mean over counted rows is a deterministic sum. Backward: dx = g/count · (exp(x − lse) − onehot(t)),
// 0 on ignored rows. The host knows the targets, so it passes count; no read-back is needed.

import { type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";
import { sumAll } from "./reduce.js";
import { NEG_BIG, workgroupReduce } from "./wgsl-snippets.js";

export const CE_WG = 256;
const PARAMS: ParamLayout = [["rows", "u32"], ["n", "u32"], ["ignore", "i32"], ["scale", "f32"]];

export function crossEntropyForwardShader(wg = CE_WG): string {
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
${paramDecl(PARAMS, 4)}
${workgroupReduce(wg)}
@compute @workgroup_size(${wg})
fn main(${gridBuiltins}) {
  let row = ${flatGroup};
  if (row >= p.rows) { return; }
  let o = row * p.n;
  var m = ${NEG_BIG};
  for (var j = lid; j < p.n; j += ${wg}u) { m = max(m, x[o + j]); }
  m = wgMax(m, lid);
  var s = 0.0;
  for (var j = lid; j < p.n; j += ${wg}u) { s = s + exp(x[o + j] - m); }
  let l = m + log(wgSum(s, lid));
  if (lid == 0u) {
    let t = targets[row];
    let counted = t != p.ignore;
    rowLoss[row] = select(0.0, l - x[o + u32(select(0, t, counted))], counted);
    lse[row] = select(0.0, l, counted);
  }
}`;
}

export function crossEntropyBackwardShader(wg = CE_WG): string {
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${paramDecl(PARAMS, 4)}
@compute @workgroup_size(${wg})
fn main(${gridBuiltins}) {
  let e = ${flatGroup} * ${wg}u + lid;
  if (e >= p.rows * p.n) { return; }
  let row = e / p.n;
  let j = e % p.n;
  let t = targets[row];
  let d = exp(x[e] - lse[row]) * p.scale - select(0.0, p.scale, i32(j) == t);
  dx[e] = select(0.0, d, t != p.ignore);
}`;
}

/** Counted rows (targets not equal to ignoreIndex). */
export function countTargets(targets: ArrayLike<number>, ignoreIndex: number): number {
  let c = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== ignoreIndex) c++;
  return c;
}

/** loss: a one-element buffer with the mean loss (0 when nothing counts); lse per row for the backward. */
export function crossEntropyForward<B>(r: Runner<B>, x: B, targets: B, rows: number, n: number, ignoreIndex: number, count: number, wg = CE_WG): { loss: B; lse: B } {
  const rowLoss = r.alloc(rows);
  const lse = r.alloc(rows);
  r.run({ label: "crossEntropy", code: crossEntropyForwardShader(wg), entry: "main", groups: grid(rows), storage: [x, targets, rowLoss, lse], params: packParams(PARAMS, { rows, n, ignore: ignoreIndex, scale: 0 }) });
  const loss = sumAll(r, rowLoss, rows, { scale: count > 0 ? 1 / count : 0, wg });
  r.release(rowLoss);
  return { loss, lse };
}

/** dx for an upstream gradient g of the mean loss (1 for the training loss). */
export function crossEntropyBackward<B>(r: Runner<B>, g: number, x: B, targets: B, lse: B, rows: number, n: number, ignoreIndex: number, count: number, wg = CE_WG): B {
  const dx = r.alloc(rows * n);
  const scale = count > 0 ? g / count : 0;
  r.run({ label: "crossEntropyBackward", code: crossEntropyBackwardShader(wg), entry: "main", groups: grid((rows * n) / wg), storage: [x, targets, lse, dx], params: packParams(PARAMS, { rows, n, ignore: ignoreIndex, scale }) });
  return dx;
}
