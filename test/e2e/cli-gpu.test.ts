// `--device gpu` through the built CLI. Without a WebGPU adapter (CI, this machine) every command
// exits 1 with the one-line GPU_UNAVAILABLE error naming what was tried, and its hint, and leaves no
// run directory behind; bad --device values and --device gpu with non-builtin models are usage
// errors (exit 2). Where an adapter opens, the no-adapter cases are SKIPPED (not passed) and a
// short GPU run is checked instead.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isStrataError } from "../../src/core/errors.js";
import { jsonOf, strata } from "../helpers/cli.js";
import { cliPath, tempDir } from "../helpers/paths.js";
import { sampleText } from "../train/helpers.js";

const built = existsSync(cliPath());
let adapter: string | null = null;
try {
  const { openGpu } = await import("../../src/tensor/webgpu/device.js");
  const gpu = await openGpu({ env: process.env });
  adapter = gpu.info.description || gpu.info.device;
  gpu.destroy();
} catch (e) {
  if (!isStrataError(e) || e.code !== "GPU_UNAVAILABLE") throw e;
}
const skip = !built ? "the CLI is not built (run `npm run build`)" : false;
const noAdapter = skip || (adapter ? `a WebGPU adapter is present (${adapter}): the no-adapter error cannot be shown` : false);
const withAdapter = skip || (adapter ? false : "no WebGPU adapter on this machine");

function assertGpuUnavailable(r: { code: number | null; stderr: string }): void {
  assert.equal(r.code, 1, r.stderr);
  // The Vulkan loader and its drivers may print their own lines first (e.g. Mesa's "XDG_RUNTIME_DIR
  // is invalid"): native output Strata cannot hold back. Strata's own report is the last two lines.
  const lines = r.stderr.trim().split("\n").slice(-2);
  assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("hint:")).length, 1, `one hint line:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: .*(no WebGPU adapter|"webgpu"|refused a device)/);
  assert.match(lines[0]!, /Dawn|webgpu/, "names what was tried");
  assert.match(lines[1]!, /^hint: .*(Vulkan|Metal|npm install webgpu)/);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\.(m?js|ts):\d+:\d+/, "no JavaScript stack trace");
}

describe("--device gpu (CLI)", { skip }, () => {
  let dir: string;
  let text: string;
  let config: string;
  before(() => {
    dir = tempDir("strata-cli-gpu-");
    text = join(dir, "text.txt");
    writeFileSync(text, sampleText(6_000));
    config = join(dir, "micro.json");
    writeFileSync(config, JSON.stringify({ model: { dim: 8, layers: 1, heads: 2, ffnDim: 16, maxSeq: 16 }, train: { batchSize: 2, blockSize: 8, warmupSteps: 1, evalBatches: 1, evalInterval: 2 } }));
    const r = strata(["train", "pretrain", "--data", text, "--config", config, "--out", join(dir, "cpu-run"), "--steps", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("train pretrain --device gpu without an adapter: one-line GPU_UNAVAILABLE, nothing written", { skip: noAdapter }, () => {
    const out = join(dir, "gpu-run");
    assertGpuUnavailable(strata(["train", "pretrain", "--data", text, "--config", config, "--out", out, "--steps", "2", "--device", "gpu"]));
    assert.equal(existsSync(out), false, "no run directory is left behind");
  });

  it("eval lm and generate --device gpu without an adapter: the same error", { skip: noAdapter }, () => {
    const model = `builtin:${join(dir, "cpu-run")}`;
    assertGpuUnavailable(strata(["eval", "lm", "--model", model, "--data", text, "--max-tokens", "40", "--device", "gpu"]));
    assertGpuUnavailable(strata(["generate", "--model", model, "The", "--max-tokens", "3", "--device", "gpu"]));
  });

  it("refuses unknown devices and --device gpu for models that are not builtin: (exit 2)", () => {
    const bad = strata(["train", "pretrain", "--data", text, "--config", config, "--out", join(dir, "x"), "--device", "tpu"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--device must be cpu or gpu, got "tpu"/);
    const gguf = strata(["eval", "lm", "--model", "gguf:./none.gguf", "--data", text, "--device", "gpu"]);
    assert.equal(gguf.code, 2, gguf.stderr);
    assert.match(gguf.stderr, /builtin: models/);
    const gen = strata(["generate", "--model", "gguf:./none.gguf", "x", "--device", "gpu"]);
    assert.equal(gen.code, 2, gen.stderr);
  });

  it("on a real adapter: trains 2 steps on the GPU, then eval lm and generate run there", { skip: withAdapter }, () => {
    const out = join(dir, "gpu-run-real");
    const r = strata(["train", "pretrain", "--data", text, "--config", config, "--out", out, "--steps", "2", "--device", "gpu", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonOf<{ steps: number }>(r).steps, 2);
    const model = `builtin:${out}`;
    const cpu = jsonOf<{ loss: number }>(strata(["eval", "lm", "--model", model, "--data", text, "--max-tokens", "40", "--json"]));
    const gpu = jsonOf<{ loss: number }>(strata(["eval", "lm", "--model", model, "--data", text, "--max-tokens", "40", "--device", "gpu", "--json"]));
    assert.ok(Math.abs(cpu.loss - gpu.loss) < 1e-4, `${gpu.loss} vs ${cpu.loss}`);
    const a = jsonOf<{ text: string }>(strata(["generate", "--model", model, "The", "--max-tokens", "8", "--json"]));
    const b = jsonOf<{ text: string }>(strata(["generate", "--model", model, "The", "--max-tokens", "8", "--device", "gpu", "--json"]));
    assert.equal(b.text, a.text);
  });
});
