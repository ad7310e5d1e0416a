// PyTorch parity of one training step of the diffusion transformer: the same tiny DiT built from the
// same weights in plain PyTorch (test/nn/dit_reference.py, Debian's python3-torch) gives the same
// noise-prediction loss, predictions and gradient of every parameter (within 1e-4), for both noise
// schedules, with the null condition in the batch. Skipped, with a message, without PyTorch.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DiT, type DitConfig, noiseImages, noiseSchedule } from "../../src/nn/diffusion/index.js";
import { Rng, tensor, withBackend } from "../../src/tensor/index.js";
import { repoRoot, tempDir } from "../helpers/paths.js";
import { availableBackends } from "../tensor/helpers.js";

const PYTHON = "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8", timeout: 60_000 });
const skip = probe.status === 0 ? false : `PyTorch is not importable from ${PYTHON} (apt-get install -y python3-torch)`;
const TOL = 1e-4;

function compare(config: DitConfig, seed: number): void {
  const rng = new Rng(seed);
  const model = new DiT(config, { seed });
  // Weights away from the zero initialisation of adaLN-Zero, so every path carries gradient.
  for (const [, p] of model.namedParameters()) rng.fillNormal(p.data, 0, 0.3);
  const B = 3;
  const per = config.channels * config.image * config.image;
  const shape = [B, config.channels, config.image, config.image];
  const x0 = rng.fillNormal(new Float32Array(B * per));
  const noise = rng.fillNormal(new Float32Array(B * per));
  const t = [0, Math.floor(config.timesteps / 2), config.timesteps - 1];
  const rows = [0, config.prompts - 1, model.nullRow];
  const dir = tempDir("strata-dit-ref-");
  try {
    const named = model.namedParameters();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ config, batch: B, t, rows, params: named.map(([name, p]) => ({ name, shape: p.shape })) }));
    const w = new Float32Array(named.reduce((n, [, p]) => n + p.size, 0));
    let o = 0;
    for (const [, p] of named) {
      w.set(p.data, o);
      o += p.size;
    }
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(w.buffer));
    writeFileSync(join(dir, "x0.bin"), new Uint8Array(x0.buffer));
    writeFileSync(join(dir, "noise.bin"), new Uint8Array(noise.buffer));
    const res = spawnSync(PYTHON, [join(repoRoot(), "test", "nn", "dit_reference.py"), dir], { encoding: "utf8", timeout: 120_000 });
    assert.equal(res.status, 0, `the PyTorch reference failed: ${res.stderr}`);
    const buf = readFileSync(join(dir, "grads.bin"));
    const torchGrads = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const ref = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as { loss: number; eps_first: number[] };
    const { alphaBar } = noiseSchedule(config.schedule, config.timesteps);
    const xt = noiseImages(x0, noise, t, alphaBar, per);
    for (const backend of availableBackends()) {
      withBackend(backend, () => {
        model.zeroGrad();
        const eps = model.forward(tensor(xt, shape), t, rows).contiguousData();
        ref.eps_first.forEach((v, i) => assert.ok(Math.abs(eps[i]! - v) < TOL * Math.max(1, Math.abs(v)), `${backend}: prediction ${i}: ${eps[i]} vs torch ${v}`));
        const loss = model.loss(tensor(xt, shape), t, rows, tensor(noise, shape));
        loss.backward();
        assert.ok(Math.abs(loss.item() - ref.loss) < TOL * Math.max(1, ref.loss), `${backend}: loss ${loss.item()} vs torch ${ref.loss}`);
        let off = 0;
        for (const [name, p] of named) {
          const g = p.grad!.contiguousData();
          let err = 0;
          let scale = 0;
          for (let i = 0; i < p.size; i++) {
            err = Math.max(err, Math.abs(g[i]! - torchGrads[off + i]!));
            scale = Math.max(scale, Math.abs(torchGrads[off + i]!));
          }
          assert.ok(err < TOL * Math.max(1, scale), `${backend}: gradient of ${name} differs by ${err} (largest ${scale})`);
          // Rows of the condition table no sample used have no gradient, and a key bias never has one
          // (softmax ignores a shift shared by all keys); every other tensor must.
          if (name !== "cond_embed" && !name.endsWith("wk.bias")) assert.ok(scale > 1e-4, `${name}: gradient too small to be a meaningful check (${scale})`);
          off += p.size;
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tiny: DitConfig = { image: 8, channels: 1, patch: 2, dim: 16, depth: 2, heads: 2, mlpRatio: 2, freqDim: 8, prompts: 3, timesteps: 50, schedule: "cosine" };

describe("diffusion transformer against a PyTorch reference", { skip }, () => {
  it("one training step: loss, predictions and every gradient agree (cosine schedule)", () => compare(tiny, 1));
  it("the same with two channels, 4×4 patches and the linear schedule", () => compare({ ...tiny, channels: 2, patch: 4, image: 8, heads: 4, schedule: "linear", timesteps: 200 }, 2));
});
