// Where tensors live: "cpu" (the engine's Float32Array tensors, the default everywhere) or "gpu"
// (WebGPU buffers on a HostRunner: the device, or the WGSL interpreter in the tests). A GpuTensor is
// a shape and a buffer; its data stays on the GPU between kernels and crosses to the host only
// where asked (`to("cpu")`). This file loads nothing GPU-related: the runner type is a type import,
// and the GPU itself is opened elsewhere (src/tensor/webgpu, imported on demand).

import { StrataError } from "../core/errors.js";
import type { HostRunner } from "./webgpu/kernel-call.js";
import { type Shape, numel } from "./shape.js";
import { Tensor } from "./tensor.js";

export type DeviceName = "cpu" | "gpu";

export const DEVICES: readonly DeviceName[] = ["cpu", "gpu"];

/** "cpu" or "gpu" from a flag's value; anything else is a USAGE error naming the choices. */
export function parseDevice(value: string, flag = "--device"): DeviceName {
  if ((DEVICES as readonly string[]).includes(value)) return value as DeviceName;
  throw new StrataError("USAGE", `${flag} must be cpu or gpu, got "${value}"`, `e.g. ${flag} gpu (WebGPU; see docs/gpu.md) or leave it out for the CPU`);
}

/** A float32 tensor in a GPU buffer: contiguous, row-major, no autograd. */
export class GpuTensor<B> {
  readonly shape: readonly number[];

  constructor(readonly runner: HostRunner<B>, readonly buffer: B, shape: Shape) {
    this.shape = [...shape];
  }

  readonly device = "gpu" as const;

  get size(): number {
    return numel(this.shape);
  }

  /** This tensor on the CPU (a download: the host waits for the GPU), or itself for "gpu". */
  async to(device: "cpu"): Promise<Tensor>;
  async to(device: "gpu"): Promise<GpuTensor<B>>;
  async to(device: DeviceName): Promise<Tensor | GpuTensor<B>> {
    if (device === "gpu") return this;
    const data = await this.runner.download(this.buffer, this.size);
    return new Tensor(data, [...this.shape]);
  }

  /** Gives the buffer back to the runner; the tensor must not be used afterwards. */
  release(): void {
    this.runner.release(this.buffer);
  }
}

/** Uploads an engine tensor (its contiguous values) to the GPU. */
export function gpuTensor<B>(t: Tensor, runner: HostRunner<B>): GpuTensor<B> {
  return new GpuTensor(runner, runner.upload(t.contiguousData()), t.shape);
}
