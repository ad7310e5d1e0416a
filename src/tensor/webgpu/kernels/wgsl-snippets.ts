// WGSL pieces shared by the row kernels: workgroup-wide sum and max over `red` (tree reductions
// with a fixed order, so results are deterministic), and a select-guarded index that keeps reads
// of out-of-range lanes inside the buffer (select evaluates both of its operands).

/** Declares `red` and the functions wgSum / wgMax for a power-of-two workgroup size. */
export function workgroupReduce(wg: number): string {
  if (wg < 1 || (wg & (wg - 1)) !== 0) throw new RangeError(`workgroup size ${wg} must be a power of two`);
  return `var<workgroup> red: array<f32, ${wg}>;
fn wgSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wgMax(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
}

/** `index` when `ok`, else 0: a read that stays in bounds whatever the lane. */
export function guarded(index: string, ok: string): string {
  return `select(0u, ${index}, ${ok})`;
}

/** A large negative finite score: masked lanes use it and exp() of it underflows to 0 without NaNs. */
export const NEG_BIG = "-3.0e38";
