// SwiGLU's gate, as src/tensor/kernels/rows.ts: y = silu(a)∘b; backward da = g∘b∘silu'(a),
// db = g∘silu(a) with silu'(a) = s·(1 + a·(1 − s)), s = sigmoid(a). One thread per element.

import { type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

const WG = 256;
const PARAMS: ParamLayout = [["n", "u32"]];

export const swigluForwardShader = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${paramDecl(PARAMS, 3)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let i = ${flatGroup} * ${WG}u + lid;
  if (i < p.n) { let v = a[i]; y[i] = v / (1.0 + exp(-v)) * b[i]; }
}`;

export const swigluBackwardShader = `@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> da: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;
${paramDecl(PARAMS, 5)}
@compute @workgroup_size(${WG})
fn main(${gridBuiltins}) {
  let i = ${flatGroup} * ${WG}u + lid;
  if (i < p.n) {
    let v = a[i];
    let s = 1.0 / (1.0 + exp(-v));
    da[i] = g[i] * b[i] * s * (1.0 + v * (1.0 - s));
    db[i] = g[i] * v * s;
  }
}`;

export function swigluForward<B>(r: Runner<B>, a: B, b: B, n: number): B {
  const y = r.alloc(n);
  r.run({ label: "swiglu", code: swigluForwardShader, entry: "main", groups: grid(n / WG), storage: [a, b, y], params: packParams(PARAMS, { n }) });
  return y;
}

export function swigluBackward<B>(r: Runner<B>, g: B, a: B, b: B, n: number): { da: B; db: B } {
  const da = r.alloc(n);
  const db = r.alloc(n);
  r.run({ label: "swigluBackward", code: swigluBackwardShader, entry: "main", groups: grid(n / WG), storage: [g, a, b, da, db], params: packParams(PARAMS, { n }) });
  return { da, db };
}
