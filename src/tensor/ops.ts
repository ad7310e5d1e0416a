// The primitive ops, each with its gradient, and the few composites built from them.
//
//   pointwise  add sub mul div maximum minimum (numpy broadcasting) · neg exp log sqrt rsqrt abs
//              tanh sigmoid relu silu square sin cos · pow(x, p)
//   views      reshape permute transpose slice broadcastTo (no copy) · contiguous cat (copy)
//   reduce     sum max (over any axes, keepdim) · mean min (composites)
//   linalg     matmul (batched, broadcast batch dims, transposed views multiply without copies) · linear
//   indexing   embedding takeAlong indexSelect indexAdd
//
// The fused ops with hand-written backwards (softmax, RMSNorm, RoPE, attention, cross-entropy, …)
// are in fused.ts. Every backward returns gradients contiguous in the shape of its input.

import { StrataError } from "../core/errors.js";
import { backend } from "./backend.js";
import { binaryBroadcast, type BinaryOp, powScalar, stridedAddInto, stridedCopy, sumToShape, unary, unaryBackward, type UnaryOp } from "./kernels/elementwise.js";
import { reduceMax, reduceSum } from "./kernels/reduce.js";
import {
  type Shape, broadcastShapes, broadcastStrides, contiguousStrides, fmtShape, normAxes, normAxis, numel, reducedShape, resolveReshape, shapeEquals, shapeError,
} from "./shape.js";
import { detachQuantized, quantizedTwin } from "./quantized.js";
import { Tensor, fromOp, isGradEnabled } from "./tensor.js";

export type TensorLike = Tensor | number;

function asTensor(x: TensorLike): Tensor {
  return typeof x === "number" ? new Tensor(Float32Array.of(x), []) : x;
}

// ---------------------------------------------------------------------------------------------
// Pointwise

function binary(op: BinaryOp, x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const ad = a.contiguousData();
  const bd = b.contiguousData();
  const out = binaryBroadcast(op, ad, a.shape, bd, b.shape, shape);
  return fromOp(out, shape, op, [a, b], (g) => {
    const ga = a.requiresGrad;
    const gb = b.requiresGrad;
    switch (op) {
      case "add":
        return [ga ? sumToShape(g, shape, a.shape) : null, gb ? sumToShape(g, shape, b.shape) : null];
      case "sub":
        return [ga ? sumToShape(g, shape, a.shape) : null, gb ? sumToShape(unary("neg", g), shape, b.shape) : null];
      case "mul":
        return [
          ga ? sumToShape(binaryBroadcast("mul", g, shape, bd, b.shape, shape), shape, a.shape) : null,
          gb ? sumToShape(binaryBroadcast("mul", g, shape, ad, a.shape, shape), shape, b.shape) : null,
        ];
      case "div": {
        const gOverB = binaryBroadcast("div", g, shape, bd, b.shape, shape);
        let gbv: Float32Array | null = null;
        if (gb) {
          // d(a/b)/db = −(a/b)/b, so db = −(g/b)·out
          const t = binaryBroadcast("mul", gOverB, shape, out, shape, shape);
          for (let i = 0; i < t.length; i++) t[i] = -t[i]!;
          gbv = sumToShape(t, shape, b.shape);
        }
        return [ga ? sumToShape(gOverB, shape, a.shape) : null, gbv];
      }
      case "max":
      case "min": {
        // The gradient goes to the winner; a tie splits it in half (as PyTorch does).
        const ea = stridedCopy(ad, 0, shape, broadcastStrides(a.shape, shape));
        const eb = stridedCopy(bd, 0, shape, broadcastStrides(b.shape, shape));
        const da = new Float32Array(g.length);
        const db = new Float32Array(g.length);
        for (let i = 0; i < g.length; i++) {
          const u = ea[i]!;
          const v = eb[i]!;
          if (u === v) {
            da[i] = g[i]! / 2;
            db[i] = g[i]! / 2;
          } else if (op === "max" ? u > v : u < v) da[i] = g[i]!;
          else db[i] = g[i]!;
        }
        return [ga ? sumToShape(da, shape, a.shape) : null, gb ? sumToShape(db, shape, b.shape) : null];
      }
    }
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary("sub", a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary("div", a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary("max", a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary("min", a, b);

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const xd = x.contiguousData();
  const out = unary(op, xd);
  return fromOp(out, x.shape, op, [x], (g) => [unaryBackward(op, g, xd, out)]);
}

export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
export const silu = (x: Tensor): Tensor => unaryOp("silu", x);
export const square = (x: Tensor): Tensor => unaryOp("square", x);
export const sin = (x: Tensor): Tensor => unaryOp("sin", x);
export const cos = (x: Tensor): Tensor => unaryOp("cos", x);

/** x^p for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const xd = x.contiguousData();
  const out = powScalar(xd, p);
  return fromOp(out, x.shape, "pow", [x], (g) => {
    const dx = powScalar(xd, p - 1);
    for (let i = 0; i < dx.length; i++) dx[i] = g[i]! * p * dx[i]!;
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------
// Views and copies

/** Same elements, new shape (one dim may be −1). A view when x is contiguous, a copy otherwise. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const to = resolveReshape(x.shape, shape);
  const src = x.isContiguous() ? x : contiguous(x);
  return fromOp(src.data, to, "reshape", [src], (g) => [g], contiguousStrides(to), src.offset);
}

/** Reorders the dims: result dim i is x's dim dims[i]. A view. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const nd = x.ndim;
  if (dims.length !== nd) throw shapeError(`permute: ${dims.length} dims given for a tensor of ${nd}`);
  const p = dims.map((d) => normAxis(d, nd, "permute"));
  if (new Set(p).size !== nd) throw shapeError(`permute: [${dims.join(", ")}] is not a permutation`);
  const shape = p.map((d) => x.shape[d]!);
  const strides = p.map((d) => x.strides[d]!);
  return fromOp(x.data, shape, "permute", [x], (g) => {
    // g is contiguous in the permuted shape; read it back in x's dim order.
    const gs = contiguousStrides(shape);
    const back = new Array<number>(nd);
    for (let i = 0; i < nd; i++) back[p[i]!] = gs[i]!;
    return [stridedCopy(g, 0, x.shape, back)];
  }, strides, x.offset);
}

/** Swaps two dims (default: the last two). A view. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const nd = x.ndim;
  const i = normAxis(a, nd, "transpose");
  const j = normAxis(b, nd, "transpose");
  const dims = Array.from({ length: nd }, (_, d) => d);
  dims[i] = j;
  dims[j] = i;
  return permute(x, dims);
}

/** Elements start ≤ i < end along one axis (negative indices count from the end). A view. */
export function slice(x: Tensor, axis: number, start: number, end: number = Number.MAX_SAFE_INTEGER): Tensor {
  const ax = normAxis(axis, x.ndim, "slice");
  const n = x.shape[ax]!;
  const clamp = (v: number): number => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const s = clamp(start);
  const e = Math.max(s, clamp(end));
  const shape = [...x.shape];
  shape[ax] = e - s;
  const offset = x.offset + s * x.strides[ax]!;
  return fromOp(x.data, shape, "slice", [x], (g) => {
    const dx = new Float32Array(x.size);
    const xs = contiguousStrides(x.shape);
    stridedAddInto(dx, s * xs[ax]!, shape, xs, g);
    return [dx];
  }, x.strides, offset);
}

/** Reads x as the given (broadcast) shape without copying (size-1 dims get stride 0). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes(x.shape, shape, "broadcastTo");
  if (!shapeEquals(target, shape)) throw shapeError(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  const lead = shape.length - x.ndim;
  const strides = shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : x.strides[i - lead]!));
  return fromOp(x.data, shape, "broadcastTo", [x], (g) => [sumToShape(g, shape, x.shape)], strides, x.offset);
}

/** x itself when contiguous, else a contiguous copy (gradient passes through). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return fromOp(x.contiguousData(), x.shape, "contiguous", [x], (g) => [g]);
}

/** Inserts a size-1 dim at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

/** Removes a size-1 dim. */
export function squeeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.ndim, "squeeze");
  if (x.shape[ax] !== 1) throw shapeError(`squeeze: dim ${axis} of ${fmtShape(x.shape)} is not 1`);
  const shape = [...x.shape];
  shape.splice(ax, 1);
  return reshape(x, shape);
}

/** Concatenates along an axis; every other dim must match. */
export function cat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw shapeError("cat: no tensors given");
  const first = xs[0]!;
  const ax = normAxis(axis, first.ndim, "cat");
  let total = 0;
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw shapeError(`cat: ${fmtShape(t.shape)} does not match ${fmtShape(first.shape)} outside axis ${ax}`);
    }
    total += t.shape[ax]!;
  }
  const shape = [...first.shape];
  shape[ax] = total;
  const out = new Float32Array(numel(shape));
  const os = contiguousStrides(shape);
  const outer = numel(shape.slice(0, ax));
  const outerStride = os[ax - 1] ?? out.length; // elements per outer index
  let start = 0;
  for (const t of xs) {
    const td = t.contiguousData();
    const chunk = t.size / Math.max(outer, 1); // contiguous run per outer index
    for (let o = 0; o < outer; o++) out.set(td.subarray(o * chunk, (o + 1) * chunk), o * outerStride + start * os[ax]!);
    start += t.shape[ax]!;
  }
  return fromOp(out, shape, "cat", xs, (g) => {
    const grads: (Float32Array | null)[] = [];
    let s = 0;
    for (const t of xs) {
      const n = t.shape[ax]!;
      grads.push(t.requiresGrad ? stridedCopy(g, s * os[ax]!, t.shape, os) : null);
      s += n;
    }
    return grads;
  });
}

// ---------------------------------------------------------------------------------------------
// Reductions

/** Sum over `axes` (default: all). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(axes, x.ndim, "sum");
  const keep = reducedShape(x.shape, ax, true);
  const out = reduceSum(x.contiguousData(), x.shape, keep);
  const shape = reducedShape(x.shape, ax, keepdim);
  return fromOp(out, shape, "sum", [x], (g) => [stridedCopy(g, 0, x.shape, broadcastStrides(keep, x.shape))]);
}

/** Mean over `axes` (default: all): sum · (1/n). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(axes, x.ndim, "mean");
  let n = 1;
  for (const a of ax) n *= x.shape[a]!;
  return mul(sum(x, ax, keepdim), 1 / n);
}

/** Max over `axes` (default: all); the gradient goes to the first maximum. */
export function max(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(axes, x.ndim, "max");
  if (x.size === 0) throw shapeError("max of an empty tensor");
  const keep = reducedShape(x.shape, ax, true);
  const { values, argmax } = reduceMax(x.contiguousData(), x.shape, keep);
  return fromOp(values, reducedShape(x.shape, ax, keepdim), "max", [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let i = 0; i < argmax.length; i++) dx[argmax[i]!] = dx[argmax[i]!]! + g[i]!;
    return [dx];
  });
}

/** Min over `axes`: −max(−x). */
export function min(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return neg(max(neg(x), axes, keepdim));
}

// ---------------------------------------------------------------------------------------------
// Matrix multiply

/** How one operand's matrices are read: transposed or not, leading dim, and its strides over the batch dims. */
interface MatLayout {
  t: Tensor;
  trans: boolean;
  ld: number;
  rows: number;
  cols: number;
  batchShape: number[];
  batchStrides: number[];
}

function matLayout(x: Tensor): MatLayout {
  const nd = x.ndim;
  const rows = x.shape[nd - 2]!;
  const cols = x.shape[nd - 1]!;
  const sr = x.strides[nd - 2]!;
  const sc = x.strides[nd - 1]!;
  const batchShape = x.shape.slice(0, nd - 2);
  const batchStrides = x.strides.slice(0, nd - 2);
  if ((sc === 1 || cols === 1) && (rows === 1 || sr >= cols)) {
    return { t: x, trans: false, ld: rows === 1 ? Math.max(cols, 1) : sr, rows, cols, batchShape, batchStrides };
  }
  if ((sr === 1 || rows === 1) && (cols === 1 || sc >= rows)) {
    return { t: x, trans: true, ld: cols === 1 ? Math.max(rows, 1) : sc, rows, cols, batchShape, batchStrides };
  }
  const c = contiguous(x);
  return { t: c, trans: false, ld: Math.max(cols, 1), rows, cols, batchShape, batchStrides: c.strides.slice(0, nd - 2) };
}

/** Element offsets of each matrix of a batch, walking the broadcast batch shape. */
function batchOffsets(base: number, shape: Shape, strides: Shape, outBatch: Shape): Float64Array {
  const n = numel(outBatch);
  const offs = new Float64Array(n);
  const lead = outBatch.length - shape.length;
  const st = outBatch.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]!));
  const idx = new Array<number>(outBatch.length).fill(0);
  let o = base;
  for (let i = 0; i < n; i++) {
    offs[i] = o;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      idx[d]!++;
      o += st[d]!;
      if (idx[d]! < outBatch[d]!) break;
      o -= st[d]! * outBatch[d]!;
      idx[d] = 0;
    }
  }
  return offs;
}

/** True when the batch dims and the row dim of a non-transposed operand can be read as one tall matrix. */
function foldable(l: MatLayout): boolean {
  if (l.trans) return false;
  let stride = l.ld * l.rows; // what the innermost batch dim's stride must be
  for (let d = l.batchShape.length - 1; d >= 0; d--) {
    const n = l.batchShape[d]!;
    if (n !== 1 && l.batchStrides[d] !== stride) return false;
    stride *= n;
  }
  return true;
}

/**
 * Matrix product over the last two dims, batch dims broadcast: [..., m, k] @ [..., k, n] → [..., m, n].
 * Transposed views (x.transpose()) are read in place as transposed operands.
 */
export function matmul(x: Tensor, y: Tensor): Tensor {
  if (x.ndim < 2 || y.ndim < 2) throw shapeError(`matmul needs matrices (2 or more dims), got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  const A = matLayout(x);
  const B = matLayout(y);
  const m = A.rows;
  const k = A.cols;
  const n = B.cols;
  if (B.rows !== k) throw shapeError(`matmul: ${fmtShape(x.shape)} @ ${fmtShape(y.shape)}: inner dims ${k} and ${B.rows} differ`);
  const batch = broadcastShapes(A.batchShape, B.batchShape, "matmul batch");
  const nb = numel(batch);
  const shape = [...batch, m, n];
  const out = new Float32Array(nb * m * n);
  const be = backend();
  const bIsSingle = numel(B.batchShape) === 1;
  const fold = bIsSingle && nb > 1 && foldable(A) && shapeEquals(A.batchShape, batch);
  let aOffs: Float64Array;
  let bOffs: Float64Array;
  const cOffs = batchOffsets(0, batch, contiguousStrides(batch).map((s) => s * m * n), batch);
  if (fold) {
    aOffs = Float64Array.of(A.t.offset);
    bOffs = Float64Array.of(B.t.offset);
    be.gemm(false, B.trans, nb * m, n, k, 1, A.t.data, A.t.offset, A.ld, B.t.data, B.t.offset, B.ld, 0, out, 0, n);
  } else {
    aOffs = batchOffsets(A.t.offset, A.batchShape, A.batchStrides, batch);
    bOffs = batchOffsets(B.t.offset, B.batchShape, B.batchStrides, batch);
    if (nb === 1) be.gemm(A.trans, B.trans, m, n, k, 1, A.t.data, aOffs[0]!, A.ld, B.t.data, bOffs[0]!, B.ld, 0, out, 0, n);
    else be.gemmBatch(A.trans, B.trans, m, n, k, 1, A.t.data, aOffs, A.ld, B.t.data, bOffs, B.ld, 0, out, cOffs, n);
  }
  return fromOp(out, shape, "matmul", [A.t, B.t], (g) => {
    const bk = backend();
    let da: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (fold) {
      // dA = dC · op(B)ᵀ as one tall product; dB = op(A)ᵀ · dC summed over the batch by the same product.
      if (A.t.requiresGrad) {
        da = new Float32Array(A.t.size);
        bk.gemm(false, !B.trans, nb * m, k, n, 1, g, 0, n, B.t.data, B.t.offset, B.ld, 0, da, 0, k);
      }
      if (B.t.requiresGrad) {
        db = new Float32Array(B.t.size);
        bk.gemm(true, false, k, n, nb * m, 1, A.t.data, A.t.offset, A.ld, g, 0, n, 0, db, 0, n);
      }
      return [da, db];
    }
    // Gradients are contiguous in each input's shape; broadcast batch entries accumulate (beta = 1).
    const gradOffs = (l: MatLayout, rows: number, cols: number): Float64Array =>
      batchOffsets(0, l.batchShape, contiguousStrides(l.batchShape).map((s) => s * rows * cols), batch);
    if (A.t.requiresGrad) {
      da = new Float32Array(A.t.size);
      bk.gemmBatch(false, !B.trans, m, k, n, 1, g, cOffs, n, B.t.data, bOffs, B.ld, 1, da, gradOffs(A, m, k), k);
    }
    if (B.t.requiresGrad) {
      db = new Float32Array(B.t.size);
      bk.gemmBatch(!A.trans, false, k, n, m, 1, A.t.data, aOffs, A.ld, g, cOffs, n, 1, db, gradOffs(B, k, n), n);
    }
    return [da, db];
  });
}

/** From this many rows on, `linear` multiplies by the float32 weight even when it has quantized blocks. */
export const QUANTIZED_MAX_ROWS = 8;

/**
 * x @ wᵀ for x [..., in] and a weight stored [out, in] (llama's Linear, no bias) → [..., out].
 * One product over all leading dims; the weight's gradient is computed in its own [out, in] layout.
 */
export function linear(x: Tensor, w: Tensor): Tensor {
  if (w.ndim !== 2 || x.ndim < 1) throw shapeError(`linear: expects x [..., in] and a weight [out, in], got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}`);
  const [outF, inF] = w.shape as [number, number];
  if (x.shape[x.ndim - 1] !== inF) throw shapeError(`linear: x ${fmtShape(x.shape)} does not end in the weight's input size ${inF} (weight ${fmtShape(w.shape)})`);
  if (!w.isContiguous()) return matmul(x, transpose(w, 0, 1));
  const xc = contiguous(x);
  const rows = inF === 0 ? 0 : xc.size / inF;
  if (isGradEnabled() && w.requiresGrad) detachQuantized(w); // it is being trained: its values will change
  else if (rows < QUANTIZED_MAX_ROWS && !(isGradEnabled() && xc.requiresGrad)) {
    // Decoding with a weight that has GGUF blocks beside it (src/tensor/quantized.ts): multiply by
    // the blocks, a quarter of the bytes. A prompt's many rows are compute-bound: sgemm is faster there.
    const q = quantizedTwin(w);
    if (q) return new Tensor(backend().qmatmul(q.type, q.bytes, outF, inF, xc.data, xc.offset, rows), [...x.shape.slice(0, -1), outF]);
  }
  const wd = w.contiguousData();
  const y = new Float32Array(rows * outF);
  backend().gemm(false, true, rows, outF, inF, 1, xc.data, xc.offset, Math.max(inF, 1), wd, 0, Math.max(inF, 1), 0, y, 0, Math.max(outF, 1));
  return fromOp(y, [...x.shape.slice(0, -1), outF], "linear", [xc, w], (g) => {
    const bk = backend();
    let dx: Float32Array | null = null;
    let dw: Float32Array | null = null;
    if (xc.requiresGrad) {
      dx = new Float32Array(rows * inF); // dX = dY · W
      bk.gemm(false, false, rows, inF, outF, 1, g, 0, Math.max(outF, 1), wd, 0, Math.max(inF, 1), 0, dx, 0, Math.max(inF, 1));
    }
    if (w.requiresGrad) {
      dw = new Float32Array(outF * inF); // dW = dYᵀ · X
      bk.gemm(true, false, outF, inF, rows, 1, g, 0, Math.max(outF, 1), xc.data, xc.offset, Math.max(inF, 1), 0, dw, 0, Math.max(inF, 1));
    }
    return [dx, dw];
  });
}

// ---------------------------------------------------------------------------------------------
// Indexing

export type IndexLike = Int32Array | readonly number[];

function asIndex(ids: IndexLike): Int32Array {
  return ids instanceof Int32Array ? ids : Int32Array.from(ids);
}

function checkIndex(ids: Int32Array, n: number, op: string): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (v < 0 || v >= n) throw new StrataError("INDEX_OUT_OF_RANGE", `${op}: index ${v} at position ${i} is outside [0, ${n})`, "check the token ids against the vocabulary size");
  }
}

/** Rows of weight [V, D] picked by integer ids: [...idsShape, D]. The gradient scatters back into the rows. */
export function embedding(weight: Tensor, ids: IndexLike, idsShape?: Shape): Tensor {
  if (weight.ndim !== 2) throw shapeError(`embedding: the weight must be [vocab, dim], got ${fmtShape(weight.shape)}`);
  const idx = asIndex(ids);
  const s = idsShape ?? [idx.length];
  if (numel(s) !== idx.length) throw shapeError(`embedding: ${idx.length} ids do not fill shape ${fmtShape(s)}`);
  const [V, D] = weight.shape as [number, number];
  checkIndex(idx, V, "embedding");
  const w = weight.contiguousData();
  const out = new Float32Array(idx.length * D);
  for (let i = 0; i < idx.length; i++) out.set(w.subarray(idx[i]! * D, idx[i]! * D + D), i * D);
  return fromOp(out, [...s, D], "embedding", [weight], (g) => {
    const dw = new Float32Array(V * D);
    for (let i = 0; i < idx.length; i++) {
      const o = idx[i]! * D;
      const go = i * D;
      for (let j = 0; j < D; j++) dw[o + j] = dw[o + j]! + g[go + j]!;
    }
    return [dw];
  });
}

/** Gathers along the last axis: x [..., n], idx [..., k] (k per row) → [..., k] with out[r, j] = x[r, idx[r, j]]. */
export function takeAlong(x: Tensor, idx: IndexLike, k: number): Tensor {
  const n = x.shape[x.ndim - 1]!;
  const rows = x.size / n;
  const ix = asIndex(idx);
  if (ix.length !== rows * k) throw shapeError(`takeAlong: ${ix.length} indices for ${rows} rows × ${k}`);
  checkIndex(ix, n, "takeAlong");
  const xd = x.contiguousData();
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * k + j] = xd[r * n + ix[r * k + j]!]!;
  return fromOp(out, [...x.shape.slice(0, -1), k], "takeAlong", [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) dx[r * n + ix[r * k + j]!] = dx[r * n + ix[r * k + j]!]! + g[r * k + j]!;
    return [dx];
  });
}

/** Rows of x [N, ...] at the given indices: [len, ...]. */
export function indexSelect(x: Tensor, rows: IndexLike): Tensor {
  const ix = asIndex(rows);
  const N = x.shape[0]!;
  checkIndex(ix, N, "indexSelect");
  const w = N === 0 ? 0 : x.size / N;
  const xd = x.contiguousData();
  const out = new Float32Array(ix.length * w);
  for (let i = 0; i < ix.length; i++) out.set(xd.subarray(ix[i]! * w, ix[i]! * w + w), i * w);
  return fromOp(out, [ix.length, ...x.shape.slice(1)], "indexSelect", [x], (g) => [scatterAddRows(new Float32Array(x.size), ix, g, w)]);
}

/** target with src's rows added at the given row indices (repeats accumulate): target[rows[i]] += src[i]. */
export function indexAdd(target: Tensor, rows: IndexLike, src: Tensor): Tensor {
  const ix = asIndex(rows);
  const N = target.shape[0]!;
  checkIndex(ix, N, "indexAdd");
  const w = N === 0 ? 0 : target.size / N;
  if (src.shape[0] !== ix.length || src.size !== ix.length * w) {
    throw shapeError(`indexAdd: src ${fmtShape(src.shape)} does not match ${ix.length} rows of ${fmtShape(target.shape.slice(1))}`);
  }
  const sd = src.contiguousData();
  const out = Float32Array.from(target.contiguousData());
  scatterAddRows(out, ix, sd, w);
  return fromOp(out, target.shape, "indexAdd", [target, src], (g) => {
    let ds: Float32Array | null = null;
    if (src.requiresGrad) {
      ds = new Float32Array(ix.length * w);
      for (let i = 0; i < ix.length; i++) ds.set(g.subarray(ix[i]! * w, ix[i]! * w + w), i * w);
    }
    return [target.requiresGrad ? g : null, ds];
  });
}

function scatterAddRows(dst: Float32Array, ix: Int32Array, src: Float32Array, w: number): Float32Array {
  for (let i = 0; i < ix.length; i++) {
    const o = ix[i]! * w;
    const so = i * w;
    for (let j = 0; j < w; j++) dst[o + j] = dst[o + j]! + src[so + j]!;
  }
  return dst;
}
