// Command batching: dispatches are recorded into one encoder and one compute pass, and submitted at
// `flush` (which reads call). Each dispatch's parameter block goes to its own 256-byte slot of a
// per-batch uniform arena written once at flush, because queue.writeBuffer takes effect before the
// submitted commands, so dispatches of one batch cannot share a rewritten uniform buffer.

import { type BufferPool, Usage } from "./buffer-pool.js";

const SLOT = 256; // minUniformBufferOffsetAlignment
const ARENA_SLOTS = 512;

export class CommandBatch {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: GPUBuffer | null = null;
  private arenaData = new Uint8Array(SLOT * ARENA_SLOTS);
  private slots = 0;
  private readonly retired: GPUBuffer[] = [];
  /** Dispatches recorded since the last flush. */
  pending = 0;

  constructor(private readonly device: GPUDevice, private readonly pool: BufferPool) {}

  /** Records one dispatch; `params` (if any) is bound at `paramsBinding`. */
  dispatch(pipeline: GPUComputePipeline, storage: readonly GPUBuffer[], params: ArrayBuffer | null, groups: readonly [number, number, number]): void {
    if (params && this.slots === ARENA_SLOTS) this.flush();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    const entries: GPUBindGroupEntry[] = storage.map((buffer, binding) => ({ binding, resource: { buffer } }));
    if (params) {
      if (params.byteLength > SLOT) throw new RangeError(`kernel parameters of ${params.byteLength} bytes exceed ${SLOT}`);
      if (!this.arena) this.arena = this.pool.acquire(SLOT * ARENA_SLOTS, Usage.UNIFORM | Usage.COPY_DST);
      this.arenaData.set(new Uint8Array(params), this.slots * SLOT);
      entries.push({ binding: storage.length, resource: { buffer: this.arena, offset: this.slots * SLOT, size: params.byteLength } });
      this.slots++;
    }
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.pending++;
  }

  /** Ends the pass, records `extra` (copies) and submits everything recorded. */
  flush(extra?: (encoder: GPUCommandEncoder) => void): void {
    if (!this.encoder && !extra) return;
    const encoder = this.encoder ?? this.device.createCommandEncoder();
    this.pass?.end();
    extra?.(encoder);
    if (this.arena) {
      this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, this.slots * SLOT);
      this.retired.push(this.arena);
    }
    this.device.queue.submit([encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.arena = null;
    this.slots = 0;
    this.pending = 0;
    // Arenas go back to the pool once the GPU is done with them.
    const done = this.retired.splice(0);
    if (done.length > 0) void this.device.queue.onSubmittedWorkDone().then(() => done.forEach((b) => this.pool.release(b)));
  }
}
