// The CPU steppers of fine-tuning (the Stepper contract is in stepper.ts):
//
//   SftStepper   cross-entropy on the assistant tokens (targets −100 elsewhere), for full fine-tuning
//                (every parameter in the optimizer) or LoRA (only the adapters; dropout on while
//                accumulating, reseeded per micro-batch so a resume draws the same masks)
//   DpoStepper   Direct Preference Optimization (Rafailov et al.): a batch holds B chosen rows then B
//                rejected rows; with s(x) the summed log-probability of a row's answer tokens,
//                  z = β · ((s_π(chosen) − s_ref(chosen)) − (s_π(rejected) − s_ref(rejected)))
//                  loss = −mean(log σ(z))
//                The reference is the policy with its LoRA switched off (no second copy), or a frozen
//                copy of the base for full DPO. Held-out metrics: the reward margin mean(z), the preference
//                accuracy mean(z > 0), and the mean chosen and rejected rewards β·(s_π − s_ref).
import type { Llama, LoraModel } from "../nn/index.js";
import { type Tensor, cat, logSoftmax, mean, mul, neg, noGrad, reshape, slice, sub, sum, takeAlong, tensor, zeros } from "../tensor/index.js";
import { clipGradNorm } from "./clip.js";
import type { Batch } from "./dataset.js";
import type { AdamW } from "./optimizer.js";
import { IGNORE } from "./sft-data.js";
import type { StepResult, Stepper } from "./stepper.js";

/** A micro-batch with its index in the run's stream (seeds LoRA dropout). */
export interface SeqBatch extends Batch {
  seq?: number;
}

abstract class FinetuneStepper implements Stepper {
  constructor(protected readonly model: Llama, protected readonly opt: AdamW, private readonly gradClip: number, protected readonly lora: LoraModel | null) {}

  protected abstract lossOf(b: Batch): Tensor;

  async accumulate(batches: readonly Batch[]): Promise<StepResult> {
    this.opt.zeroGrad();
    const losses: number[] = [];
    this.lora?.setTraining(true);
    try {
      for (const b of batches) {
        this.lora?.reseed((b as SeqBatch).seq ?? 0);
        const loss = this.lossOf(b);
        const l = loss.item();
        losses.push(l);
        if (!Number.isFinite(l)) return { losses, norm: Number.NaN };
        loss.backward(Float32Array.of(1 / batches.length));
      }
    } finally {
      this.lora?.setTraining(false);
    }
    const norm = clipGradNorm(this.opt.params.map((p) => p.tensor), this.gradClip).norm;
    return { losses, norm };
  }

  update(lr: number): void {
    this.opt.step(lr);
    this.opt.zeroGrad();
  }

  async loss(b: Batch): Promise<number> {
    return noGrad(() => this.lossOf(b).item());
  }

  async download(): Promise<void> {}

  release(): void {}
}

export class SftStepper extends FinetuneStepper {
  protected lossOf(b: Batch): Tensor {
    return this.model.loss(b.ids, b.targets, b.shape).loss;
  }
}

/**
 * Summed log-probability of each row's scored targets: logits [R, T, V], targets [R·T] (−100 not
 * scored) → [R].
 */
export function sequenceLogProbs(logits: Tensor, targets: Int32Array): Tensor {
  const [R, T] = logits.shape as [number, number, number];
  const safe = new Int32Array(targets.length);
  const mask = new Float32Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== IGNORE) {
      safe[i] = targets[i]!;
      mask[i] = 1;
    }
  }
  const picked = reshape(takeAlong(logSoftmax(logits), safe, 1), [R, T]);
  return sum(mul(picked, tensor(mask, [R, T])), 1);
}

/**
 * log σ(z) per element of z [B], as the second column of logSoftmax([0, z]): finite for any z, and
 * with the right gradient at z = 0 (where DPO starts: a zero-initialised adapter gives z = 0, and a
 * max(x, 0)-style softplus would have a zero subgradient there and never move).
 */
function logSigmoid(z: Tensor): Tensor {
  const B = z.shape[0]!;
  const pair = cat([zeros([B, 1]), reshape(z, [B, 1])], 1); // [B, 2]
  return reshape(slice(logSoftmax(pair), 1, 1, 2), [B]);
}

export interface DpoParts {
  loss: Tensor;
  /** β·(policy − reference) log-ratio of each chosen and rejected row, [B] each. */
  chosenRewards: Float32Array;
  rejectedRewards: Float32Array;
}

/** The DPO loss of a batch of B chosen then B rejected rows, given the reference's summed log-probs ([2B]). */
export function dpoLoss(policyLogps: Tensor, refLogps: Float32Array, beta: number): DpoParts {
  const B = policyLogps.shape[0]! / 2;
  const ratio = sub(policyLogps, tensor(refLogps, [2 * B])); // [2B]
  const z = mul(sub(slice(ratio, 0, 0, B), slice(ratio, 0, B, 2 * B)), beta); // [B]
  const loss = neg(mean(logSigmoid(z)));
  const r = ratio.contiguousData();
  return { loss, chosenRewards: Float32Array.from(r.subarray(0, B), (v) => beta * v), rejectedRewards: Float32Array.from(r.subarray(B, 2 * B), (v) => beta * v) };
}

export class DpoStepper extends FinetuneStepper {
  /** `reference`: a frozen copy of the base for full DPO; null with LoRA (the adapter is switched off instead). */
  constructor(model: Llama, opt: AdamW, gradClip: number, lora: LoraModel | null, private readonly beta: number, private readonly reference: Llama | null) {
    super(model, opt, gradClip, lora);
  }

  private referenceLogps(b: Batch): Float32Array {
    return noGrad(() => {
      if (this.reference) return Float32Array.from(sequenceLogProbs(this.reference.forward(b.ids, b.shape).logits, b.targets).contiguousData());
      const training = [...this.lora!.adapters.values()][0]?.training ?? false;
      this.lora!.setEnabled(false);
      try {
        return Float32Array.from(sequenceLogProbs(this.model.forward(b.ids, b.shape).logits, b.targets).contiguousData());
      } finally {
        this.lora!.setEnabled(true);
        this.lora!.setTraining(training);
      }
    });
  }

  parts(b: Batch): DpoParts {
    const ref = this.referenceLogps(b);
    const policy = sequenceLogProbs(this.model.forward(b.ids, b.shape).logits, b.targets);
    return dpoLoss(policy, ref, this.beta);
  }

  protected lossOf(b: Batch): Tensor {
    return this.parts(b).loss;
  }

  async metrics(batches: readonly Batch[]): Promise<Record<string, number>> {
    let n = 0;
    let margin = 0;
    let correct = 0;
    let chosen = 0;
    let rejected = 0;
    noGrad(() => {
      for (const b of batches) {
        const p = this.parts(b);
        for (let i = 0; i < p.chosenRewards.length; i++) {
          const m = p.chosenRewards[i]! - p.rejectedRewards[i]!;
          margin += m;
          if (m > 0) correct++;
          chosen += p.chosenRewards[i]!;
          rejected += p.rejectedRewards[i]!;
          n++;
        }
      }
    });
    return { rewardMargin: margin / n, accuracy: correct / n, chosenReward: chosen / n, rejectedReward: rejected / n };
  }
}
