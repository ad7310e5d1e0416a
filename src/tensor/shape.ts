// Shapes and strides: row-major strides, broadcasting, axis normalisation. Pure functions on number
// arrays; every shape error a caller can cause is a StrataError("SHAPE_MISMATCH") naming the shapes.

import { StrataError } from "../core/errors.js";

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] ?? 1;
  }
  return strides;
}

/** True when (shape, strides) lays the elements out in row-major order with no gaps; size-1 dims may have any stride. */
export function isContiguousLayout(shape: Shape, strides: Shape): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] ?? 1;
    if (d !== 1 && strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

export function shapeEquals(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function shapeError(message: string, hint = "check the shapes of the tensors passed to this operation"): StrataError {
  return new StrataError("SHAPE_MISMATCH", message, hint);
}

/** numpy broadcasting: shapes are right-aligned; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: Shape, b: Shape, op = "broadcast"): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw shapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides with which a contiguous tensor of `shape` is read as if it had `target` shape
 * (right-aligned; broadcast dims get stride 0).
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = contiguousStrides(shape);
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 ? 0 : (own[i] ?? 0);
  return out;
}

/** A possibly negative axis as an index in [0, ndim). */
export function normAxis(axis: number, ndim: number, op = "axis"): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) {
    throw shapeError(`${op}: axis ${axis} is out of range for a tensor with ${ndim} dimensions`);
  }
  return a;
}

/** Sorted, unique, non-negative axes; undefined means every axis. */
export function normAxes(axes: number | readonly number[] | undefined, ndim: number, op = "axes"): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(a, ndim, op)))];
  return out.sort((x, y) => x - y);
}

/** Shape after reducing `axes` (sorted, normalised): kept as 1 with keepdim, dropped otherwise. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(shape[i] ?? 1);
  }
  return out;
}

/** Resolves one -1 in a reshape target and checks the element count. */
export function resolveReshape(from: Shape, to: Shape): number[] {
  const total = numel(from);
  let unknown = -1;
  let known = 1;
  const out = [...to];
  for (let i = 0; i < out.length; i++) {
    const d = out[i] ?? 0;
    if (d === -1) {
      if (unknown >= 0) throw shapeError(`reshape: more than one -1 in ${fmtShape(to)}`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw shapeError(`reshape: invalid dimension ${d} in ${fmtShape(to)}`);
    } else known *= d;
  }
  if (unknown >= 0) {
    if (known === 0 || total % known !== 0) throw shapeError(`reshape: cannot reshape ${fmtShape(from)} (${total} elements) to ${fmtShape(to)}`);
    out[unknown] = total / known;
  } else if (known !== total) {
    throw shapeError(`reshape: cannot reshape ${fmtShape(from)} (${total} elements) to ${fmtShape(to)} (${known} elements)`);
  }
  return out;
}

/** Checks that a shape is a list of non-negative integers. */
export function checkShape(shape: Shape, op = "tensor"): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw shapeError(`${op}: invalid shape ${fmtShape(shape)}`, "dimensions are non-negative integers");
  }
}
