// Attention backward by recomputation (FlashAttention-2's split, without atomics):
//   delta_i = Σ_d dO_i·O_i                       one thread per query row
//   dQ_i    = scale · Σ_j dS_ij K_j              one thread per query row, key tiles in shared memory
//   dK_j    = scale · Σ_{h in group, i} dS_ij Q_i,  dV_j = Σ_{h in group, i} P_ij dO_i
//                                                one thread per key row of each kv head, query tiles
//                                                in shared memory; the group's query heads are summed
//                                                inside the thread, so each output is written once.
// with P_ij = exp(scale·Q_i·K_j − lse_i) (0 where masked) and dS_ij = P_ij (dO_i·V_j − delta_i).
// dout and out are contiguous [B, T, Hq, D]; dq is [B, T, Hq, D], dk and dv [B, S, Hkv, D].

import type { AttentionDims } from "../../kernels/attention.js";
import { type Runner, ceilDiv, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";
import { ATTENTION_PARAMS, type AttentionTiles, DEFAULT_ATTENTION_TILES, type ViewLayout, attentionValues, causalKeyEnd, loadKeyValueTile, visible } from "./attention-common.js";
import { guarded } from "./wgsl-snippets.js";

const DELTA_WG = 64;
const DELTA_PARAMS: ParamLayout = [["rows", "u32"], ["T", "u32"], ["Hq", "u32"]];

export function attentionDeltaShader(D: number): string {
  return `@group(0) @binding(0) var<storage, read> dO: array<f32>;
@group(0) @binding(1) var<storage, read> O: array<f32>;
@group(0) @binding(2) var<storage, read_write> delta: array<f32>;
${paramDecl(DELTA_PARAMS, 3)}
@compute @workgroup_size(${DELTA_WG})
fn main(${gridBuiltins}) {
  let r = ${flatGroup} * ${DELTA_WG}u + lid; // row of [B, T, Hq]
  if (r >= p.rows) { return; }
  var s = 0.0;
  for (var d = 0u; d < ${D}u; d++) { s = s + dO[r * ${D}u + d] * O[r * ${D}u + d]; }
  let h = r % p.Hq; let t = (r / p.Hq) % p.T; let b = r / (p.Hq * p.T);
  delta[(b * p.Hq + h) * p.T + t] = s;
}`;
}

const io = `@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read> LSE: array<f32>;
@group(0) @binding(5) var<storage, read> DELTA: array<f32>;`;

export function attentionDqShader(D: number, t: AttentionTiles = DEFAULT_ATTENTION_TILES): string {
  const { BR, BC } = t;
  return `// attention backward dQ, D=${D}
${io}
@group(0) @binding(6) var<storage, read_write> dQ: array<f32>;
${paramDecl(ATTENTION_PARAMS, 7)}
var<workgroup> Ks: array<f32, ${BC * D}>;
var<workgroup> Vs: array<f32, ${BC * D}>;
@compute @workgroup_size(${BR})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z; let h = wid.y; let g = h / p.group;
  let i = wid.x * ${BR}u + lid;
  let valid = i < p.T;
  let ic = min(i, p.T - 1u);
  let qb = p.qOff + b * p.qsB + h * p.qsH + ic * p.qsT;
  let ob = ((b * p.T + ic) * p.Hq + h) * ${D}u;
  let lse = LSE[(b * p.Hq + h) * p.T + ic];
  let dlt = DELTA[(b * p.Hq + h) * p.T + ic];
  var q: array<f32, ${D}>;
  var go: array<f32, ${D}>;
  var dq: array<f32, ${D}>;
  for (var d = 0u; d < ${D}u; d++) { q[d] = Q[qb + d]; go[d] = dO[ob + d]; dq[d] = 0.0; }
  ${causalKeyEnd(BR)}
  for (var s0 = 0u; s0 < kEnd; s0 += ${BC}u) {
    ${loadKeyValueTile(BR, BC, D)}
    if (valid) {
      for (var jj = 0u; jj < ${BC}u; jj++) {
        let j = s0 + jj;
        if (j < p.S && ${visible("i", "j")}) {
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < ${D}u; d++) { s = s + q[d] * Ks[jj * ${D}u + d]; dp = dp + go[d] * Vs[jj * ${D}u + d]; }
          let pij = exp(s * p.scale - lse);
          let ds = pij * (dp - dlt);
          for (var d = 0u; d < ${D}u; d++) { dq[d] = dq[d] + ds * Ks[jj * ${D}u + d]; }
        }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var d = 0u; d < ${D}u; d++) { dQ[ob + d] = p.scale * dq[d]; }
  }
}`;
}

export function attentionDkDvShader(D: number, t: AttentionTiles = DEFAULT_ATTENTION_TILES): string {
  const { BR, BC } = t;
  // Here BC threads each own a key row; query tiles of BR rows are staged.
  return `// attention backward dK dV, D=${D}
${io}
@group(0) @binding(6) var<storage, read_write> dK: array<f32>;
@group(0) @binding(7) var<storage, read_write> dV: array<f32>;
${paramDecl(ATTENTION_PARAMS, 8)}
var<workgroup> Qs: array<f32, ${BR * D}>;
var<workgroup> Gs: array<f32, ${BR * D}>;
var<workgroup> Ls: array<f32, ${BR}>;
var<workgroup> Ds: array<f32, ${BR}>;
@compute @workgroup_size(${BC})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z; let g = wid.y;
  let j = wid.x * ${BC}u + lid;
  let valid = j < p.S;
  let jc = min(j, p.S - 1u);
  let kb = p.kOff + b * p.ksB + g * p.ksH + jc * p.ksT;
  let vb = p.vOff + b * p.vsB + g * p.vsH + jc * p.vsT;
  var k: array<f32, ${D}>;
  var v: array<f32, ${D}>;
  var dk: array<f32, ${D}>;
  var dv: array<f32, ${D}>;
  for (var d = 0u; d < ${D}u; d++) { k[d] = K[kb + d]; v[d] = V[vb + d]; dk[d] = 0.0; dv[d] = 0.0; }
  // Queries before the first that sees this workgroup's first key are skipped (uniform bound).
  var iStart = 0u;
  let jMin = wid.x * ${BC}u;
  if (p.causal == 1u && jMin + p.T > p.S) { iStart = jMin + p.T - p.S; }
  for (var hh = 0u; hh < p.group; hh++) {
    let h = g * p.group + hh;
    for (var i0 = iStart; i0 < p.T; i0 += ${BR}u) {
      for (var e = lid; e < ${BR * D}u; e += ${BC}u) {
        let i = i0 + e / ${D}u; let d = e % ${D}u; let ok = i < p.T;
        Qs[e] = select(0.0, Q[${guarded(`p.qOff + b * p.qsB + h * p.qsH + i * p.qsT + d`, "ok")}], ok);
        Gs[e] = select(0.0, dO[${guarded(`((b * p.T + i) * p.Hq + h) * ${D}u + d`, "ok")}], ok);
      }
      for (var e = lid; e < ${BR}u; e += ${BC}u) {
        let i = i0 + e; let ok = i < p.T;
        Ls[e] = select(0.0, LSE[${guarded(`(b * p.Hq + h) * p.T + i`, "ok")}], ok);
        Ds[e] = select(0.0, DELTA[${guarded(`(b * p.Hq + h) * p.T + i`, "ok")}], ok);
      }
      workgroupBarrier();
      if (valid) {
        for (var ii = 0u; ii < ${BR}u; ii++) {
          let i = i0 + ii;
          if (i < p.T && ${visible("i", "j")}) {
            var s = 0.0;
            var dp = 0.0;
            for (var d = 0u; d < ${D}u; d++) { s = s + Qs[ii * ${D}u + d] * k[d]; dp = dp + Gs[ii * ${D}u + d] * v[d]; }
            let pij = exp(s * p.scale - Ls[ii]);
            let ds = pij * (dp - Ds[ii]);
            for (var d = 0u; d < ${D}u; d++) {
              dv[d] = dv[d] + pij * Gs[ii * ${D}u + d];
              dk[d] = dk[d] + ds * Qs[ii * ${D}u + d];
            }
          }
        }
      }
      workgroupBarrier();
    }
  }
  if (valid) {
    let ob = ((b * p.S + j) * p.Hkv + g) * ${D}u;
    for (var d = 0u; d < ${D}u; d++) { dK[ob + d] = p.scale * dk[d]; dV[ob + d] = dv[d]; }
  }
}`;
}

/** Gradients of q, k and v (see the header for layouts); q, k, v are bound with their view layouts. */
export function attentionBackward<B>(
  r: Runner<B>, dout: B, out: B, lse: B, q: B, k: B, v: B, layouts: { q: ViewLayout; k: ViewLayout; v: ViewLayout }, d: AttentionDims, t = DEFAULT_ATTENTION_TILES,
): { dq: B; dk: B; dv: B } {
  const rows = d.B * d.T * d.Hq;
  const delta = r.alloc(rows);
  r.run({ label: "attentionDelta", code: attentionDeltaShader(d.D), entry: "main", groups: grid(ceilDiv(rows, DELTA_WG)), storage: [dout, out, delta], params: packParams(DELTA_PARAMS, { rows, T: d.T, Hq: d.Hq }) });
  const params = packParams(ATTENTION_PARAMS, attentionValues(layouts.q, layouts.k, layouts.v, d));
  const dq = r.alloc(rows * d.D);
  r.run({ label: "attentionDq", code: attentionDqShader(d.D, t), entry: "main", groups: [Math.max(1, ceilDiv(d.T, t.BR)), d.Hq, d.B], storage: [q, k, v, dout, lse, delta, dq], params });
  const dk = r.alloc(d.B * d.S * d.Hkv * d.D);
  const dv = r.alloc(d.B * d.S * d.Hkv * d.D);
  r.run({ label: "attentionDkDv", code: attentionDkDvShader(d.D, t), entry: "main", groups: [Math.max(1, ceilDiv(d.S, t.BC)), d.Hkv, d.B], storage: [q, k, v, dout, lse, delta, dk, dv], params });
  r.release(delta);
  return { dq, dk, dv };
}
