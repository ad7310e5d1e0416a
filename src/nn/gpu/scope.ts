// Temporaries of one forward/backward: a Runner that allocates through another and remembers what
// it handed out, so a step frees its activations in one call (`releaseAll`) while persistent
// buffers (weights, gradients, moments) are allocated on the underlying runner directly.

import type { KernelCall, Runner } from "../../tensor/webgpu/kernel-call.js";

export class ScopedRunner<B> implements Runner<B> {
  private readonly live = new Set<B>();

  constructor(readonly base: Runner<B>) {}

  alloc(elements: number): B {
    const b = this.base.alloc(elements);
    this.live.add(b);
    return b;
  }

  release(buffer: B): void {
    if (this.live.delete(buffer)) this.base.release(buffer);
  }

  run(call: KernelCall<B>): void {
    this.base.run(call);
  }

  /** Tracks a buffer made elsewhere (an upload), so releaseAll frees it too. */
  track(buffer: B): B {
    this.live.add(buffer);
    return buffer;
  }

  /** Stops tracking `buffer` (it outlives the scope; the caller releases it). */
  keep(buffer: B): B {
    this.live.delete(buffer);
    return buffer;
  }

  /** Releases every buffer still tracked. */
  releaseAll(): void {
    for (const b of this.live) this.base.release(b);
    this.live.clear();
  }
}
