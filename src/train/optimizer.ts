// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), written to do exactly what
// torch.optim.AdamW does (PyTorch 1.13, foreach = False, amsgrad = False, maximize = False), so the
// two agree within float32 rounding (a test checks it against torch):
//
//   p ← p · (1 − lr · wd)                        decoupled decay, only for parameters in the decay set
//   m ← β1 · m + (1 − β1) · g
//   v ← β2 · v + (1 − β2) · g²
//   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
//
// t counts this optimizer's steps. A parameter without a gradient is skipped (no decay, no moment
// update), as in PyTorch.
//
// Which parameters decay (`defaultDecay`): matrices of linear layers (attention, feed-forward,
// router, untied output), not the token embedding (a lookup table whose rows are updated only when
// their token occurs, so decay would shrink rare tokens' rows for nothing) and not RMSNorm gains
// (vectors). A tied output shares the embedding's tensor, so it does not decay either.

import { StrataError } from "../core/errors.js";
import type { TensorData } from "../nn/index.js";
import { type Tensor, backend } from "../tensor/index.js";

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface NamedParameter {
  name: string;
  tensor: Tensor;
  /** Whether weight decay applies (see `defaultDecay`). */
  decay: boolean;
}

/** The default decay rule: 2-D weights except the token embedding. */
export function defaultDecay(name: string, t: Tensor): boolean {
  return t.ndim >= 2 && !name.startsWith("tok_embeddings.");
}

export class AdamW {
  readonly params: readonly NamedParameter[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken. */
  stepCount = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(params: readonly NamedParameter[], options: AdamWOptions = {}) {
    this.params = params;
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    const check = (name: string, v: number, lo: number, hi: number): void => {
      if (!(v >= lo && v < hi)) throw new StrataError("INVALID_CONFIG", `AdamW: ${name} must be in [${lo}, ${hi}), got ${v}`, `use the usual value (${name === "beta1" ? 0.9 : name === "beta2" ? 0.999 : name})`);
    };
    check("beta1", this.beta1, 0, 1);
    check("beta2", this.beta2, 0, 1);
    if (!(this.eps > 0)) throw new StrataError("INVALID_CONFIG", `AdamW: eps must be positive, got ${this.eps}`, "use 1e-8");
    if (!(this.weightDecay >= 0)) throw new StrataError("INVALID_CONFIG", `AdamW: weight decay must be ≥ 0, got ${this.weightDecay}`, "use 0.1 or 0");
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new StrataError("INTERNAL", `AdamW: parameter ${p.name} given twice`);
      names.add(p.name);
      if (!p.tensor.isContiguous() || p.tensor.offset !== 0) throw new StrataError("INTERNAL", `AdamW: parameter ${p.name} must be contiguous`);
    }
    this.m = params.map((p) => new Float32Array(p.tensor.size));
    this.v = params.map((p) => new Float32Array(p.tensor.size));
  }

  /** Applies one update with the gradients in each parameter's `.grad`, at `lr` (default this.lr). */
  step(lr = this.lr): void {
    this.stepCount++;
    const t = this.stepCount;
    const { beta1: b1, beta2: b2, eps } = this;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const stepSize = lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const bk = backend();
    for (let i = 0; i < this.params.length; i++) {
      const { tensor, decay } = this.params[i]!;
      if (!tensor.grad) continue;
      const keep = decay && this.weightDecay > 0 ? Math.fround(1 - lr * this.weightDecay) : 1;
      // One fused pass per parameter (src/tensor/kernels/optim.ts, native where built): moments are
      // stored (rounded) to float32 before use, as PyTorch's float32 tensors hold them; the rest is
      // computed in float64 and rounded once, which stays within float32 rounding of torch.
      bk.adamw(tensor.data, tensor.grad.contiguousData(), this.m[i]!, this.v[i]!, { b1, b2, c1, c2, keep, stepSize, bc2Sqrt, eps });
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.tensor.zeroGrad();
  }

  /** The moments as named tensors (`<param>.exp_avg`, `<param>.exp_avg_sq`, PyTorch's names), live storage. */
  stateTensors(): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    this.params.forEach((p, i) => {
      out[`${p.name}.exp_avg`] = { shape: [...p.tensor.shape], data: this.m[i]! };
      out[`${p.name}.exp_avg_sq`] = { shape: [...p.tensor.shape], data: this.v[i]! };
    });
    return out;
  }

  /** Metadata saved with the moments. */
  stateMetadata(): Record<string, string> {
    return {
      type: "adamw",
      step: String(this.stepCount),
      beta1: String(this.beta1),
      beta2: String(this.beta2),
      eps: String(this.eps),
      weight_decay: String(this.weightDecay),
    };
  }

  /** Restores moments and the step count saved by `stateTensors`/`stateMetadata`. */
  loadState(tensors: Record<string, TensorData>, metadata: Record<string, string>): void {
    if (metadata.type !== "adamw") throw new StrataError("CHECKPOINT_INVALID", `the optimizer state is of type ${JSON.stringify(metadata.type)}, not adamw`, "resume with the optimizer the run was started with");
    const step = Number(metadata.step);
    if (!Number.isInteger(step) || step < 0) throw new StrataError("CHECKPOINT_INVALID", `the optimizer state has an invalid step ${JSON.stringify(metadata.step)}`, "resume from an earlier checkpoint");
    this.params.forEach((p, i) => {
      for (const [suffix, dst] of [["exp_avg", this.m[i]!], ["exp_avg_sq", this.v[i]!]] as const) {
        const t = tensors[`${p.name}.${suffix}`];
        if (!t) throw new StrataError("CHECKPOINT_INVALID", `the optimizer state lacks ${p.name}.${suffix}`, "the checkpoint is damaged or from another model: resume from an earlier step");
        if (t.data.length !== dst.length) throw new StrataError("STATE_DICT_MISMATCH", `the optimizer state of ${p.name} has ${t.data.length} values, the parameter ${dst.length}`, "the checkpoint is from another model shape");
        dst.set(t.data);
      }
    });
    this.stepCount = step;
  }
}
