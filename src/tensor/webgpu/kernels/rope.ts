// RoPE in the engine's convention (src/tensor/kernels/rows.ts): llama's interleaved adjacent pairs
// on x [B, T, H, D]; pair i of row t is rotated by θ = positions[t] · base^(−2i/D). The cos/sin
// tables are the engine's own (`ropeTable`, computed in float64), uploaded once, so the GPU rotates
// by exactly the same angles; direction −1 is the backward (the rotation's transpose).

import { ropeTable } from "../../kernels/rows.js";
import { type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

const WG = 256;
const PARAMS: ParamLayout = [["pairs", "u32"], ["half", "u32"], ["H", "u32"], ["T", "u32"], ["dir", "f32"]];

export const ropeShader = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<i32>;
@group(0) @binding(2) var<storage, read> cosT: array<f32>;
@group(0) @binding(3) var<storage, read> sinT: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
${paramDecl(PARAMS, 5)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let q = ${flatGroup} * ${WG}u + lid;
  if (q < p.pairs) {
    let i = q % p.half;
    let t = (q / (p.half * p.H)) % p.T;
    let tb = u32(positions[t]) * p.half + i;
    let c = cosT[tb];
    let s = p.dir * sinT[tb];
    let x0 = x[2u * q];
    let x1 = x[2u * q + 1u];
    y[2u * q] = x0 * c - x1 * s;
    y[2u * q + 1u] = x0 * s + x1 * c;
  }
}`;

/** The cos/sin tables [positions, D/2] covering every position used, as the engine computes them. */
export function ropeTables(D: number, base: number, positions: Int32Array): { cos: Float32Array; sin: Float32Array } {
  let maxPos = 0;
  for (const p of positions) maxPos = Math.max(maxPos, p);
  return ropeTable(D, base, maxPos + 1);
}

/** y = rope(x) (direction 1) or its backward (−1); x contiguous [B, T, H, D]. */
export function rope<B>(r: Runner<B>, x: B, positions: B, cos: B, sin: B, dims: { B: number; T: number; H: number; D: number }, direction: 1 | -1): B {
  const { T, H, D } = dims;
  const pairs = (dims.B * T * H * D) / 2;
  const y = r.alloc(pairs * 2);
  r.run({
    label: direction === 1 ? "rope" : "ropeBackward", code: ropeShader, entry: "main", groups: grid(pairs / WG),
    storage: [x, positions, cos, sin, y], params: packParams(PARAMS, { pairs, half: D / 2, H, T, dir: direction }),
  });
  return y;
}
