// The Module base: named parameters and sub-modules, parameter counting, and state dicts — the
// parameters as plain typed arrays by dotted name (`layers.0.attention.wq.weight`), which is what
// checkpoints and GGUF export read and write.

import { StrataError } from "../core/errors.js";
import { type Tensor } from "../tensor/index.js";

/** One tensor's shape and values, row-major. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Parameters by dotted name, in registration order. */
export type StateDict = Record<string, TensorData>;

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter: a contiguous leaf that requires gradients. Returns it. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    if (this.params.has(name) || this.children.has(name)) throw new StrataError("INTERNAL", `duplicate module entry '${name}'`);
    if (!t.isContiguous() || t.offset !== 0 || t.data.length !== t.size || t.node) {
      throw new StrataError("INTERNAL", `parameter '${name}' must be a contiguous leaf with its own storage`);
    }
    t.requireGrad(true);
    t.name = name;
    this.params.set(name, t);
    return t;
  }

  /** Registers a sub-module under a name. Returns it. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    if (this.params.has(name) || this.children.has(name)) throw new StrataError("INTERNAL", `duplicate module entry '${name}'`);
    this.children.set(name, m);
    return m;
  }

  /** Every parameter with its dotted name, depth-first in registration order; shared tensors appear once. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, p: string): void => {
      for (const [n, t] of m.params) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([p + n, t]);
      }
      for (const [n, c] of m.children) walk(c, `${p}${n}.`);
    };
    walk(this, prefix);
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Number of scalar parameters (shared tensors counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  /** The parameters as copies (default) or as the live storage (`{ copy: false }`). */
  stateDict(options: { copy?: boolean } = {}): StateDict {
    const copy = options.copy ?? true;
    const out: StateDict = {};
    for (const [n, t] of this.namedParameters()) out[n] = { shape: [...t.shape], data: copy ? Float32Array.from(t.data) : t.data };
    return out;
  }

  /**
   * Copies values into the parameters (tensor identities are kept, so an optimizer holding them still
   * works). Every parameter must be present with its shape; with `strict` (default) no extra names
   * may be present either.
   */
  loadStateDict(sd: StateDict, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const named = this.namedParameters();
    const missing = named.filter(([n]) => !(n in sd)).map(([n]) => n);
    if (missing.length > 0) {
      throw new StrataError("STATE_DICT_MISMATCH", `the weights lack ${missing.length} parameter(s): ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}`, "load weights saved from a model with the same configuration");
    }
    if (strict) {
      const known = new Set(named.map(([n]) => n));
      const extra = Object.keys(sd).filter((n) => !known.has(n));
      if (extra.length > 0) {
        throw new StrataError("STATE_DICT_MISMATCH", `the weights have ${extra.length} unknown parameter(s): ${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", …" : ""}`, "load weights saved from a model with the same configuration, or pass { strict: false }");
      }
    }
    for (const [n, t] of named) {
      const e = sd[n]!;
      const sameShape = e.shape.length === t.shape.length && e.shape.every((d, i) => d === t.shape[i]);
      if (!sameShape || e.data.length !== t.size) {
        throw new StrataError("STATE_DICT_MISMATCH", `parameter ${n} has shape [${e.shape.join(", ")}] (${e.data.length} values) in the weights but [${t.shape.join(", ")}] in the model`, "the weights come from a model with another configuration");
      }
    }
    for (const [n, t] of named) t.data.set(sd[n]!.data);
  }
}

/** Modules in a list, named by index (`layers.0`, `experts.3`). */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: readonly M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
}
