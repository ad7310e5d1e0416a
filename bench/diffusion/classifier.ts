// The judge of the image benchmark: a small MLP classifier of Fashion-MNIST trained by the engine
// (784 → 128 → 32 → 10, ReLU, AdamW), whose 32-wide second hidden layer is the feature space of
// the Fréchet distance. Its weights are cached in bench/out so repeated runs judge with the same one.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LabelledImages } from "../../src/formats/idx.js";
import { readSafetensors, writeSafetensors } from "../../src/formats/safetensors/index.js";
import { Linear, Module } from "../../src/nn/index.js";
import { Rng, type Tensor, crossEntropy, noGrad, relu, tensor } from "../../src/tensor/index.js";
import { AdamW } from "../../src/train/index.js";

export class Classifier extends Module {
  readonly l1: Linear;
  readonly l2: Linear;
  readonly l3: Linear;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.l1 = this.registerModule("l1", new Linear(784, 128, { rng, bias: true, std: Math.sqrt(2 / 784) }));
    this.l2 = this.registerModule("l2", new Linear(128, 32, { rng, bias: true, std: Math.sqrt(2 / 128) }));
    this.l3 = this.registerModule("l3", new Linear(32, 10, { rng, bias: true, std: Math.sqrt(1 / 32) }));
  }
  /** x [n, 784] in [−1, 1] → features [n, 32] and logits [n, 10]. */
  forward(x: Tensor): { features: Tensor; logits: Tensor } {
    const features = relu(this.l2.forward(relu(this.l1.forward(x))));
    return { features, logits: this.l3.forward(features) };
  }
}

export function toUnit(set: LabelledImages, from: number, count: number): Float32Array {
  const out = new Float32Array(count * 784);
  for (let i = 0; i < count * 784; i++) out[i] = set.images[from * 784 + i]! / 127.5 - 1;
  return out;
}

export async function trainedClassifier(train: LabelledImages, cacheDir: string, epochs: number, log: (s: string) => void): Promise<{ model: Classifier; cached: boolean; ms: number }> {
  const model = new Classifier(7);
  const file = join(cacheDir, `fashion-mlp-e${epochs}.safetensors`);
  if (existsSync(file)) {
    const t = await readSafetensors(file);
    model.loadStateDict(Object.fromEntries(Object.entries(t.tensors).map(([k, v]) => [k, { shape: v.shape, data: v.data }])));
    return { model, cached: true, ms: 0 };
  }
  const t0 = performance.now();
  const opt = new AdamW(model.namedParameters().map(([name, t]) => ({ name, tensor: t, decay: t.ndim >= 2 })), { lr: 2e-3, weightDecay: 1e-4 });
  const rng = new Rng(11);
  const B = 128;
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let s = 0; s + B <= order.length; s += B) {
      const x = new Float32Array(B * 784);
      const y = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const k = order[s + b]!;
        for (let p = 0; p < 784; p++) x[b * 784 + p] = train.images[k * 784 + p]! / 127.5 - 1;
        y[b] = train.labels[k]!;
      }
      opt.zeroGrad();
      crossEntropy(model.forward(tensor(x, [B, 784])).logits, y).backward();
      opt.step();
    }
    log(`classifier: epoch ${e + 1}/${epochs} done`);
  }
  await writeSafetensors(file, model.stateDict());
  return { model, cached: false, ms: performance.now() - t0 };
}

/** Features [n, 32] and predicted classes of n images in [−1, 1]. */
export function judge(model: Classifier, pixels: Float32Array, n: number): { features: Float32Array; predicted: Int32Array } {
  return noGrad(() => {
    const features = new Float32Array(n * 32);
    const predicted = new Int32Array(n);
    for (let s = 0; s < n; s += 500) {
      const m = Math.min(500, n - s);
      const out = model.forward(tensor(pixels.slice(s * 784, (s + m) * 784), [m, 784]));
      features.set(out.features.contiguousData(), s * 32);
      const lg = out.logits.contiguousData();
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (lg[i * 10 + c]! > lg[i * 10 + best]!) best = c;
        predicted[s + i] = best;
      }
    }
    return { features, predicted };
  });
}
