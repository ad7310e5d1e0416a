// Every WebGPU kernel run by wgsl_reflect's lockstep WGSL interpreter (correct barrier semantics,
// data-race detection) on small shapes, against the engine's CPU code. Runs in CI: no GPU needed.
// The interpreter does not validate like Tint does and has no subgroups; the device suite
// (kernels-device.test.ts) covers the real compiler.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Rng } from "../../../src/core/random.js";
import { InterpreterRunner } from "./interpreter-runner.js";
import { type Harness, cases } from "./kernel-cases.js";

const worst = new Map<string, number>();

function harness(r: InterpreterRunner): Harness<Float32Array> {
  return {
    r,
    small: true,
    put: (values) => (values instanceof Int32Array ? new Float32Array(Int32Array.from(values).buffer) : Float32Array.from(values)),
    get: async (b, n) => b.subarray(0, n),
    record: (name, e) => worst.set(name, Math.max(worst.get(name) ?? 0, e)),
  };
}

describe("WebGPU kernels in the WGSL interpreter", () => {
  for (const [name, run] of Object.entries(cases)) {
    it(name, async () => {
      const r = new InterpreterRunner();
      await run(harness(r), new Rng(2024));
      assert.equal(r.problems(), "", "the interpreter reported races or errors");
    });
  }
  after(() => {
    if (process.env.STRATA_GPU_REPORT) console.log(`max abs errors: ${JSON.stringify(Object.fromEntries(worst))}`);
  });
});
