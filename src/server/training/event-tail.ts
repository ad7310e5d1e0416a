// Follows a file another process appends lines to (the trainer's events.jsonl): every interval it
// reads what was added since the last look and hands on each complete line. Polling keeps it simple
// and portable; the trainer writes a few lines a second at most.
import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

const CHUNK = 64 * 1024;

export class EventTail {
  private fd: number | null = null;
  private offset = 0;
  private partial = "";
  private readonly decoder = new StringDecoder("utf8");
  private readonly buffer = Buffer.alloc(CHUNK);
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
    onError: (e: unknown) => void,
    intervalMs = 200,
  ) {
    // A failed read must not take the server down; the next tick (or stop()) tries again.
    this.timer = setInterval(() => {
      try {
        this.poll();
      } catch (e) {
        onError(e);
      }
    }, intervalMs);
    this.timer.unref();
  }

  /** Reads everything appended since the last call. */
  poll(): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.path, "r");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // not written yet
        throw e;
      }
    }
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, CHUNK, this.offset);
      if (n === 0) break;
      this.offset += n;
      const lines = (this.partial + this.decoder.write(this.buffer.subarray(0, n))).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) if (line) this.onLine(line);
    }
  }

  /** A last read, then stop; a torn last line (the writer was killed mid-line) is dropped. */
  stop(): void {
    clearInterval(this.timer);
    try {
      this.poll();
    } finally {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
    }
  }
}
