// A GpuContext over the WGSL interpreter with small tiles and workgroups, for the GPU llama tests
// (training, checkpoints, inference) that run in CI without a GPU.
import type { GpuContext, KernelTuning } from "../../../src/nn/gpu/context.js";
import { InterpreterRunner } from "./interpreter-runner.js";
import { SMALL_TILE } from "./kernel-cases.js";

export const INTERPRETER_TUNING: KernelTuning = { tile: SMALL_TILE, attention: { BR: 8, BC: 4 }, rowWg: 8, normChunk: 4 };

export function interpreterContext(runner = new InterpreterRunner()): GpuContext<Float32Array> & { runner: InterpreterRunner } {
  return { runner, tuning: INTERPRETER_TUNING, description: "WGSL interpreter", close: () => {} };
}

/** An opener for PretrainOptions.gpu / the builtin provider; `opened` collects the runners for checks. */
export function interpreterOpener(opened: InterpreterRunner[] = []): () => Promise<GpuContext> {
  return async () => {
    const ctx = interpreterContext();
    opened.push(ctx.runner);
    return ctx as GpuContext;
  };
}
