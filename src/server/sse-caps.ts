// Caps on concurrent server-sent-event streams, per API key and per watched run, so one key cannot
// hold thousands of sockets open on a training run. Past a cap: 429 with Retry-After, before the
// stream starts. Counts are per server instance and released when a stream closes.
import type { FastifyInstance, FastifyReply } from "fastify";
import { ServerError } from "./errors.js";

export interface SseCaps {
  /** Concurrent streams one key may hold open (default 16). */
  perKey: number;
  /** Concurrent streams on one run (training or agent run), all keys together (default 32). */
  perRun: number;
}

export const DEFAULT_SSE_CAPS: Readonly<SseCaps> = Object.freeze({ perKey: 16, perRun: 32 });
const RETRY_AFTER_S = 5;

class StreamCounts {
  private readonly byKey = new Map<string, number>();
  private readonly byRun = new Map<string, number>();
  constructor(readonly caps: SseCaps) {}

  acquire(keyId: string | undefined, run: string | undefined): () => void {
    const k = keyId ?? "(anonymous)";
    if ((this.byKey.get(k) ?? 0) >= this.caps.perKey) throw full(`this key has ${this.caps.perKey} event streams open`, "close one (or wait for it to end) before opening another");
    if (run !== undefined && (this.byRun.get(run) ?? 0) >= this.caps.perRun) throw full(`${this.caps.perRun} event streams are already open on this run`, "poll the run with a plain GET instead, or try again later");
    bump(this.byKey, k, 1);
    if (run !== undefined) bump(this.byRun, run, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(this.byKey, k, -1);
      if (run !== undefined) bump(this.byRun, run, -1);
    };
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}

function full(message: string, hint: string): ServerError {
  return new ServerError("RATE_LIMITED", message, hint, { "retry-after": String(RETRY_AFTER_S) });
}

const perServer = new WeakMap<FastifyInstance, StreamCounts>();

export function configureSseCaps(app: FastifyInstance, caps: Partial<SseCaps> = {}): void {
  const c = { ...DEFAULT_SSE_CAPS, ...caps };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isInteger(v) || v < 1) throw new ServerError("USAGE", `the event-stream cap ${k} must be a whole number ≥ 1, got ${v}`, "e.g. 16");
  }
  perServer.set(app, new StreamCounts(c));
}

/** Takes a stream slot for the request's key (and run), or throws 429; returns its release. */
export function acquireStreamSlot(reply: FastifyReply, run?: string): () => void {
  let counts = perServer.get(reply.server);
  if (!counts) perServer.set(reply.server, (counts = new StreamCounts({ ...DEFAULT_SSE_CAPS })));
  return counts.acquire(reply.request.caller?.keyId, run);
}
