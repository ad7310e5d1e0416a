// RMSNorm as src/tensor/kernels/rows.ts: y = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps) per row.
// Backward, with h = g∘w: dx = rstd · (h − x · rstd² · mean(h∘x)), and dw = Σ_rows g∘x∘rstd in
// two deterministic stages (partial sums over chunks of rows, then a column sum).
// One workgroup per row for the row passes; the row sums are workgroup tree reductions.

import { type Runner, ceilDiv, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";
import { colSum } from "./reduce.js";
import { workgroupReduce } from "./wgsl-snippets.js";

export const RMSNORM_WG = 256;
const ROW_PARAMS: ParamLayout = [["rows", "u32"], ["n", "u32"], ["eps", "f32"]];

export function rmsNormForwardShader(wg = RMSNORM_WG): string {
  return `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
${paramDecl(ROW_PARAMS, 4)}
${workgroupReduce(wg)}
@compute @workgroup_size(${wg})
fn main(${gridBuiltins}) {
  let row = ${flatGroup};
  if (row >= p.rows) { return; }
  let o = row * p.n;
  var ss = 0.0;
  for (var j = lid; j < p.n; j += ${wg}u) { let v = x[o + j]; ss = ss + v * v; }
  let rs = 1.0 / sqrt(wgSum(ss, lid) / f32(p.n) + p.eps);
  for (var j = lid; j < p.n; j += ${wg}u) { y[o + j] = x[o + j] * rs * w[j]; }
  if (lid == 0u) { rstd[row] = rs; }
}`;
}

export function rmsNormDxShader(wg = RMSNORM_WG): string {
  return `@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
${paramDecl(ROW_PARAMS, 5)}
${workgroupReduce(wg)}
@compute @workgroup_size(${wg})
fn main(${gridBuiltins}) {
  let row = ${flatGroup};
  if (row >= p.rows) { return; }
  let o = row * p.n;
  let rs = rstd[row];
  var dot = 0.0;
  for (var j = lid; j < p.n; j += ${wg}u) { dot = dot + g[o + j] * w[j] * x[o + j]; }
  let c = wgSum(dot, lid) * rs * rs / f32(p.n);
  for (var j = lid; j < p.n; j += ${wg}u) { dx[o + j] = rs * (g[o + j] * w[j] - x[o + j] * c); }
}`;
}

const DW_PARAMS: ParamLayout = [["rows", "u32"], ["n", "u32"], ["chunk", "u32"]];

/** part[c·n + j] = Σ over rows of chunk c of g∘x∘rstd; grid x: column blocks, y: row chunks. */
export function rmsNormDwPartialShader(wg = RMSNORM_WG): string {
  return `@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
${paramDecl(DW_PARAMS, 4)}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * ${wg}u + lid;
  if (j >= p.n) { return; }
  let r0 = wid.y * p.chunk;
  let r1 = min(p.rows, r0 + p.chunk);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) { acc = acc + g[r * p.n + j] * x[r * p.n + j] * rstd[r]; }
  part[wid.y * p.n + j] = acc;
}`;
}

export function rmsNormForward<B>(r: Runner<B>, x: B, w: B, rows: number, n: number, eps: number, wg = RMSNORM_WG): { y: B; rstd: B } {
  const y = r.alloc(rows * n);
  const rstd = r.alloc(rows);
  r.run({ label: "rmsNorm", code: rmsNormForwardShader(wg), entry: "main", groups: grid(rows), storage: [x, w, y, rstd], params: packParams(ROW_PARAMS, { rows, n, eps }) });
  return { y, rstd };
}

/** dx and dw; `chunk` rows per partial sum of dw (more chunks: more parallelism, a longer second stage). */
export function rmsNormBackward<B>(r: Runner<B>, g: B, x: B, w: B, rstd: B, rows: number, n: number, options: { wg?: number; chunk?: number } = {}): { dx: B; dw: B } {
  const wg = options.wg ?? RMSNORM_WG;
  const chunk = options.chunk ?? 64;
  const dx = r.alloc(rows * n);
  r.run({ label: "rmsNormDx", code: rmsNormDxShader(wg), entry: "main", groups: grid(rows), storage: [g, x, w, rstd, dx], params: packParams(ROW_PARAMS, { rows, n, eps: 0 }) });
  const chunks = Math.max(1, ceilDiv(rows, chunk));
  if (chunks > 65535) throw new RangeError(`rmsNormBackward: ${rows} rows need a larger chunk than ${chunk}`);
  const part = r.alloc(chunks * n);
  r.run({ label: "rmsNormDwPartial", code: rmsNormDwPartialShader(wg), entry: "main", groups: [Math.max(1, ceilDiv(n, wg)), chunks, 1], storage: [g, x, rstd, part], params: packParams(DW_PARAMS, { rows, n, chunk }) });
  const dw = colSum(r, part, chunks, n, r.alloc(n), wg);
  r.release(part);
  return { dx, dw };
}
