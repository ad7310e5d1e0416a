// Reductions over a set of axes of a contiguous array. Sums accumulate in float64; max keeps the
// flat index of the first maximum of each output element (NaN wins, as in PyTorch) for the backward.

import { type Shape, broadcastStrides, numel } from "../shape.js";
import { sumToShape } from "./elementwise.js";

/** Sum of x (shape) over the axes where keepShape has 1 and shape does not; returns an array of numel(keepShape). */
export function reduceSum(x: Float32Array, shape: Shape, keepShape: Shape): Float32Array {
  const out = sumToShape(x, shape, keepShape);
  return out === x ? Float32Array.from(x) : out;
}

/** Max over the reduced axes (keepShape has 1 there); returns values and the flat input index of each maximum. */
export function reduceMax(x: Float32Array, shape: Shape, keepShape: Shape): { values: Float32Array; argmax: Int32Array } {
  const n = numel(keepShape);
  const values = new Float32Array(n).fill(-Infinity);
  const argmax = new Int32Array(n).fill(-1);
  const total = x.length;
  if (total === 0) return { values, argmax };
  const nd = shape.length;
  if (nd === 0) {
    values[0] = x[0]!;
    argmax[0] = 0;
    return { values, argmax };
  }
  const st = broadcastStrides(keepShape, shape);
  const inner = shape[nd - 1]!;
  const is = st[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let t = 0;
  for (let o = 0; o < total; o += inner) {
    for (let i = 0; i < inner; i++) {
      const v = x[o + i]!;
      const ti = t + i * is;
      const cur = values[ti]!;
      if (argmax[ti] === -1 || v > cur || (v !== v && cur === cur)) {
        values[ti] = v;
        argmax[ti] = o + i;
      }
    }
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      t += st[d]!;
      if (idx[d]! < shape[d]!) break;
      t -= st[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return { values, argmax };
}
