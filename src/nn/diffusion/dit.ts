// A small diffusion transformer (DiT, Peebles & Xie 2023) that predicts the noise in an image:
//
//   x [B, C, H, W] ─ patchify(p) → [B, N, p²C] ─ Linear → + pos [N, d] → tokens [B, N, d]
//   c = MLP(timestep features(t)) + condition table[prompt row]          [B, d]
//   depth × block (adaLN-Zero):  (shift, scale, gate) × 2 = Linear(SiLU(c)) → 6 × [B, d]
//       x ← x + gate₁ · Attention(modulate(LN(x), shift₁, scale₁))      (bidirectional, `heads` heads)
//       x ← x + gate₂ · MLP(modulate(LN(x), shift₂, scale₂))            (Linear → SiLU → Linear)
//   final: modulate(LN(x), Linear(SiLU(c)) → shift, scale) → Linear → [B, N, p²C] → unpatchify
//
// The modulation and output projections start at zero (adaLN-Zero), so every block starts as the
// identity. The last row of the condition table is the null condition used for classifier-free
// guidance. The MLP uses SiLU where DiT uses GELU (the engine has SiLU; the PyTorch reference
// test builds the same model). Training loss: mean squared error between predicted and true noise.

import {
  Rng, type Tensor, add, attention, embedding, layerNorm, modulate, mean, mul, noGrad, patchify, randn, reshape, silu, slice, square, sub, tensor, unpatchify, unsqueeze, contiguous,
} from "../../tensor/index.js";
import { Linear } from "../layers.js";
import { Module, ModuleList } from "../module.js";
import { type DitConfig, tokenCount, validateDitConfig } from "./config.js";
import { timestepFeatures } from "./schedule.js";

function zeroInit(l: Linear): Linear {
  noGrad(() => {
    l.weight.data.fill(0);
    l.bias?.data.fill(0);
  });
  return l;
}

/** [B, k·d] → the k chunks [B, d] (contiguous copies, so the gradient of each lands in its columns). */
function chunks(x: Tensor, k: number): Tensor[] {
  const d = x.shape[1]! / k;
  return Array.from({ length: k }, (_, i) => contiguous(slice(x, 1, i * d, (i + 1) * d)));
}

class DitBlock extends Module {
  readonly ada: Linear;
  readonly wq: Linear;
  readonly wk: Linear;
  readonly wv: Linear;
  readonly wo: Linear;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(private readonly c: DitConfig, rng: Rng) {
    super();
    const d = c.dim;
    const init = { rng, bias: true, std: 0.02 };
    this.ada = this.registerModule("ada", zeroInit(new Linear(d, 6 * d, init)));
    this.wq = this.registerModule("wq", new Linear(d, d, init));
    this.wk = this.registerModule("wk", new Linear(d, d, init));
    this.wv = this.registerModule("wv", new Linear(d, d, init));
    this.wo = this.registerModule("wo", new Linear(d, d, init));
    this.fc1 = this.registerModule("fc1", new Linear(d, c.mlpRatio * d, init));
    this.fc2 = this.registerModule("fc2", new Linear(c.mlpRatio * d, d, init));
  }

  /** x [B, N, d], siluC = SiLU(c) [B, d]. */
  forward(x: Tensor, siluC: Tensor): Tensor {
    const [B, N, d] = x.shape as [number, number, number];
    const H = this.c.heads;
    const [shift1, scale1, gate1, shift2, scale2, gate2] = chunks(this.ada.forward(siluC), 6) as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const h = modulate(layerNorm(x), shift1, scale1);
    const q = reshape(this.wq.forward(h), [B, N, H, d / H]);
    const k = reshape(this.wk.forward(h), [B, N, H, d / H]);
    const v = reshape(this.wv.forward(h), [B, N, H, d / H]);
    const a = this.wo.forward(reshape(attention(q, k, v, { causal: false }), [B, N, d]));
    x = add(x, mul(unsqueeze(gate1, 1), a));
    const h2 = modulate(layerNorm(x), shift2, scale2);
    const m = this.fc2.forward(silu(this.fc1.forward(h2)));
    return add(x, mul(unsqueeze(gate2, 1), m));
  }
}

export class DiT extends Module {
  readonly config: DitConfig;
  readonly patchEmbed: Linear;
  readonly pos: Tensor;
  readonly t1: Linear;
  readonly t2: Linear;
  readonly cond: Tensor;
  readonly blocks: readonly DitBlock[];
  readonly finalAda: Linear;
  readonly out: Linear;

  constructor(config: DitConfig, options: { seed?: number } = {}) {
    super();
    validateDitConfig(config);
    this.config = config;
    const rng = new Rng(options.seed ?? 0);
    const d = config.dim;
    const pd = config.patch * config.patch * config.channels;
    const init = { rng, bias: true, std: 0.02 };
    this.patchEmbed = this.registerModule("patch_embed", new Linear(pd, d, init));
    this.pos = this.registerParameter("pos_embed", randn([tokenCount(config), d], rng, { std: 0.02 }));
    this.t1 = this.registerModule("t_embed1", new Linear(config.freqDim, d, init));
    this.t2 = this.registerModule("t_embed2", new Linear(d, d, init));
    this.cond = this.registerParameter("cond_embed", randn([config.prompts + 1, d], rng, { std: 0.02 }));
    this.blocks = this.registerModule("blocks", new ModuleList(Array.from({ length: config.depth }, () => new DitBlock(config, rng)))).items;
    this.finalAda = this.registerModule("final_ada", zeroInit(new Linear(d, 2 * d, init)));
    this.out = this.registerModule("final_out", zeroInit(new Linear(d, pd, init)));
  }

  /** The null condition's row (classifier-free guidance's unconditional branch). */
  get nullRow(): number {
    return this.config.prompts;
  }

  /**
   * Predicted noise for noisy images x [B, C, H, W] at timesteps t (B integers in [0, T)) under
   * condition rows cond (B integers; `nullRow` for none). Returns [B, C, H, W].
   */
  forward(x: Tensor, t: ArrayLike<number>, cond: ArrayLike<number>): Tensor {
    const c = this.config;
    const B = x.shape[0]!;
    const tokens = add(this.patchEmbed.forward(patchify(x, c.patch)), this.pos); // [B, N, d]
    const tf = tensor(timestepFeatures(t, c.freqDim), [B, c.freqDim]);
    const temb = this.t2.forward(silu(this.t1.forward(tf))); // [B, d]
    const cvec = add(temb, embedding(this.cond, Int32Array.from(cond))); // [B, d]
    const sc = silu(cvec);
    let h = tokens;
    for (const blk of this.blocks) h = blk.forward(h, sc);
    const [shift, scale] = chunks(this.finalAda.forward(sc), 2) as [Tensor, Tensor];
    const o = this.out.forward(modulate(layerNorm(h), shift, scale)); // [B, N, p²C]
    return unpatchify(o, c.patch, c.channels, c.image, c.image);
  }

  /** The DDPM objective: mean squared error of the predicted noise for x_t = √ᾱ·x0 + √(1−ᾱ)·noise. */
  loss(xt: Tensor, t: ArrayLike<number>, cond: ArrayLike<number>, noise: Tensor): Tensor {
    return mean(square(sub(this.forward(xt, t, cond), noise)));
  }
}

/** Builds x_t = √ᾱ_t · x0 + √(1 − ᾱ_t) · noise per sample (no gradient; x0 and noise [B, ...]). */
export function noiseImages(x0: Float32Array, noise: Float32Array, t: ArrayLike<number>, alphaBar: Float64Array, perSample: number): Float32Array {
  const out = new Float32Array(x0.length);
  for (let b = 0; b < t.length; b++) {
    const a = Math.sqrt(alphaBar[t[b]!]!);
    const s = Math.sqrt(1 - alphaBar[t[b]!]!);
    for (let i = b * perSample; i < (b + 1) * perSample; i++) out[i] = a * x0[i]! + s * noise[i]!;
  }
  return out;
}

