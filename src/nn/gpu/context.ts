// What the GPU llama code runs on: a HostRunner (the WebGPU device, or the WGSL interpreter in the
// tests) with the kernel tile sizes to use on it. `openGpuContext` is the production opener; the
// training loop and the builtin provider take any `GpuOpener`, so tests inject the interpreter.

import type { HostRunner } from "../../tensor/webgpu/kernel-call.js";
import { DEFAULT_TILE, type MatmulTile } from "../../tensor/webgpu/kernels/matmul.js";
import { type AttentionTiles, DEFAULT_ATTENTION_TILES } from "../../tensor/webgpu/kernels/attention-common.js";

/** Tile and workgroup sizes; small ones keep the interpreter fast, the defaults are the device's. */
export interface KernelTuning {
  tile: MatmulTile;
  attention: AttentionTiles;
  /** Workgroup size of the row kernels (RMSNorm, cross-entropy, reductions): a power of two. */
  rowWg: number;
  /** Rows per partial sum of RMSNorm's weight gradient. */
  normChunk: number;
}

export const DEFAULT_TUNING: KernelTuning = { tile: DEFAULT_TILE, attention: DEFAULT_ATTENTION_TILES, rowWg: 256, normChunk: 64 };

export interface GpuContext<B = unknown> {
  runner: HostRunner<B>;
  tuning: KernelTuning;
  /** A line for logs: the adapter, or "WGSL interpreter". */
  description: string;
  /** Frees the device (nothing may run afterwards). */
  close(): void;
}

export type GpuOpener = () => Promise<GpuContext>;

export interface GpuOptions {
  /** Opens the GPU; default: WebGPU through Dawn (`openGpuContext`). Tests pass the interpreter. */
  open?: GpuOpener;
  /** The environment, for diagnostics in the no-adapter error (the library reads none itself). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Opens the WebGPU device (throws GPU_UNAVAILABLE with what was tried and the fix). */
export async function openGpuContext(env: Readonly<Record<string, string | undefined>> = {}): Promise<GpuContext> {
  const { openGpu } = await import("../../tensor/webgpu/device.js");
  const device = await openGpu({ env });
  return {
    runner: device as HostRunner<unknown>,
    tuning: DEFAULT_TUNING,
    description: `${device.info.vendor} ${device.info.description || device.info.device}`.trim(),
    close: () => device.destroy(),
  };
}

/** The opener `options` name, or the production one. */
export function gpuOpener(options: GpuOptions = {}): GpuOpener {
  return options.open ?? (() => openGpuContext(options.env ?? {}));
}
