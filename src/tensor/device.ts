// Where training and inference run: "cpu" (the engine's Float32Array tensors, the default
// everywhere) or "gpu" (the explicit WebGPU llama of src/nn/gpu, opened on demand). This file loads
// nothing GPU-related.

import { StrataError } from "../core/errors.js";

export type DeviceName = "cpu" | "gpu";

export const DEVICES: readonly DeviceName[] = ["cpu", "gpu"];

/** "cpu" or "gpu" from a flag's value; anything else is a USAGE error naming the choices. */
export function parseDevice(value: string, flag = "--device"): DeviceName {
  if ((DEVICES as readonly string[]).includes(value)) return value as DeviceName;
  throw new StrataError("USAGE", `${flag} must be cpu or gpu, got "${value}"`, `e.g. ${flag} gpu (WebGPU; see docs/gpu.md) or leave it out for the CPU`);
}
