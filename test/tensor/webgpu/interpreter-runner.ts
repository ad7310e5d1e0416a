// A `Runner` over wgsl_reflect's lockstep interpreter: `detectRaces` runs the invocations of each
// workgroup in lockstep with real barrier semantics, writes the storage buffers, and reports data
// races. Buffers are Float32Arrays (integer data is stored through an Int32Array view of the same
// bytes). Slow: keep shapes small.
// @ts-expect-error the package ships types for its main entry only; the ESM build has the same API
import { detectRaces } from "wgsl_reflect/wgsl_reflect.module.js";
import type { HostRunner, KernelCall } from "../../../src/tensor/webgpu/kernel-call.js";

export interface InterpreterLog {
  label: string;
  races: number;
  errors: string[];
}

export class InterpreterRunner implements HostRunner<Float32Array> {
  readonly log: InterpreterLog[] = [];
  /** Dispatches run, and by label (for the tests' reports). */
  dispatches = 0;
  readonly byLabel = new Map<string, number>();

  alloc(elements: number): Float32Array {
    // Filled with NaN so a kernel that reads before writing shows up in the results.
    return new Float32Array(Math.max(1, elements)).fill(Number.NaN);
  }

  release(): void {}

  run(call: KernelCall<Float32Array>): void {
    const bindings: Record<string, unknown> = {};
    call.storage.forEach((b, i) => (bindings[String(i)] = b));
    if (call.params) bindings[String(call.storage.length)] = new Uint8Array(call.params);
    const r = detectRaces(call.code, call.entry, [...call.groups], { 0: bindings });
    this.dispatches++;
    this.byLabel.set(call.label, (this.byLabel.get(call.label) ?? 0) + 1);
    if (r.races.length > 0 || r.errors.length > 0) this.log.push({ label: call.label, races: r.races.length, errors: r.errors });
  }

  upload(values: Float32Array | Int32Array): Float32Array {
    return values instanceof Int32Array ? intBuffer(values) : Float32Array.from(values);
  }

  write(buffer: Float32Array, values: Float32Array | Int32Array): void {
    if (values instanceof Int32Array) new Int32Array(buffer.buffer, buffer.byteOffset, values.length).set(values);
    else buffer.set(values);
  }

  async download(buffer: Float32Array, elements: number): Promise<Float32Array> {
    return Float32Array.from(buffer.subarray(0, elements));
  }

  /** Every call so far ran without races or interpreter errors; returns a message otherwise. */
  problems(): string {
    return this.log.filter((l) => l.races > 0 || l.errors.length > 0).map((l) => `${l.label}: ${l.races} races, errors ${l.errors.slice(0, 3).join("; ")}`).join("\n");
  }
}

/** An Int32Array's bytes as the Float32Array buffer type the runner uses. */
export function intBuffer(values: ArrayLike<number>): Float32Array {
  const f = new Float32Array(Math.max(1, values.length));
  new Int32Array(f.buffer).set(Array.from(values));
  return f;
}
