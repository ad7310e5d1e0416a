// Parsing off the calling thread: a small pool of worker threads (one fewer than the cores, 1–4),
// each with a capped heap, and a time budget per file. A file that runs past its budget or out of
// heap has its worker terminated and replaced; the pool carries on with the next file. Small plain
// files (Markdown, text, CSV, JSON up to 64 KiB) are parsed inline: a round trip to a worker would
// cost more than the parse, and they cannot block for long.
import { availableParallelism } from "node:os";
import { extname } from "node:path";
import { Worker } from "node:worker_threads";
import { StrataError } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { innerName } from "./gzip.js";
import { parseInline, type ParseJob } from "./parse-job.js";
import { overLimit, resolveParseLimits } from "./parse-limits.js";

export type { ParseJob } from "./parse-job.js";

/** Plain formats small enough to parse on the calling thread. */
const INLINE_EXTENSIONS = new Set([".md", ".markdown", ".txt", ".text", ".csv", ".json", ".jsonl", ".ndjson"]);
const INLINE_MAX_BYTES = 64 * 1024;

export interface ParsePoolOptions {
  /** Worker threads (default: cores − 1, at least 1, at most 4). */
  size?: number;
  /** Heap cap per worker, MiB (default 512). */
  heapMb?: number;
}

interface Task {
  id: number;
  job: ParseJob;
  timeoutMs: number;
  signal?: AbortSignal;
  resolve: (d: ExtractedDocument) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

type Reply = { id: number; document: ExtractedDocument } | { id: number; error: { code: StrataError["code"]; message: string; hint: string } };

const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./parse-worker.ts" : "./parse-worker.js", import.meta.url);

export class ParsePool {
  readonly size: number;
  private readonly heapMb: number;
  private readonly idle: Slot[] = [];
  private readonly busy = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: ParsePoolOptions = {}) {
    this.size = opts.size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.heapMb = opts.heapMb ?? 512;
  }

  /** Parses one file; small plain files inline, the rest in a worker under the time budget. */
  parse(job: ParseJob, signal?: AbortSignal): Promise<ExtractedDocument> {
    if (this.closed) return Promise.reject(new StrataError("INTERNAL", "the parse pool is closed", "open the knowledge base again"));
    if (job.bytes.length <= INLINE_MAX_BYTES && INLINE_EXTENSIONS.has(extname(innerName(job.name)).toLowerCase()) && innerName(job.name) === job.name) {
      return parseInline(job, signal);
    }
    const timeoutMs = resolveParseLimits(job.limits).parseTimeoutMs;
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, timeoutMs, signal, resolve, reject });
      this.pump();
    });
  }

  /** Terminates every worker; queued files fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new StrataError("ABORTED", "the parse pool was closed", "run it again"));
    const all = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(all.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0 && (this.idle.length > 0 || this.busy.size < this.size)) {
      const task = this.queue.shift()!;
      if (task.signal?.aborted) {
        task.reject(aborted());
        continue;
      }
      this.run(this.idle.pop() ?? this.spawn(), task);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 64 }, stdout: false, stderr: false });
    const slot: Slot = { worker };
    worker.on("message", (reply: Reply) => {
      const task = slot.task;
      if (!task || reply.id !== task.id) return;
      this.finish(slot);
      if ("document" in reply) task.resolve(reply.document);
      else task.reject(new StrataError(reply.error.code, reply.error.message, reply.error.hint));
      this.idle.push(slot);
      worker.unref(); // an idle pool never keeps the process alive
      this.pump();
    });
    worker.on("error", (e: Error) => this.fail(slot, isOutOfMemory(e) ? outOfMemory(this.heapMb) : new StrataError("PARSE_FAILED", `the parser failed: ${e.message.slice(0, 200)}`, "check the file opens in its own application")));
    worker.on("exit", () => this.fail(slot, outOfMemory(this.heapMb)));
    return slot;
  }

  private run(slot: Slot, task: Task): void {
    slot.task = task;
    this.busy.add(slot);
    slot.worker.ref();
    slot.timer = setTimeout(() => this.kill(slot, overLimit("parseTimeoutMs", task.timeoutMs, task.timeoutMs, true)), task.timeoutMs);
    if (task.signal) {
      slot.onAbort = () => this.kill(slot, aborted());
      task.signal.addEventListener("abort", slot.onAbort, { once: true });
    }
    const { bytes, name, maxBytes, limits, chunking, transfer } = task.job;
    const own = transfer && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    slot.worker.postMessage({ id: task.id, bytes, name, maxBytes, limits, chunking }, own ? [bytes.buffer as ArrayBuffer] : []);
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    if (slot.onAbort) slot.task?.signal?.removeEventListener("abort", slot.onAbort);
    slot.timer = slot.onAbort = slot.task = undefined;
    this.busy.delete(slot);
  }

  /** A hostile or cancelled file: its worker goes, a fresh one is started on demand. */
  private kill(slot: Slot, why: StrataError): void {
    this.fail(slot, why);
    void slot.worker.terminate();
  }

  private fail(slot: Slot, why: StrataError): void {
    const task = slot.task;
    const wasIdle = this.idle.indexOf(slot);
    if (wasIdle >= 0) this.idle.splice(wasIdle, 1);
    if (!task) return;
    this.finish(slot);
    slot.worker.removeAllListeners("message");
    slot.worker.removeAllListeners("exit");
    slot.worker.on("error", () => undefined);
    task.reject(why);
    this.pump();
  }
}

function aborted(): StrataError {
  return new StrataError("ABORTED", "the operation was cancelled", "run it again to finish; finished work is kept");
}

function isOutOfMemory(e: Error): boolean {
  return (e as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY";
}

function outOfMemory(heapMb: number): StrataError {
  return new StrataError("PARSE_LIMIT", `parsing needed more than the ${heapMb} MiB of memory a parser may use`, "the file expands too much when parsed; split it, or leave it out");
}

let shared: ParsePool | undefined;

/** One pool per process, shared by `strata ingest` and the server's uploads; its idle workers never hold the process open. */
export function sharedParsePool(): ParsePool {
  shared ??= new ParsePool();
  return shared;
}
