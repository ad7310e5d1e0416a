// PyTorch reference for fine-tuning: a small llama with LoRA on every projection, built in plain
// PyTorch from the same weights (test/train/finetune_reference.py); the SFT cross-entropy and the
// DPO loss, and the gradients of every LoRA A and B, must agree within 1e-4. Skipped, with a
// message, when PyTorch is not installed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Llama, type LlamaConfig, LORA_TARGETS, attachLora } from "../../src/nn/index.js";
import { Rng, noGrad } from "../../src/tensor/index.js";
import { sequenceLogProbs, dpoLoss } from "../../src/train/index.js";
import { repoRoot, tempDir } from "../helpers/paths.js";

const PYTHON = "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8", timeout: 60_000 });
const skip = probe.status === 0 ? false : `PyTorch is not importable from ${PYTHON}: ${(probe.stderr || probe.error?.message || "").trim().split("\n").pop()}`;
const TOL = 1e-4;

const CONFIG: LlamaConfig = { vocab: 40, dim: 16, layers: 2, heads: 4, kvHeads: 2, ffnDim: 24, maxSeq: 16, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false };

function setup(seed: number) {
  const rng = new Rng(seed);
  const model = new Llama(CONFIG, { seed });
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith("norm.weight")) for (let i = 0; i < p.size; i++) p.data[i] = 1 + 0.2 * rng.normal();
    else rng.fillNormal(p.data, 0, 0.25);
  }
  const lora = attachLora(model, { rank: 3, alpha: 6, dropout: 0, targets: LORA_TARGETS, seed });
  // B starts at zero (so A's gradient would be zero): give both sizeable values.
  for (const [, t] of lora.namedParameters()) rng.fillNormal(t.data, 0, 0.3);
  return { model, lora, rng };
}

function runTorch(dir: string, spec: object, model: Llama, lora: ReturnType<typeof attachLora>, ids: Int32Array, targets: Int32Array): { loss: number; grads: Float32Array } {
  const cat = (ts: Array<[string, { size: number; data: Float32Array }]>): Uint8Array => {
    const out = new Float32Array(ts.reduce((n, [, t]) => n + t.size, 0));
    let o = 0;
    for (const [, t] of ts) {
      out.set(t.data, o);
      o += t.size;
    }
    return new Uint8Array(out.buffer);
  };
  writeFileSync(join(dir, "spec.json"), JSON.stringify({ ...spec, config: CONFIG, params: model.namedParameters().map(([name, t]) => ({ name, shape: t.shape })), adapters: lora.namedParameters().map(([name, t]) => ({ name, shape: t.shape })), alpha: 6 }));
  writeFileSync(join(dir, "base.bin"), cat(model.namedParameters()));
  writeFileSync(join(dir, "adapter.bin"), cat(lora.namedParameters()));
  writeFileSync(join(dir, "ids.bin"), new Uint8Array(ids.buffer));
  writeFileSync(join(dir, "targets.bin"), new Uint8Array(targets.buffer));
  const res = spawnSync(PYTHON, [join(repoRoot(), "test", "train", "finetune_reference.py"), dir], { encoding: "utf8", timeout: 120_000 });
  assert.equal(res.status, 0, `the PyTorch reference failed: ${res.stderr}`);
  const buf = readFileSync(join(dir, "grads.bin"));
  return { loss: (JSON.parse(readFileSync(join(dir, "loss.json"), "utf8")) as { loss: number }).loss, grads: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) };
}

function compareGrads(lora: ReturnType<typeof attachLora>, torchGrads: Float32Array): void {
  let o = 0;
  let largest = 0;
  for (const [name, t] of lora.namedParameters()) {
    assert.ok(t.grad, `${name} has a gradient`);
    const g = t.grad.contiguousData();
    for (let i = 0; i < t.size; i++) {
      const d = Math.abs(g[i]! - torchGrads[o + i]!);
      assert.ok(d < TOL, `${name}[${i}]: ${g[i]} vs torch ${torchGrads[o + i]} (diff ${d})`);
      largest = Math.max(largest, Math.abs(torchGrads[o + i]!));
    }
    o += t.size;
  }
  assert.equal(o, torchGrads.length);
  assert.ok(largest > 1e-2, `the gradients are sizeable (largest ${largest})`);
}

describe("LoRA and DPO against PyTorch", { skip }, () => {
  it("SFT: cross-entropy and the gradients of every A and B agree within 1e-4", () => {
    const { model, lora, rng } = setup(11);
    const [R, T] = [3, 9];
    const ids = Int32Array.from({ length: R * T }, () => rng.int(CONFIG.vocab));
    const targets = Int32Array.from({ length: R * T }, (_, i) => (i % 4 === 0 ? -100 : rng.int(CONFIG.vocab)));
    const dir = tempDir("strata-lora-ref-");
    try {
      const ref = runTorch(dir, { shape: [R, T], mode: "sft" }, model, lora, ids, targets);
      const { loss } = model.loss(ids, targets, [R, T]);
      loss.backward();
      assert.ok(Math.abs(loss.item() - ref.loss) < TOL, `loss ${loss.item()} vs torch ${ref.loss}`);
      // The base is frozen: no gradient reaches it.
      for (const [n, p] of model.namedParameters()) assert.equal(p.grad, null, n);
      compareGrads(lora, ref.grads);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("DPO: the loss on a small batch of pairs and the adapter gradients agree within 1e-4", () => {
    const { model, lora, rng } = setup(23);
    const [R, T] = [4, 8]; // 2 chosen rows, then 2 rejected rows
    const ids = Int32Array.from({ length: R * T }, () => rng.int(CONFIG.vocab));
    const targets = Int32Array.from({ length: R * T }, (_, i) => (i % T < 3 ? -100 : rng.int(CONFIG.vocab)));
    const dir = tempDir("strata-dpo-ref-");
    try {
      const ref = runTorch(dir, { shape: [R, T], mode: "dpo", beta: 0.7 }, model, lora, ids, targets);
      const refLogps = noGrad(() => {
        lora.setEnabled(false);
        const r = Float32Array.from(sequenceLogProbs(model.forward(ids, [R, T]).logits, targets).contiguousData());
        lora.setEnabled(true);
        return r;
      });
      const { loss } = dpoLoss(sequenceLogProbs(model.forward(ids, [R, T]).logits, targets), refLogps, 0.7);
      loss.backward();
      assert.ok(Math.abs(loss.item() - ref.loss) < TOL, `loss ${loss.item()} vs torch ${ref.loss}`);
      assert.ok(Math.abs(loss.item() - Math.log(2)) > 1e-2, "the adapter moved the policy away from the reference");
      compareGrads(lora, ref.grads);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
