// The same kernel cases as the interpreter suite, on a real WebGPU adapter with the production tiles
// and larger shapes. Skipped, with the reason, where openGpu() fails (CI and the dev machine).
import { after, before, describe, it } from "node:test";
import { Rng } from "../../../src/core/random.js";
import { isStrataError } from "../../../src/core/errors.js";
import type { GpuBuffer } from "../../../src/tensor/webgpu/buffer-pool.js";
import type { GpuDevice } from "../../../src/tensor/webgpu/device.js";
import { type Harness, cases } from "./kernel-cases.js";

let gpu: GpuDevice | null = null;
let skip: string | false = false;
try {
  const { openGpu } = await import("../../../src/tensor/webgpu/device.js");
  gpu = await openGpu({ env: process.env });
} catch (e) {
  skip = `no WebGPU adapter: ${isStrataError(e) ? `${e.message} (${e.hint})` : String(e)}`;
}

const worst = new Map<string, number>();

describe("WebGPU kernels on a real adapter", () => {
  // Each test skips on its own (not the suite), so the run's "skipped" count shows every kernel not run.
  before(() => gpu && console.log(`adapter: ${JSON.stringify(gpu?.info)}`));
  for (const [name, run] of Object.entries(cases)) {
    it(name, { skip }, async () => {
      const g = gpu!;
      const h: Harness<GpuBuffer> = {
        r: g, small: false,
        put: (values) => g.upload(values),
        get: (b, n) => g.download(b, n),
        record: (k, e) => worst.set(k, Math.max(worst.get(k) ?? 0, e)),
      };
      await run(h, new Rng(2024));
    });
  }
  after(() => {
    console.log(`max abs errors: ${JSON.stringify(Object.fromEntries(worst))}`);
    gpu?.destroy();
  });
});
