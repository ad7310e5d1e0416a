// Checked postings blobs by (segment, term), least recently used out first. Segments are immutable
// and their ids never reused, so an entry can never go stale; a merged-away segment's entries just
// age out. Absent terms are cached too (most query terms are missing from most small segments).
import { PostingsBlob } from "./postings-codec.js";

export class BlobCache {
  private readonly entries = new Map<string, PostingsBlob | null>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(segId: number, termId: number, load: () => Uint8Array | undefined): PostingsBlob | null {
    const hit = this.peek(segId, termId);
    if (hit !== undefined) return hit;
    const raw = load();
    const blob = raw ? new PostingsBlob(raw) : null;
    this.put(segId, termId, blob);
    return blob;
  }

  /** The cached blob (null: cached as absent), or undefined when the pair is not cached. */
  peek(segId: number, termId: number): PostingsBlob | null | undefined {
    const key = `${segId}:${termId}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Caches a blob that was loaded elsewhere (an asynchronous store fetches many in one query). */
  put(segId: number, termId: number, blob: PostingsBlob | null): void {
    this.entries.set(`${segId}:${termId}`, blob);
    this.bytes += (blob?.buf.length ?? 0) + 64;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= (v?.buf.length ?? 0) + 64;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
