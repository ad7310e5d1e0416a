// Server-sent events: the route takes over the response, writes `event:`/`data:` frames, and a
// comment line every 15 s keeps idle proxies from cutting a long answer. The stream stops writing
// once the client has gone; the route's AbortSignal has already told the work to stop.
import type { FastifyReply, FastifyRequest } from "fastify";
import { SECURITY_HEADERS } from "./headers.js";
import { acquireStreamSlot } from "./sse-caps.js";

const HEARTBEAT_MS = 15_000;

export function wantsEventStream(request: FastifyRequest): boolean {
  return /\btext\/event-stream\b/i.test(String(request.headers.accept ?? ""));
}

export class EventStream {
  private readonly heartbeat: NodeJS.Timeout;
  private ended = false;
  private readonly release: () => void;

  /** `run` names the run a stream watches, for the per-run cap; past a cap this throws 429 before anything is sent. */
  constructor(
    private readonly reply: FastifyReply,
    o: { run?: string } = {},
  ) {
    this.release = acquireStreamSlot(reply, o.run);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-request-id": String(reply.request.id),
    });
    raw.flushHeaders();
    this.heartbeat = setInterval(() => this.comment("keep-alive"), HEARTBEAT_MS);
    this.heartbeat.unref();
    raw.once("close", () => this.stop());
  }

  get closed(): boolean {
    return this.ended || this.reply.raw.destroyed || this.reply.raw.writableEnded;
  }

  /** One named event with a JSON payload. */
  send(event: string, data: unknown): void {
    if (this.closed) return;
    this.reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** A bare `data:` frame (OpenAI's streaming format); `[DONE]` is written as is. */
  data(payload: unknown): void {
    if (this.closed) return;
    this.reply.raw.write(`data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`);
  }

  private comment(text: string): void {
    if (!this.closed) this.reply.raw.write(`: ${text}\n\n`);
  }

  private stop(): void {
    this.ended = true;
    clearInterval(this.heartbeat);
    this.release();
  }

  end(): void {
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
    this.stop();
  }
}
