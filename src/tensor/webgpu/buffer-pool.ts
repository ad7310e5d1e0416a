// Size-bucketed reuse of GPU buffers: a released buffer goes back to the free list of its bucket and
// is handed out again for any request that rounds up to the same bucket. Buckets are 1/8-octave
// steps (at most 12.5% waste) above 4 KiB. Nothing is freed implicitly: `release` returns a buffer,
// `trim` destroys the free ones.

/** WebGPU usage flags (spec values; the `webgpu` package does not put GPUBufferUsage on globalThis). */
export const Usage = { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128, QUERY_RESOLVE: 512 } as const;

/** A storage buffer holding `elements` 4-byte elements (its GPU buffer may be larger). */
export interface GpuBuffer {
  readonly gpu: GPUBuffer;
  readonly elements: number;
}

export function bucketBytes(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const octave = 2 ** Math.floor(Math.log2(b));
  const step = octave / 8;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  /** Bytes held by live and free buffers. */
  allocatedBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, usage: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) return reused;
    this.allocatedBytes += size;
    return this.device.createBuffer({ size, usage });
  }

  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.free.get(key);
    if (list) list.push(buffer);
    else this.free.set(key, [buffer]);
  }

  /** Destroys every free buffer. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }
}
