// Compute pipelines keyed by shader source and entry point: each WGSL variant is compiled once per
// device. `prepare` compiles asynchronously and reports compiler errors with the kernel's label.

import { StrataError } from "../../core/errors.js";

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** The pipeline, created synchronously on first use (errors then surface as device errors). */
  get(code: string, entry: string, label: string): GPUComputePipeline {
    const key = `${entry}\u0000${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code, label });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: entry }, label });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Compiles ahead of use; rejects with the compiler's messages. */
  async prepare(code: string, entry: string, label: string): Promise<GPUComputePipeline> {
    const key = `${entry}\u0000${code}`;
    const have = this.pipelines.get(key);
    if (have) return have;
    const module = this.device.createShaderModule({ code, label });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0) {
      throw new StrataError("INTERNAL", `WGSL kernel ${label} does not compile: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join("; ")}`, "this is a bug in Strata's GPU kernels; report it with the adapter name");
    }
    const p = await this.device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: entry }, label });
    this.pipelines.set(key, p);
    return p;
  }
}
