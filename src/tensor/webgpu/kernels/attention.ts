// Fused causal grouped-query attention, forward: one thread per query row, key/value tiles of BC
// rows staged in shared memory, online softmax (running max m and sum l per row, rescaled once per
// tile), so no T×S matrix exists anywhere. Saves the per-row log-sum-exp m + log l ([B, Hq, T]) for
// the backward, as the CPU kernel does. Query head h reads kv head h / (Hq/Hkv).
// The head dim D is a compile-time constant (private arrays of D floats per thread).

import type { AttentionDims } from "../../kernels/attention.js";
import { type KernelCall, type Runner, ceilDiv } from "../kernel-call.js";
import { packParams, paramDecl } from "../params.js";
import { ATTENTION_PARAMS, type AttentionTiles, DEFAULT_ATTENTION_TILES, type ViewLayout, attentionValues, causalKeyEnd, loadKeyValueTile, visible } from "./attention-common.js";
import { NEG_BIG } from "./wgsl-snippets.js";

export function attentionForwardShader(D: number, t: AttentionTiles = DEFAULT_ATTENTION_TILES): string {
  const { BR, BC } = t;
  return `// attention forward, D=${D}, ${BR} query rows per workgroup, key tiles of ${BC}
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
${paramDecl(ATTENTION_PARAMS, 5)}
var<workgroup> Ks: array<f32, ${BC * D}>;
var<workgroup> Vs: array<f32, ${BC * D}>;
@compute @workgroup_size(${BR})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z; let h = wid.y; let g = h / p.group;
  let i = wid.x * ${BR}u + lid;
  let valid = i < p.T;
  let qb = p.qOff + b * p.qsB + h * p.qsH + min(i, p.T - 1u) * p.qsT;
  var q: array<f32, ${D}>;
  var o: array<f32, ${D}>;
  for (var d = 0u; d < ${D}u; d++) { q[d] = Q[qb + d]; o[d] = 0.0; }
  var m = ${NEG_BIG};
  var l = 0.0;
  // Keys after the last one any row of this workgroup sees are skipped (uniform bound).
  ${causalKeyEnd(BR)}
  for (var s0 = 0u; s0 < kEnd; s0 += ${BC}u) {
    ${loadKeyValueTile(BR, BC, D)}
    if (valid) {
      var sc: array<f32, ${BC}>;
      var mt = m;
      for (var jj = 0u; jj < ${BC}u; jj++) {
        var s = 0.0;
        for (var d = 0u; d < ${D}u; d++) { s = s + q[d] * Ks[jj * ${D}u + d]; }
        let j = s0 + jj;
        sc[jj] = select(${NEG_BIG}, s * p.scale, j < p.S && ${visible("i", "j")});
        mt = max(mt, sc[jj]);
      }
      let corr = exp(m - mt);
      l = l * corr;
      for (var d = 0u; d < ${D}u; d++) { o[d] = o[d] * corr; }
      for (var jj = 0u; jj < ${BC}u; jj++) {
        let j = s0 + jj;
        let pj = select(0.0, exp(sc[jj] - mt), j < p.S && ${visible("i", "j")});
        l = l + pj;
        for (var d = 0u; d < ${D}u; d++) { o[d] = o[d] + pj * Vs[jj * ${D}u + d]; }
      }
      m = mt;
    }
    workgroupBarrier();
  }
  if (valid) {
    let ob = ((b * p.T + i) * p.Hq + h) * ${D}u;
    for (var d = 0u; d < ${D}u; d++) { O[ob + d] = o[d] / l; }
    LSE[(b * p.Hq + h) * p.T + i] = m + log(l);
  }
}`;
}

export function attentionForwardCall<B>(q: B, k: B, v: B, out: B, lse: B, layouts: { q: ViewLayout; k: ViewLayout; v: ViewLayout }, d: AttentionDims, t = DEFAULT_ATTENTION_TILES): KernelCall<B> {
  return {
    label: "attention", code: attentionForwardShader(d.D, t), entry: "main", groups: [Math.max(1, ceilDiv(d.T, t.BR)), d.Hq, d.B],
    storage: [q, k, v, out, lse], params: packParams(ATTENTION_PARAMS, attentionValues(layouts.q, layouts.k, layouts.v, d)),
  };
}

/** out contiguous [B, T, Hq, D] and lse [B, Hq, T]. */
export function attentionForward<B>(r: Runner<B>, q: B, k: B, v: B, layouts: { q: ViewLayout; k: ViewLayout; v: ViewLayout }, d: AttentionDims, t = DEFAULT_ATTENTION_TILES): { out: B; lse: B } {
  const out = r.alloc(d.B * d.T * d.Hq * d.D);
  const lse = r.alloc(d.B * d.Hq * d.T);
  r.run(attentionForwardCall(q, k, v, out, lse, layouts, d, t));
  return { out, lse };
}
