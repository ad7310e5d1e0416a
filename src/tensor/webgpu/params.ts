// Kernel parameter blocks: one field list gives both the WGSL struct and the packed bytes, so the
// two cannot disagree. Fields are 4-byte scalars laid out in order (WGSL's rules for a struct of
// scalars); the block is padded to 16 bytes, the size uniform bindings are rounded to.

export type ParamType = "u32" | "i32" | "f32";
export type ParamLayout = readonly (readonly [name: string, type: ParamType])[];

/** `struct <name> { a: u32, b: f32, ... }` for a layout. */
export function paramStruct(name: string, layout: ParamLayout): string {
  return `struct ${name} { ${layout.map(([n, t]) => `${n}: ${t}`).join(", ")} }`;
}

/** The uniform declaration at `binding` plus its struct; the variable is named `p`. */
export function paramDecl(layout: ParamLayout, binding: number): string {
  return `${paramStruct("Params", layout)}\n@group(0) @binding(${binding}) var<uniform> p: Params;`;
}

/** Packs values (every field required) into the uniform's bytes. */
export function packParams(layout: ParamLayout, values: Readonly<Record<string, number>>): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((layout.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  layout.forEach(([name, type], i) => {
    const v = values[name];
    if (v === undefined || !Number.isFinite(v)) throw new RangeError(`kernel parameter ${name} is ${String(v)}`);
    if (type === "f32") view.setFloat32(i * 4, v, true);
    else if (type === "i32") view.setInt32(i * 4, v, true);
    else {
      if (v < 0 || v > 0xffffffff || !Number.isInteger(v)) throw new RangeError(`kernel parameter ${name} = ${v} is not a u32`);
      view.setUint32(i * 4, v, true);
    }
  });
  return bytes;
}
