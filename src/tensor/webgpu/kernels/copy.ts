// A contiguous copy between buffers at element offsets: appending new keys and values to a KV
// cache, and taking the last position's row for generation. out[dstOff + i] = src[srcOff + i].

import { type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

const WG = 256;
const PARAMS: ParamLayout = [["n", "u32"], ["srcOff", "u32"], ["dstOff", "u32"]];

export const copyShader = `@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
${paramDecl(PARAMS, 2)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let i = ${flatGroup} * ${WG}u + lid;
  if (i < p.n) { dst[p.dstOff + i] = src[p.srcOff + i]; }
}`;

/** Copies n elements from src[srcOff..] to dst[dstOff..]; src and dst must be different buffers. */
export function copy<B>(r: Runner<B>, src: B, srcOff: number, dst: B, dstOff: number, n: number): B {
  r.run({ label: "copy", code: copyShader, entry: "main", groups: grid(n / WG), storage: [src, dst], params: packParams(PARAMS, { n, srcOff, dstOff }) });
  return dst;
}
