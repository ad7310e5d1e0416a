// LoRA (Hu et al., "Low-Rank Adaptation of Large Language Models"): a frozen base weight W [out, in]
// plus a trainable low-rank update, y = x Wᵀ + (alpha / r) · B (A · dropout(x)), with A [r, in]
// (uniform ±1/√in, PEFT's kaiming-uniform bound) and B [out, r] (zeros, so training starts at the
// base model). Adapters hang on the Linear layers they adapt (Linear.adapter) and are not part of
// the model's state dict: the base checkpoint stays the base, and the adapter is saved on its own as
// `<linear>.lora_a` / `<linear>.lora_b` (e.g. layers.0.attention.wq.lora_a).
//
// Switching the adapters off (`setEnabled(false)`) gives back the base model exactly — DPO's frozen
// reference without a second copy. Dropout masks come from a generator reseeded per micro-batch
// (`reseed`), so a resumed run draws the same masks as an uninterrupted one.
import { StrataError } from "../core/errors.js";
import { Rng, type Tensor, linear, matmul, mul, noGrad, tensor, zeros } from "../tensor/index.js";
import { FeedForward, type Linear, type LinearAdapter } from "./layers.js";
import type { Llama } from "./llama.js";
import { loraLinear } from "./lora-linear.js";
import type { StateDict } from "./module.js";

/** The projections LoRA can adapt, by Strata name: attention q/k/v/o and the SwiGLU gate/down/up. */
export const LORA_TARGETS = ["wq", "wk", "wv", "wo", "w1", "w2", "w3"] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** Names used by Hugging Face PEFT and llama.cpp, mapped to Strata's. */
const ALIASES: Record<string, LoraTarget> = {
  q_proj: "wq", k_proj: "wk", v_proj: "wv", o_proj: "wo", gate_proj: "w1", down_proj: "w2", up_proj: "w3",
  attn_q: "wq", attn_k: "wk", attn_v: "wv", attn_output: "wo", ffn_gate: "w1", ffn_down: "w2", ffn_up: "w3",
};

export interface LoraOptions {
  rank: number;
  alpha: number;
  /** Dropout on the adapter's input while training (0 ≤ p < 1). */
  dropout: number;
  targets: readonly LoraTarget[];
  seed: number;
}

/** r 16, alpha 32 on every projection; no dropout (PEFT's default: a mask costs an input-sized tensor per adapter). */
export const DEFAULT_LORA: Omit<LoraOptions, "seed"> = { rank: 16, alpha: 32, dropout: 0, targets: LORA_TARGETS };

/** "wq,v_proj,ffn_up" → Strata target names (deduplicated, in LORA_TARGETS order). */
export function parseLoraTargets(list: string): LoraTarget[] {
  const out = new Set<LoraTarget>();
  for (const raw of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (raw === "all") LORA_TARGETS.forEach((t) => out.add(t));
    else if (raw === "attention") (["wq", "wk", "wv", "wo"] as const).forEach((t) => out.add(t));
    else if (raw === "ffn") (["w1", "w2", "w3"] as const).forEach((t) => out.add(t));
    else if ((LORA_TARGETS as readonly string[]).includes(raw)) out.add(raw as LoraTarget);
    else if (ALIASES[raw]) out.add(ALIASES[raw]!);
    else throw new StrataError("INVALID_CONFIG", `unknown LoRA target "${raw}"`, `use ${LORA_TARGETS.join(", ")} (or q_proj…up_proj, attn_q…ffn_down, attention, ffn, all)`);
  }
  if (out.size === 0) throw new StrataError("INVALID_CONFIG", "no LoRA target given", "e.g. --targets wq,wk,wv,wo");
  return LORA_TARGETS.filter((t) => out.has(t));
}

export class LoraAdapter implements LinearAdapter {
  readonly a: Tensor;
  readonly b: Tensor;
  readonly scale: number;
  enabled = true;
  training = false;

  constructor(readonly rank: number, readonly inFeatures: number, readonly outFeatures: number, readonly alpha: number, readonly dropout: number, rng: Rng, private readonly owner: LoraModel) {
    const bound = 1 / Math.sqrt(inFeatures);
    this.a = tensor(rng.fillUniform(new Float32Array(rank * inFeatures), -bound, bound), [rank, inFeatures]).requireGrad(true);
    this.b = zeros([outFeatures, rank]).requireGrad(true);
    this.scale = alpha / rank;
  }

  /** Without dropout in play: the base product and the low-rank term in one op (lora-linear.ts). */
  fused(x: Tensor, weight: Tensor): Tensor | null {
    if (!this.enabled || (this.training && this.dropout > 0)) return null;
    return loraLinear(x, weight, this.a, this.b, this.scale);
  }

  delta(x: Tensor): Tensor | null {
    if (!this.enabled) return null;
    let h = x;
    if (this.training && this.dropout > 0) {
      const keep = 1 / (1 - this.dropout);
      const rng = this.owner.dropoutRng;
      const mask = new Float32Array(x.size);
      for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < this.dropout ? 0 : keep;
      h = mul(x, tensor(mask, x.shape));
    }
    // The scale applied to the [.., r] product rather than the [.., out] result: one small tensor fewer per adapter.
    return linear(mul(linear(h, this.a), this.scale), this.b);
  }
}

/** The adapters of one model, by the dotted name of the Linear they adapt. */
export class LoraModel {
  readonly adapters = new Map<string, LoraAdapter>();
  private readonly linears = new Map<string, Linear>();
  dropoutRng: Rng;

  constructor(readonly options: LoraOptions) {
    this.dropoutRng = new Rng(options.seed);
  }

  /** @internal */
  add(name: string, lin: Linear, rng: Rng): void {
    const o = this.options;
    this.adapters.set(name, new LoraAdapter(o.rank, lin.inFeatures, lin.outFeatures, o.alpha, o.dropout, rng, this));
    this.linears.set(name, lin);
    lin.adapter = this.adapters.get(name)!;
  }

  /** The trainable tensors: `<linear>.lora_a`, `<linear>.lora_b`, in layer order. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, a] of this.adapters) out.push([`${n}.lora_a`, a.a], [`${n}.lora_b`, a.b]);
    return out;
  }

  numParameters(): number {
    return this.namedParameters().reduce((n, [, t]) => n + t.size, 0);
  }

  stateDict(options: { copy?: boolean } = {}): StateDict {
    const copy = options.copy ?? true;
    return Object.fromEntries(this.namedParameters().map(([n, t]) => [n, { shape: [...t.shape], data: copy ? Float32Array.from(t.data) : t.data }]));
  }

  loadStateDict(sd: StateDict): void {
    const named = this.namedParameters();
    const known = new Set(named.map(([n]) => n));
    const extra = Object.keys(sd).filter((n) => !known.has(n));
    if (extra.length > 0) throw new StrataError("STATE_DICT_MISMATCH", `the adapter has tensors this model's LoRA does not: ${extra.slice(0, 3).join(", ")}`, "load an adapter trained with the same targets");
    for (const [n, t] of named) {
      const e = sd[n];
      if (!e) throw new StrataError("STATE_DICT_MISMATCH", `the adapter lacks ${n}`, "load an adapter trained with the same targets and rank");
      if (e.shape.length !== 2 || e.shape[0] !== t.shape[0] || e.shape[1] !== t.shape[1]) {
        throw new StrataError("STATE_DICT_MISMATCH", `adapter tensor ${n} is [${e.shape.join(", ")}] but this base needs [${t.shape.join(", ")}]`, "the adapter was trained for another base model or rank");
      }
    }
    for (const [n, t] of named) t.data.set(sd[n]!.data);
  }

  setEnabled(on: boolean): void {
    for (const a of this.adapters.values()) a.enabled = on;
  }

  setTraining(on: boolean): void {
    for (const a of this.adapters.values()) a.training = on;
  }

  /** Dropout masks for micro-batch `k` (deterministic in k). */
  reseed(k: number): void {
    this.dropoutRng = new Rng(this.options.seed * 1_000_003 + k);
  }

  /** The base weights with every adapter folded in: W + (alpha/r) · B A. `base` is not changed. */
  mergedStateDict(base: StateDict): StateDict {
    const out: StateDict = { ...base };
    noGrad(() => {
      for (const [n, a] of this.adapters) {
        const key = `${n}.weight`;
        const w = base[key];
        if (!w) throw new StrataError("STATE_DICT_MISMATCH", `the base lacks ${key}`, "merge into the base the adapter was trained on");
        const ba = matmul(a.b.detach(), a.a.detach()).contiguousData(); // [out, in]
        const merged = new Float32Array(w.data.length);
        for (let i = 0; i < merged.length; i++) merged[i] = w.data[i]! + a.scale * ba[i]!;
        out[key] = { shape: [...w.shape], data: merged };
      }
    });
    return out;
  }

  /** Removes the adapters from the model's layers. */
  detach(): void {
    for (const lin of this.linears.values()) lin.adapter = null;
  }
}

/** The Linear layers a target list names, by dotted state-dict prefix. */
function targetLinears(model: Llama, targets: readonly LoraTarget[]): Array<[string, Linear]> {
  const out: Array<[string, Linear]> = [];
  model.layers.forEach((block, l) => {
    const att = block.attention;
    const p = `layers.${l}`;
    const attn: Record<string, Linear> = { wq: att.wq, wk: att.wk, wv: att.wv, wo: att.wo };
    for (const t of ["wq", "wk", "wv", "wo"] as const) if (targets.includes(t)) out.push([`${p}.attention.${t}`, attn[t]!]);
    const ff = block.feedForward;
    const wantsFfn = targets.some((t) => t === "w1" || t === "w2" || t === "w3");
    if (wantsFfn && !(ff instanceof FeedForward)) {
      throw new StrataError("UNSUPPORTED_ARCHITECTURE", "LoRA on the feed-forward of a mixture-of-experts model is not supported", "target the attention projections only (--targets wq,wk,wv,wo)");
    }
    if (ff instanceof FeedForward) {
      const ffn: Record<string, Linear> = { w1: ff.w1, w2: ff.w2, w3: ff.w3 };
      for (const t of ["w1", "w2", "w3"] as const) if (targets.includes(t)) out.push([`${p}.feed_forward.${t}`, ffn[t]!]);
    }
  });
  return out;
}

/**
 * Freezes every base parameter and hangs an adapter on each target projection. Refuses a rank
 * above a target layer's smaller dimension (the update would not be low-rank).
 */
export function attachLora(model: Llama, options: LoraOptions): LoraModel {
  const { rank, alpha, dropout } = options;
  if (!Number.isInteger(rank) || rank < 1) throw new StrataError("INVALID_CONFIG", `LoRA rank must be a whole number ≥ 1, got ${rank}`, "e.g. --rank 16");
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new StrataError("INVALID_CONFIG", `LoRA alpha must be a positive number, got ${alpha}`, "e.g. --alpha 32 (twice the rank is common)");
  if (!(dropout >= 0 && dropout < 1)) throw new StrataError("INVALID_CONFIG", `LoRA dropout must be in [0, 1), got ${dropout}`, "e.g. --dropout 0.05");
  const lins = targetLinears(model, options.targets);
  for (const [name, lin] of lins) {
    const limit = Math.min(lin.inFeatures, lin.outFeatures);
    if (rank > limit) {
      throw new StrataError("INVALID_CONFIG", `LoRA rank ${rank} exceeds the dimension of ${name} ([${lin.outFeatures}, ${lin.inFeatures}]: at most ${limit})`, `use --rank ${Math.min(16, limit)} or less`);
    }
  }
  for (const p of model.parameters()) p.requireGrad(false);
  const lora = new LoraModel(options);
  const rng = new Rng(options.seed);
  for (const [name, lin] of lins) lora.add(name, lin, rng);
  return lora;
}

/** Reads rank and targets back from adapter tensors (names `<linear>.lora_a`), for loading a saved adapter. */
export function loraShapeFromStateDict(sd: StateDict): { rank: number; targets: LoraTarget[] } {
  const targets = new Set<LoraTarget>();
  let rank = 0;
  for (const [name, t] of Object.entries(sd)) {
    const m = /\.(wq|wk|wv|wo|w1|w2|w3)\.lora_(a|b)$/.exec(name);
    if (!m) throw new StrataError("STATE_DICT_MISMATCH", `adapter tensor ${name} is not a LoRA tensor of a known projection`, "load an adapter written by Strata");
    targets.add(m[1] as LoraTarget);
    const r = m[2] === "a" ? t.shape[0]! : t.shape[1]!;
    if (rank !== 0 && r !== rank) throw new StrataError("STATE_DICT_MISMATCH", `adapter tensor ${name} has rank ${r}, others ${rank}`, "the adapter file is damaged");
    rank = r;
  }
  if (rank === 0) throw new StrataError("STATE_DICT_MISMATCH", "the adapter holds no tensors", "load an adapter written by Strata");
  return { rank, targets: LORA_TARGETS.filter((t) => targets.has(t)) };
}

/** Attaches a saved adapter (its tensors and alpha) to a model; no parameter is frozen or trained. */
export function loadLora(model: Llama, sd: StateDict, alpha: number): LoraModel {
  const { rank, targets } = loraShapeFromStateDict(sd);
  const lora = attachLora(model, { rank, alpha, dropout: 0, targets, seed: 0 });
  for (const p of model.parameters()) p.requireGrad(true);
  lora.loadStateDict(sd);
  return lora;
}

