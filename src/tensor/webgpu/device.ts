/// <reference types="@webgpu/types" />
// Opening a WebGPU device through Dawn (the optional `webgpu` npm package), and the device object
// the kernels run on: a `Runner` over pooled GPU buffers whose dispatches are batched into one
// submission until a read (the only point where the host waits for the GPU).
//
// Nothing here is imported by the CPU path: callers reach it through `await import(...)` (see
// index.ts), and the package itself is imported lazily, so a machine without it is unaffected.

import { StrataError } from "../../core/errors.js";
import { BufferPool, type GpuBuffer, Usage } from "./buffer-pool.js";
import { CommandBatch } from "./command-batch.js";
import type { HostRunner, KernelCall } from "./kernel-call.js";
import { PipelineCache } from "./pipeline-cache.js";

export interface OpenGpuOptions {
  /** Default "high-performance" (the discrete GPU). */
  powerPreference?: GPUPowerPreference;
  /** Dawn's backend: "vulkan", "metal", "d3d12"; default: Dawn's choice for the platform. */
  backend?: string;
  /** Further Dawn toggles passed to `create()`, e.g. "enable-dawn-features=..." */
  dawnFlags?: string[];
  /** The environment, for diagnostics only (the library reads none itself; the CLI passes process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
}

type WebGpuModule = { create(flags: string[]): GPU; globals: object };

const WANTED_LIMITS = ["maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupStorageSize", "maxStorageBuffersPerShaderStage", "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX"] as const;
const OPTIONAL_FEATURES: GPUFeatureName[] = ["timestamp-query", "subgroups", "shader-f16"];

function unavailable(message: string, hint: string, cause?: unknown): StrataError {
  return new StrataError("GPU_UNAVAILABLE", message, hint, cause === undefined ? undefined : { cause });
}

function driverHint(env: Readonly<Record<string, string | undefined>>): string {
  if (process.platform === "darwin") return "on macOS Dawn uses Metal: check that the machine has a Metal GPU and that dawn.node is not quarantined (xattr -d com.apple.quarantine)";
  const icd = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  return `install the GPU's Vulkan driver and the loader (libvulkan1); ${icd ? `VK_DRIVER_FILES is ${icd}: check that the file exists` : "set VK_DRIVER_FILES to the driver's ICD json (NVIDIA: .../vulkan/icd.d/nvidia_icd.json)"}; Dawn rejects software drivers (lavapipe, SwiftShader); or run on the CPU (the default)`;
}

/** Opens the GPU; throws GPU_UNAVAILABLE with one line naming what was tried and the fix. */
export async function openGpu(options: OpenGpuOptions = {}): Promise<GpuDevice> {
  const env = options.env ?? {};
  let mod: WebGpuModule;
  try {
    const name = "webgpu"; // a variable, so bundlers and tsc do not require the optional package
    mod = (await import(name)) as WebGpuModule;
  } catch (e) {
    throw unavailable(
      `the optional package "webgpu" (Dawn) is not installed or its dawn.node does not load for ${process.platform}-${process.arch}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
      "run `npm install webgpu` (an optional dependency of Strata), or use the CPU", e);
  }
  Object.assign(globalThis, mod.globals); // GPUBufferUsage etc., which Dawn's objects expect
  const flags = [...(options.backend ? [`backend=${options.backend}`] : []), ...(options.dawnFlags ?? [])];
  const gpu = mod.create(flags);
  const powerPreference = options.powerPreference ?? "high-performance";
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) {
    throw unavailable(`no WebGPU adapter (Dawn, backend ${options.backend ?? "default"}, ${powerPreference}, ${process.platform}-${process.arch})`, driverHint(env));
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw unavailable(`the WebGPU adapter ${adapter.info.description || adapter.info.device} refused a device: ${e instanceof Error ? e.message : String(e)}`, "update the GPU driver, or use the CPU", e);
  }
  const info: GpuInfo = {
    vendor: adapter.info.vendor, architecture: adapter.info.architecture, device: adapter.info.device, description: adapter.info.description,
    features: [...device.features].map(String).sort(),
    limits: requiredLimits,
  };
  return new GpuDevice(device, info);
}

/** A WebGPU device running Strata's kernels. Buffers hold 4-byte elements. */
export class GpuDevice implements HostRunner<GpuBuffer> {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  private readonly batch: CommandBatch;
  private readonly errors: string[] = [];
  private lost: string | null = null;

  constructor(readonly device: GPUDevice, readonly info: GpuInfo) {
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.batch = new CommandBatch(device, this.pool);
    device.addEventListener("uncapturederror", (ev) => this.errors.push((ev as GPUUncapturedErrorEvent).error.message));
    void device.lost.then((l) => (this.lost = `${l.reason}: ${l.message}`));
  }

  get hasTimestamps(): boolean {
    return this.info.features.includes("timestamp-query");
  }

  alloc(elements: number): GpuBuffer {
    const gpu = this.pool.acquire(Math.max(1, elements) * 4, Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST);
    return { gpu, elements };
  }

  release(buffer: GpuBuffer): void {
    this.pool.release(buffer.gpu);
  }

  run(call: KernelCall<GpuBuffer>): void {
    this.check();
    const pipeline = this.pipelines.get(call.code, call.entry, call.label);
    this.batch.dispatch(pipeline, call.storage.map((b) => b.gpu), call.params, call.groups);
  }

  /** A new buffer holding `values`. Flushes recorded work first (writes take effect before pending dispatches). */
  upload(values: Float32Array | Int32Array | Uint32Array): GpuBuffer {
    const b = this.alloc(values.length);
    this.write(b, values);
    return b;
  }

  write(buffer: GpuBuffer, values: Float32Array | Int32Array | Uint32Array): void {
    if (values.length > buffer.elements) throw new RangeError(`writing ${values.length} elements into a buffer of ${buffer.elements}`);
    this.batch.flush();
    this.device.queue.writeBuffer(buffer.gpu, 0, values.buffer, values.byteOffset, values.byteLength);
  }

  /** Submits recorded work now (without waiting for it). */
  flush(): void {
    this.batch.flush();
  }

  /** Waits for everything submitted. */
  async sync(): Promise<void> {
    this.batch.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Reads `elements` values back: the one point where the host waits for the GPU. */
  async download(buffer: GpuBuffer, elements = buffer.elements): Promise<Float32Array> {
    const bytes = elements * 4;
    const staging = this.pool.acquire(bytes, Usage.MAP_READ | Usage.COPY_DST);
    this.batch.flush((enc) => enc.copyBufferToBuffer(buffer.gpu, 0, staging, 0, bytes));
    await staging.mapAsync(1 /* GPUMapMode.READ */, 0, bytes);
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.pool.release(staging);
    this.check();
    return out;
  }

  /** Throws when the device reported errors or was lost since the last check. */
  check(): void {
    if (this.lost) throw unavailable(`the GPU device was lost (${this.lost})`, "restart the run; if it repeats, lower the batch size or update the driver");
    if (this.errors.length > 0) {
      const msgs = this.errors.splice(0);
      throw new StrataError("INTERNAL", `the GPU reported ${msgs.length} error(s): ${msgs[0]}`, "this is a bug in Strata's GPU path; report it with the adapter name");
    }
  }

  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }
}
