// A llama's parameters in GPU buffers, under the CPU model's state-dict names and in its order
// (src/nn/llama.ts), so whatever a GPU run writes is the same checkpoint a CPU run writes. Built
// from a `Llama` (its seeded initialisation, or weights loaded from a checkpoint or GGUF).

import { StrataError } from "../../core/errors.js";
import type { HostRunner } from "../../tensor/webgpu/kernel-call.js";
import type { Llama, LlamaConfig } from "../llama.js";

export interface GpuParameter<B> {
  name: string;
  shape: number[];
  size: number;
  buffer: B;
}

/** Refuses what the GPU path does not implement yet, in one line. */
export function checkGpuSupport(config: LlamaConfig): void {
  if (config.moe) {
    throw new StrataError("INVALID_CONFIG", `mixture-of-experts models (moe: ${config.moe.experts} experts) run on the CPU only for now`, "use --device cpu, or a model config without moe");
  }
}

export class GpuWeights<B> {
  readonly params: GpuParameter<B>[];
  private readonly byName = new Map<string, GpuParameter<B>>();

  constructor(readonly runner: HostRunner<B>, readonly config: LlamaConfig, model: Llama) {
    checkGpuSupport(config);
    this.params = model.namedParameters().map(([name, t]) => ({ name, shape: [...t.shape], size: t.size, buffer: runner.upload(t.data) }));
    for (const p of this.params) this.byName.set(p.name, p);
  }

  /** The buffer of a parameter by state-dict name. */
  get(name: string): B {
    const p = this.byName.get(name);
    if (!p) throw new StrataError("INTERNAL", `the GPU model has no parameter ${name}`);
    return p.buffer;
  }

  /** The output projection: `output.weight`, or the token embedding when tied. */
  get outputWeight(): B {
    return this.get(this.config.tieEmbeddings ? "tok_embeddings.weight" : "output.weight");
  }

  /** Copies the CPU model's parameter values to the GPU (after a resume). */
  uploadFrom(model: Llama): void {
    for (const [name, t] of model.namedParameters()) this.runner.write(this.get(name), t.data);
  }

  /** Copies the GPU values into the CPU model's parameters (for a checkpoint). */
  async downloadInto(model: Llama): Promise<void> {
    for (const [name, t] of model.namedParameters()) t.data.set(await this.runner.download(this.get(name), t.size));
  }

  release(): void {
    for (const p of this.params) this.runner.release(p.buffer);
  }
}
