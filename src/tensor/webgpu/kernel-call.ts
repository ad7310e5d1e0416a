// What a kernel asks for, independent of where it runs: WGSL source, entry point, workgroup counts,
// storage buffers (bindings 0..n-1 in order) and a small parameter block (a uniform at binding n).
// A `Runner` executes calls: the real device (device.ts) or the WGSL interpreter the tests use, so
// every kernel is exercised through the same code path in both places.

/** One dispatch. `B` is the runner's buffer handle (a GPU buffer, or a typed array in the interpreter). */
export interface KernelCall<B> {
  /** A short name for errors and profiles. */
  label: string;
  code: string;
  entry: string;
  groups: readonly [number, number, number];
  /** Storage bindings 0..n-1; every one must be used by the entry point (pipelines use layout 'auto'). */
  storage: readonly B[];
  /** The parameter struct, bound as a uniform at binding n (= storage.length), or null. */
  params: ArrayBuffer | null;
}

/** Executes kernel calls in order. Buffers hold 4-byte elements (f32, i32 or u32). */
export interface Runner<B> {
  /** A buffer of `elements` 4-byte elements; its contents are undefined (kernels write before reading). */
  alloc(elements: number): B;
  /** Returns a buffer for reuse; calls recorded before stay valid. */
  release(buffer: B): void;
  run(call: KernelCall<B>): void;
}

/** The largest workgroup count of one dispatch dimension (WebGPU's default limit). */
export const MAX_GROUPS_PER_DIM = 65535;

/**
 * Workgroup counts for `count` independent groups, folded into x and y when x would pass the limit.
 * Kernels recover the flat index with `flatGroup` below.
 */
export function grid(count: number, z = 1): [number, number, number] {
  const n = Math.max(1, Math.ceil(count));
  if (n <= MAX_GROUPS_PER_DIM) return [n, 1, z];
  return [MAX_GROUPS_PER_DIM, Math.ceil(n / MAX_GROUPS_PER_DIM), z];
}

/** WGSL: the flat workgroup index of a `grid` dispatch (needs builtins `wid` and `nwg`). */
export const flatGroup = "(wid.y * nwg.x + wid.x)";

/** WGSL builtins every 1-D kernel takes. */
export const gridBuiltins = "@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32";

/** Ceiling division. */
export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/**
 * A runner the host can also move data through: the real device, or the interpreter in the tests.
 * `download` is the one point where the host waits for the GPU.
 */
export interface HostRunner<B> extends Runner<B> {
  /** A new buffer holding `values` (integers keep their bit pattern). */
  upload(values: Float32Array | Int32Array): B;
  /** Overwrites the first values.length elements of `buffer`. */
  write(buffer: B, values: Float32Array | Int32Array): void;
  /** The first `elements` values of `buffer`, as float32. */
  download(buffer: B, elements: number): Promise<Float32Array>;
}
