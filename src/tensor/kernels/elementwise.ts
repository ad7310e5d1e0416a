// Elementwise kernels on contiguous Float32Arrays: broadcasting binary ops, unary ops and their
// derivatives, N-d strided copies, and sum-reduction of a broadcast gradient back to an input shape.
// Each op has its own tight loop (a switch outside the loop, never a callback inside it), so V8
// compiles every inner loop to straight float code.

import { type Shape, broadcastStrides, numel, shapeEquals } from "../shape.js";

export type BinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min";

/** out[i] = a[ia] op b[ib] over a run of n elements with strides sa, sb ∈ {0, 1}. */
function binaryRun(op: BinaryOp, out: Float32Array, o: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, n: number): void {
  switch (op) {
    case "add":
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! + b[ib + i]!;
      else if (sa === 1) { const y = b[ib]!; for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! + y; }
      else if (sb === 1) { const x = a[ia]!; for (let i = 0; i < n; i++) out[o + i] = x + b[ib + i]!; }
      else out.fill(a[ia]! + b[ib]!, o, o + n);
      return;
    case "sub":
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! - b[ib + i]!;
      else if (sa === 1) { const y = b[ib]!; for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! - y; }
      else if (sb === 1) { const x = a[ia]!; for (let i = 0; i < n; i++) out[o + i] = x - b[ib + i]!; }
      else out.fill(a[ia]! - b[ib]!, o, o + n);
      return;
    case "mul":
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! * b[ib + i]!;
      else if (sa === 1) { const y = b[ib]!; for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! * y; }
      else if (sb === 1) { const x = a[ia]!; for (let i = 0; i < n; i++) out[o + i] = x * b[ib + i]!; }
      else out.fill(a[ia]! * b[ib]!, o, o + n);
      return;
    case "div":
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! / b[ib + i]!;
      else if (sa === 1) { const y = b[ib]!; for (let i = 0; i < n; i++) out[o + i] = a[ia + i]! / y; }
      else if (sb === 1) { const x = a[ia]!; for (let i = 0; i < n; i++) out[o + i] = x / b[ib + i]!; }
      else out.fill(a[ia]! / b[ib]!, o, o + n);
      return;
    case "max":
      for (let i = 0; i < n; i++) { const x = a[ia + i * sa]!, y = b[ib + i * sb]!; out[o + i] = x !== x || y !== y ? NaN : x >= y ? x : y; }
      return;
    case "min":
      for (let i = 0; i < n; i++) { const x = a[ia + i * sa]!, y = b[ib + i * sb]!; out[o + i] = x !== x || y !== y ? NaN : x <= y ? x : y; }
      return;
  }
}

/** a op b with numpy broadcasting; a and b are contiguous with shapes aShape, bShape; returns a contiguous array of outShape. */
export function binaryBroadcast(op: BinaryOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, outShape: Shape): Float32Array {
  const n = numel(outShape);
  const out = new Float32Array(n);
  if (n === 0) return out;
  if (shapeEquals(aShape, bShape)) {
    binaryRun(op, out, 0, a, 0, 1, b, 0, 1, n);
    return out;
  }
  if (a.length === 1 && b.length === n) {
    binaryRun(op, out, 0, a, 0, 0, b, 0, 1, n);
    return out;
  }
  if (b.length === 1 && a.length === n) {
    binaryRun(op, out, 0, a, 0, 1, b, 0, 0, n);
    return out;
  }
  // General case: walk the output with an N-d counter; the innermost dim is one run.
  const nd = outShape.length;
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const inner = outShape[nd - 1]!;
  const isa = sa[nd - 1]!;
  const isb = sb[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o += inner) {
    binaryRun(op, out, o, a, ia, isa, b, ib, isb, inner);
    // advance the counter over dims nd-2 .. 0
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      ia += sa[d]!;
      ib += sb[d]!;
      if (idx[d]! < outShape[d]!) break;
      ia -= sa[d]! * outShape[d]!;
      ib -= sb[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

export type UnaryOp = "neg" | "exp" | "log" | "sqrt" | "rsqrt" | "abs" | "tanh" | "sigmoid" | "relu" | "silu" | "square" | "sin" | "cos";

export function unary(op: UnaryOp, x: Float32Array): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  switch (op) {
    case "neg": for (let i = 0; i < n; i++) out[i] = -x[i]!; break;
    case "exp": for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!); break;
    case "log": for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!); break;
    case "sqrt": for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!); break;
    case "rsqrt": for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!); break;
    case "abs": for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!); break;
    case "tanh": for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!); break;
    case "sigmoid": for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]!)); break;
    case "relu": for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : 0; } break;
    case "silu": for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v / (1 + Math.exp(-v)); } break;
    case "square": for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v * v; } break;
    case "sin": for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]!); break;
    case "cos": for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]!); break;
  }
  return out;
}

/** dL/dx of a unary op from dL/dy (g), the input x and the output y. */
export function unaryBackward(op: UnaryOp, g: Float32Array, x: Float32Array, y: Float32Array): Float32Array {
  const n = g.length;
  const out = new Float32Array(n);
  switch (op) {
    case "neg": for (let i = 0; i < n; i++) out[i] = -g[i]!; break;
    case "exp": for (let i = 0; i < n; i++) out[i] = g[i]! * y[i]!; break;
    case "log": for (let i = 0; i < n; i++) out[i] = g[i]! / x[i]!; break;
    case "sqrt": for (let i = 0; i < n; i++) out[i] = (0.5 * g[i]!) / y[i]!; break;
    case "rsqrt": for (let i = 0; i < n; i++) { const r = y[i]!; out[i] = -0.5 * g[i]! * r * r * r; } break;
    case "abs": for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? g[i]! : v < 0 ? -g[i]! : 0; } break;
    case "tanh": for (let i = 0; i < n; i++) { const t = y[i]!; out[i] = g[i]! * (1 - t * t); } break;
    case "sigmoid": for (let i = 0; i < n; i++) { const s = y[i]!; out[i] = g[i]! * s * (1 - s); } break;
    case "relu": for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? g[i]! : 0; break;
    case "silu":
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        const s = 1 / (1 + Math.exp(-v));
        out[i] = g[i]! * s * (1 + v * (1 - s));
      }
      break;
    case "square": for (let i = 0; i < n; i++) out[i] = 2 * g[i]! * x[i]!; break;
    case "sin": for (let i = 0; i < n; i++) out[i] = g[i]! * Math.cos(x[i]!); break;
    case "cos": for (let i = 0; i < n; i++) out[i] = -g[i]! * Math.sin(x[i]!); break;
  }
  return out;
}

/** out = x^p elementwise. */
export function powScalar(x: Float32Array, p: number): Float32Array {
  const out = new Float32Array(x.length);
  if (p === 2) for (let i = 0; i < x.length; i++) out[i] = x[i]! * x[i]!;
  else if (p === 0.5) for (let i = 0; i < x.length; i++) out[i] = Math.sqrt(x[i]!);
  else if (p === -1) for (let i = 0; i < x.length; i++) out[i] = 1 / x[i]!;
  else for (let i = 0; i < x.length; i++) out[i] = Math.pow(x[i]!, p);
  return out;
}

/**
 * Copies a strided view (data, offset, shape, strides) into a new contiguous array. The innermost
 * dim is copied as one run (a typed-array `set` when its stride is 1).
 */
export function stridedCopy(data: Float32Array, offset: number, shape: Shape, strides: Shape): Float32Array {
  const n = numel(shape);
  const out = new Float32Array(n);
  if (n === 0) return out;
  const nd = shape.length;
  if (nd === 0) {
    out[0] = data[offset]!;
    return out;
  }
  const inner = shape[nd - 1]!;
  const is = strides[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let src = offset;
  for (let o = 0; o < n; o += inner) {
    if (is === 1) out.set(data.subarray(src, src + inner), o);
    else for (let i = 0; i < inner; i++) out[o + i] = data[src + i * is]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Adds a contiguous array `src` of `shape` into a strided destination (dst, offset, strides): dst[view] += src. */
export function stridedAddInto(dst: Float32Array, offset: number, shape: Shape, strides: Shape, src: Float32Array): void {
  const n = numel(shape);
  if (n === 0) return;
  const nd = shape.length;
  if (nd === 0) {
    dst[offset] = dst[offset]! + src[0]!;
    return;
  }
  const inner = shape[nd - 1]!;
  const is = strides[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let d0 = offset;
  for (let o = 0; o < n; o += inner) {
    for (let i = 0; i < inner; i++) dst[d0 + i * is] = dst[d0 + i * is]! + src[o + i]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      d0 += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      d0 -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * Sums a contiguous gradient of `fromShape` down to `toShape`, where `fromShape` is the broadcast of
 * `toShape` with others (the backward of broadcasting). Accumulates in float64.
 */
export function sumToShape(g: Float32Array, fromShape: Shape, toShape: Shape): Float32Array {
  if (shapeEquals(fromShape, toShape)) return g;
  const n = numel(toShape);
  if (n === 1) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]!;
    return Float32Array.of(s);
  }
  const acc = new Float64Array(n);
  const nd = fromShape.length;
  const st = broadcastStrides(toShape, fromShape); // position in the output for each input index
  const inner = fromShape[nd - 1]!;
  const is = st[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let t = 0;
  for (let o = 0; o < g.length; o += inner) {
    if (is === 1) for (let i = 0; i < inner; i++) acc[t + i] = acc[t + i]! + g[o + i]!;
    else {
      let s = 0;
      for (let i = 0; i < inner; i++) s += g[o + i]!;
      acc[t] = acc[t]! + s;
    }
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      t += st[d]!;
      if (idx[d]! < fromShape[d]!) break;
      t -= st[d]! * fromShape[d]!;
      idx[d] = 0;
    }
  }
  return Float32Array.from(acc);
}
