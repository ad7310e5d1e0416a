// A tiny trained llama for the engine, export and CLI tests: a byte-level BPE tokenizer trained on a
// short text, and a llama trained on that text for a few dozen Adam steps (a plain Adam written
// here, so these tests do not depend on src/train), so its predictions are not pure noise.
import { Llama, type LlamaConfig } from "../../../src/nn/index.js";
import { Rng } from "../../../src/core/random.js";
import { noGrad } from "../../../src/tensor/index.js";
import { trainTokenizerFromTexts, type Tokenizer } from "../../../src/tokenizer/index.js";
import { writeCheckpoint, writeRunConfig } from "../../../src/formats/checkpoint.js";

export const TINY_TEXT = [
  "The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox runs into the wood.",
  "ROMEO: But soft, what light through yonder window breaks? It is the east, and Juliet is the sun.",
  "JULIET: O Romeo, Romeo, wherefore art thou Romeo? Deny thy father and refuse thy name.",
  "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer the slings and arrows.",
  "All the world's a stage, and all the men and women merely players; they have their exits and their entrances.",
  "Now is the winter of our discontent made glorious summer by this sun of York.",
].join("\n");

export interface TinyTrained {
  model: Llama;
  tokenizer: Tokenizer;
  config: LlamaConfig;
  /** Training loss at the first and the last step. */
  losses: { first: number; last: number };
}

export interface TinyTrainOptions {
  steps?: number;
  tieEmbeddings?: boolean;
  seed?: number;
  vocabSize?: number;
  dim?: number;
  heads?: number;
  kvHeads?: number;
  ffnDim?: number;
  layers?: number;
  maxSeq?: number;
  moe?: LlamaConfig["moe"];
}

export async function tinyTokenizer(vocabSize = 320): Promise<Tokenizer> {
  const texts = TINY_TEXT.split("\n");
  return (await trainTokenizerFromTexts([...texts, ...texts], { vocabSize, whenDataRunsOut: "stop" })).tokenizer;
}

/** Builds and trains a tiny llama on TINY_TEXT (Adam, lr 3e-3, batch 4 × 32 tokens). */
export async function tinyTrainedLlama(opts: TinyTrainOptions = {}): Promise<TinyTrained> {
  const tokenizer = await tinyTokenizer(opts.vocabSize);
  const config: LlamaConfig = {
    vocab: tokenizer.vocabSize,
    dim: opts.dim ?? 64,
    layers: opts.layers ?? 2,
    heads: opts.heads ?? 4,
    kvHeads: opts.kvHeads ?? 2,
    ffnDim: opts.ffnDim ?? 128,
    maxSeq: opts.maxSeq ?? 128,
    ropeBase: 10000,
    normEps: 1e-5,
    tieEmbeddings: opts.tieEmbeddings ?? false,
    ...(opts.moe ? { moe: opts.moe } : {}),
  };
  const model = new Llama(config, { seed: opts.seed ?? 1 });
  const losses = trainAdam(model, tokenizer.encode(TINY_TEXT), opts.steps ?? 40, opts.seed ?? 1);
  return { model, tokenizer, config, losses };
}

function trainAdam(model: Llama, stream: number[], steps: number, seed: number): { first: number; last: number } {
  const B = 4;
  const T = 32;
  const lr = 3e-3;
  const [b1, b2, eps] = [0.9, 0.95, 1e-8];
  const params = model.parameters();
  const m = params.map((p) => new Float32Array(p.size));
  const v = params.map((p) => new Float32Array(p.size));
  const rng = new Rng(seed);
  let first = Number.NaN;
  let last = Number.NaN;
  for (let step = 1; step <= steps; step++) {
    const ids = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = rng.int(stream.length - T - 1);
      for (let t = 0; t < T; t++) {
        ids[b * T + t] = stream[start + t]!;
        targets[b * T + t] = stream[start + t + 1]!;
      }
    }
    model.zeroGrad();
    const { loss } = model.loss(ids, targets, [B, T]);
    loss.backward();
    const value = loss.item();
    if (step === 1) first = value;
    last = value;
    noGrad(() => {
      params.forEach((p, i) => {
        if (!p.grad) return; // an expert no token was routed to
        const g = p.grad.data;
        const mi = m[i]!;
        const vi = v[i]!;
        const c1 = 1 - b1 ** step;
        const c2 = 1 - b2 ** step;
        for (let k = 0; k < p.size; k++) {
          mi[k] = b1 * mi[k]! + (1 - b1) * g[k]!;
          vi[k] = b2 * vi[k]! + (1 - b2) * g[k]! * g[k]!;
          p.data[k] = p.data[k]! - (lr * (mi[k]! / c1)) / (Math.sqrt(vi[k]! / c2) + eps);
        }
      });
    });
  }
  return { first, last };
}

/** Writes a run directory (run.json, tokenizer.json, one checkpoint) for a trained tiny model. */
export async function writeTinyRun(dir: string, trained: TinyTrained, step = 40): Promise<void> {
  await writeRunConfig(dir, { model: trained.config, train: { note: "written by test/model/builtin/helpers.ts" } }, trained.tokenizer);
  await writeCheckpoint(dir, {
    stateDict: trained.model.stateDict(),
    state: {
      format: "strata-train-state",
      version: 1,
      step,
      rng: new Rng(0).state(),
      data: { samples: step * 4, tokens: step * 128 },
      lr: 3e-3,
      history: { train: [{ step, loss: trained.losses.last, lr: 3e-3 }], val: [] },
      elapsedMs: 0,
    },
  });
}

/** Largest |a − b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
