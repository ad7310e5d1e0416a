// The Tensor: float32 storage, a shape, strides and an offset (so reshape, permute, transpose and
// slice are views that copy nothing), and reverse-mode autograd.
//
// Autograd: an op whose inputs require gradients (while grad mode is on) records a node on its
// output — the op's name, its inputs and a backward function that maps the gradient of the output
// (contiguous, in the output's shape) to the gradients of the inputs (contiguous, in each input's
// shape). `loss.backward()` orders the recorded graph topologically and walks it once from the loss
// to the leaves, summing the gradients of tensors used more than once, and adds the leaves'
// gradients into their `.grad` (so gradients accumulate across calls until `zeroGrad`). The graph
// is freed as it is walked unless `retainGraph` is set.

import { StrataError } from "../core/errors.js";
import { stridedCopy } from "./kernels/elementwise.js";
import * as ops from "./ops.js";
import { type Rng } from "../core/random.js";
import { type Shape, checkShape, contiguousStrides, fmtShape, isContiguousLayout, numel, shapeError } from "./shape.js";

/** Maps the output's gradient to one gradient per input (null where an input needs none). */
export type BackwardFn = (grad: Float32Array) => readonly (Float32Array | null)[];

interface GradNode {
  readonly op: string;
  inputs: readonly Tensor[];
  backward: BackwardFn | null; // null once freed
}

let gradEnabled = true;

/** Whether ops record the graph now. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` with graph recording off (inference, optimizer updates). `fn` must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with graph recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export interface TensorOptions {
  requiresGrad?: boolean;
  name?: string;
}

export class Tensor {
  /** The storage; views share it. Element (i0, i1, …) is at offset + Σ i_d · strides[d]. */
  readonly data: Float32Array;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to this tensor (leaves: set by the user; op results: derived). */
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after `backward()`, contiguous, same shape. */
  grad: Tensor | null = null;
  name: string | undefined;
  /** @internal The op that produced this tensor, while the graph is recorded. */
  node: GradNode | null = null;

  /** A view of `data`; without strides the tensor is contiguous from `offset` (and must fit). */
  constructor(data: Float32Array, shape: Shape, strides?: Shape, offset = 0, options: TensorOptions = {}) {
    if (!strides && offset + numel(shape) > data.length) {
      throw shapeError(`a tensor of shape ${fmtShape(shape)} at offset ${offset} does not fit its ${data.length} values`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.size = numel(shape);
    this.requiresGrad = options.requiresGrad ?? false;
    this.name = options.name;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Whether the elements lie in row-major order without gaps (a view may still start at an offset). */
  isContiguous(): boolean {
    return isContiguousLayout(this.shape, this.strides);
  }

  /**
   * The elements in row-major order as a Float32Array of `size`: the storage itself or a subarray of
   * it when contiguous (do not write to it unless you own the tensor), a copy otherwise.
   */
  contiguousData(): Float32Array {
    if (this.isContiguous()) {
      if (this.offset === 0 && this.data.length === this.size) return this.data;
      return this.data.subarray(this.offset, this.offset + this.size);
    }
    return stridedCopy(this.data, this.offset, this.shape, this.strides);
  }

  /** A copy of the elements as a plain array in row-major order. */
  toArray(): number[] {
    return Array.from(this.contiguousData());
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw shapeError(`item() needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.data[this.offset]!;
  }

  /** A tensor sharing this one's storage, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.strides, this.offset);
  }

  /** Marks a leaf as requiring gradients (chainable). */
  requireGrad(on = true): this {
    if (this.node) throw new StrataError("USAGE", "requireGrad: only leaf tensors can be switched", "call detach() first to make a leaf");
    this.requiresGrad = on;
    return this;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}${this.requiresGrad ? ", requiresGrad" : ""}${this.node ? `, op=${this.node.op}` : ""})`;
  }

  /**
   * Back-propagates from this tensor. Without `grad`, the tensor must have one element (a loss) and
   * its gradient is 1. Leaves' gradients are added to their `.grad`.
   */
  backward(grad?: Tensor | Float32Array, options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) {
      throw new StrataError("USAGE", "backward() on a tensor that does not require gradients", "make a parameter requireGrad() and compute this tensor from it with grad mode on");
    }
    let seed: Float32Array;
    if (grad === undefined) {
      if (this.size !== 1) throw shapeError(`backward() without a gradient needs a one-element tensor, got ${fmtShape(this.shape)}`, "reduce the output to a scalar loss, or pass the gradient");
      seed = Float32Array.of(1);
    } else {
      seed = grad instanceof Tensor ? grad.contiguousData() : grad;
      if (seed.length !== this.size) throw shapeError(`backward(): the gradient has ${seed.length} elements, the tensor ${this.size}`);
    }
    runBackward(this, seed, options.retainGraph ?? false);
  }

  // ---- method forms of the ops (see ops.ts for the definitions) ----
  add(o: Tensor | number): Tensor { return ops.add(this, o); }
  sub(o: Tensor | number): Tensor { return ops.sub(this, o); }
  mul(o: Tensor | number): Tensor { return ops.mul(this, o); }
  div(o: Tensor | number): Tensor { return ops.div(this, o); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  square(): Tensor { return ops.square(this); }
  pow(p: number): Tensor { return ops.pow(this, p); }
  sum(axes?: number | readonly number[], keepdim = false): Tensor { return ops.sum(this, axes, keepdim); }
  mean(axes?: number | readonly number[], keepdim = false): Tensor { return ops.mean(this, axes, keepdim); }
  max(axes?: number | readonly number[], keepdim = false): Tensor { return ops.max(this, axes, keepdim); }
  reshape(shape: Shape): Tensor { return ops.reshape(this, shape); }
  permute(dims: readonly number[]): Tensor { return ops.permute(this, dims); }
  transpose(a = -2, b = -1): Tensor { return ops.transpose(this, a, b); }
  slice(axis: number, start: number, end: number): Tensor { return ops.slice(this, axis, start, end); }
  contiguous(): Tensor { return ops.contiguous(this); }
  matmul(o: Tensor): Tensor { return ops.matmul(this, o); }
}

/** Creates an op's output and records its node when grad mode is on and an input requires gradients. */
export function fromOp(data: Float32Array, shape: Shape, op: string, inputs: readonly Tensor[], backward: BackwardFn, strides?: Shape, offset = 0): Tensor {
  const out = new Tensor(data, shape, strides, offset);
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

interface GradEntry {
  g: Float32Array;
  /** False while `g` may be shared with another tensor's gradient (so it must not be written). */
  owned: boolean;
}

function addInto(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = dst[i]! + src[i]!;
}

function runBackward(root: Tensor, seed: Float32Array, retainGraph: boolean): void {
  // Topological order by an iterative depth-first search (post-order: inputs before users).
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: { t: Tensor; next: number }[] = [{ t: root, next: 0 }];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const inputs = top.t.node?.inputs ?? [];
    if (top.next < inputs.length) {
      const child = inputs[top.next++]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push({ t: child, next: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }

  const grads = new Map<Tensor, GradEntry>([[root, { g: seed, owned: false }]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const entry = grads.get(t);
    if (!entry) continue;
    grads.delete(t);
    const node = t.node;
    if (!node) {
      // A leaf: accumulate into .grad.
      if (t.grad === null) t.grad = new Tensor(entry.owned ? entry.g : Float32Array.from(entry.g), t.shape);
      else addInto(t.grad.data, entry.g);
      continue;
    }
    if (!node.backward) {
      throw new StrataError("USAGE", `backward() through the graph of '${node.op}' a second time, after it was freed`, "pass { retainGraph: true } to the first backward() to walk a graph twice");
    }
    const inGrads = node.backward(entry.g);
    for (let j = 0; j < node.inputs.length; j++) {
      const input = node.inputs[j]!;
      const g = inGrads[j];
      if (!input.requiresGrad || !g) continue;
      if (g.length !== input.size) {
        throw new StrataError("INTERNAL", `backward of '${node.op}' returned ${g.length} gradient elements for an input of ${input.size}`);
      }
      const have = grads.get(input);
      if (!have) grads.set(input, { g, owned: false });
      else if (have.owned) addInto(have.g, g);
      else {
        const sum = Float32Array.from(have.g);
        addInto(sum, g);
        grads.set(input, { g: sum, owned: true });
      }
    }
    if (!retainGraph) {
      node.backward = null;
      node.inputs = [];
    }
  }
}

// ---- creation ----

/** A tensor from values (a flat array in row-major order; a Float32Array becomes the storage, not a copy) and a shape (default: 1-D). */
export function tensor(values: ArrayLike<number>, shape?: Shape, options: TensorOptions = {}): Tensor {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  const s = shape ?? [data.length];
  checkShape(s, "tensor");
  if (numel(s) !== data.length) throw shapeError(`tensor: ${data.length} values do not fill shape ${fmtShape(s)}`);
  return new Tensor(data, s, undefined, 0, options);
}

export function scalar(value: number, options: TensorOptions = {}): Tensor {
  return new Tensor(Float32Array.of(value), [], undefined, 0, options);
}

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  checkShape(shape, "full");
  return new Tensor(new Float32Array(numel(shape)).fill(value), shape, undefined, 0, options);
}

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  checkShape(shape, "zeros");
  return new Tensor(new Float32Array(numel(shape)), shape, undefined, 0, options);
}

export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Normal samples: mean + std · N(0, 1), drawn from `rng`. */
export function randn(shape: Shape, rng: Rng, options: TensorOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape(shape, "randn");
  const data = rng.fillNormal(new Float32Array(numel(shape)), options.mean ?? 0, options.std ?? 1);
  return new Tensor(data, shape, undefined, 0, options);
}

/** Uniform samples in [low, high), drawn from `rng`. */
export function rand(shape: Shape, rng: Rng, options: TensorOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape(shape, "rand");
  const data = rng.fillUniform(new Float32Array(numel(shape)), options.low ?? 0, options.high ?? 1);
  return new Tensor(data, shape, undefined, 0, options);
}
