// PyTorch reference: the same small llama is built from the same weights in plain PyTorch
// (test/nn/llama_reference.py, Debian's python3-torch through /usr/bin/python3); logits and the
// gradients of every parameter of the cross-entropy loss must agree within 1e-4. Skipped, with a
// message, when PyTorch is not installed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Llama, type LlamaConfig } from "../../src/nn/index.js";
import { Rng, withBackend } from "../../src/tensor/index.js";
import { repoRoot, tempDir } from "../helpers/paths.js";
import { availableBackends } from "../tensor/helpers.js";

const PYTHON = "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8", timeout: 60_000 });
const skip = probe.status === 0 ? false : `PyTorch is not importable from ${PYTHON} (apt-get install -y python3-torch): ${(probe.stderr || probe.error?.message || "").trim().split("\n").pop()}`;

const TOL = 1e-4;

function maxAbsDiff(a: Float32Array, b: Float32Array): { err: number; at: number; scale: number } {
  assert.equal(a.length, b.length);
  let err = 0;
  let at = -1;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= err)) {
      err = d;
      at = i;
    }
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { err, at, scale };
}

function compareWithTorch(config: LlamaConfig, seed: number): void {
  const rng = new Rng(seed);
  const model = new Llama(config, { seed });
  // Weights well away from initialisation (larger, norms not 1) so every gradient is sizeable.
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith("norm.weight")) for (let i = 0; i < p.size; i++) p.data[i] = 1 + 0.2 * rng.normal();
    else rng.fillNormal(p.data, 0, name.includes("gate") ? 1 : 0.25);
  }
  const [B, T] = [3, 11];
  const ids = Int32Array.from({ length: B * T }, () => rng.int(config.vocab));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(config.vocab));
  targets[4] = -100;
  targets[20] = -100;

  const dir = tempDir("strata-torch-ref-");
  try {
    const named = model.namedParameters();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ config, shape: [B, T], ignoreIndex: -100, params: named.map(([name, t]) => ({ name, shape: t.shape })) }));
    const weights = new Float32Array(named.reduce((n, [, t]) => n + t.size, 0));
    let o = 0;
    for (const [, t] of named) {
      weights.set(t.data, o);
      o += t.size;
    }
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(weights.buffer));
    writeFileSync(join(dir, "ids.bin"), new Uint8Array(ids.buffer));
    writeFileSync(join(dir, "targets.bin"), new Uint8Array(targets.buffer));
    const res = spawnSync(PYTHON, [join(repoRoot(), "test", "nn", "llama_reference.py"), dir], { encoding: "utf8", timeout: 120_000 });
    assert.equal(res.status, 0, `the PyTorch reference failed: ${res.stderr}`);
    const read = (f: string): Float32Array => {
      const buf = readFileSync(join(dir, f));
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    };
    const torchLogits = read("logits.bin");
    const torchGrads = read("grads.bin");
    const torchLoss = JSON.parse(readFileSync(join(dir, "loss.json"), "utf8")) as { loss: number };

    for (const backend of availableBackends()) {
      withBackend(backend, () => {
        model.zeroGrad();
        const { loss, logits } = model.loss(ids, targets, [B, T]);
        loss.backward();
        assert.ok(Math.abs(loss.item() - torchLoss.loss) < TOL, `${backend}: loss ${loss.item()} vs torch ${torchLoss.loss}`);
        const l = maxAbsDiff(logits.contiguousData(), torchLogits);
        assert.ok(l.err < TOL, `${backend}: logits differ by ${l.err} at ${l.at} (largest logit ${l.scale})`);
        let off = 0;
        for (const [name, t] of named) {
          const d = maxAbsDiff(t.grad!.contiguousData(), torchGrads.subarray(off, off + t.size));
          assert.ok(d.err < TOL, `${backend}: gradient of ${name} differs by ${d.err} at ${d.at} (largest ${d.scale})`);
          assert.ok(d.scale > 1e-3, `${name}: gradients too small to be a meaningful check (${d.scale})`);
          off += t.size;
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const base: LlamaConfig = { vocab: 37, dim: 32, layers: 2, heads: 4, kvHeads: 2, ffnDim: 48, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

describe("llama against a PyTorch reference", { skip }, () => {
  it("logits and every parameter gradient agree within 1e-4 (grouped-query attention, untied output)", () => {
    compareWithTorch(base, 1);
  });

  it("the same with tied embeddings, multi-query attention and a top-2 mixture of experts", () => {
    compareWithTorch({ ...base, kvHeads: 1, tieEmbeddings: true, ropeBase: 500, moe: { experts: 3, topK: 2, auxLossWeight: 0.05 } }, 2);
  });
});
