// Elementwise kernels a training step needs besides the fused ones: out = a + b (residuals),
// acc += alpha·b (gradient accumulation), out = alpha·a (scaling), fill. One thread per element
// on a grid folded into x and y for large tensors.

import { type KernelCall, type Runner, flatGroup, grid, gridBuiltins } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

export const ELEMENTWISE_WG = 256;
const PARAMS: ParamLayout = [["n", "u32"], ["alpha", "f32"]];

type Form = "add" | "accumulate" | "scale" | "fill";

const bodies: Record<Form, { bindings: string[]; body: string }> = {
  add: { bindings: ["a: array<f32>", "b: array<f32>", "out: array<f32>"], body: "out[i] = a[i] + b[i];" },
  accumulate: { bindings: ["acc: array<f32>", "b: array<f32>"], body: "acc[i] = acc[i] + p.alpha * b[i];" },
  scale: { bindings: ["a: array<f32>", "out: array<f32>"], body: "out[i] = p.alpha * a[i];" },
  fill: { bindings: ["out: array<f32>"], body: "out[i] = p.alpha;" },
};

/** The last binding of each form is written; `acc` is read and written. */
export function elementwiseShader(form: Form): string {
  const { bindings, body } = bodies[form];
  const decl = bindings.map((b, i) => {
    const written = i === bindings.length - 1 || b.startsWith("acc");
    return `@group(0) @binding(${i}) var<storage, ${written ? "read_write" : "read"}> ${b};`;
  });
  return `${decl.join("\n")}
${paramDecl(PARAMS, bindings.length)}
@compute @workgroup_size(${ELEMENTWISE_WG})
fn main(${gridBuiltins}) {
  let i = ${flatGroup} * ${ELEMENTWISE_WG}u + lid;
  if (i < p.n) { ${body} }
}`;
}

function call<B>(form: Form, storage: B[], n: number, alpha: number): KernelCall<B> {
  return { label: form, code: elementwiseShader(form), entry: "main", groups: grid(n / ELEMENTWISE_WG), storage, params: packParams(PARAMS, { n, alpha }) };
}

/** out = a + b over n elements. */
export function add<B>(r: Runner<B>, a: B, b: B, n: number, out = r.alloc(n)): B {
  r.run(call("add", [a, b, out], n, 0));
  return out;
}

/** acc += alpha·b in place. */
export function accumulate<B>(r: Runner<B>, acc: B, b: B, n: number, alpha = 1): B {
  r.run(call("accumulate", [acc, b], n, alpha));
  return acc;
}

/** out = alpha·a (out may not be a). */
export function scale<B>(r: Runner<B>, a: B, n: number, alpha: number, out = r.alloc(n)): B {
  r.run(call("scale", [a, out], n, alpha));
  return out;
}

/** Sets n elements to value. */
export function fill<B>(r: Runner<B>, out: B, n: number, value: number): B {
  r.run(call("fill", [out], n, value));
  return out;
}
