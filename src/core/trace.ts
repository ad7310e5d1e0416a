// A trace of one operation (an answer, a chat turn): named spans with their start, duration,
// attributes and token usage, nested where one step runs inside another. It serialises to plain
// JSON so stores can keep it and the CLI, the server and tests can read it back.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { StrataError } from "./errors.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Tokens and cost of the model calls inside a span (same shape as the model layer's Usage). */
export interface TraceUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
}

export interface SpanData {
  name: string;
  /** Milliseconds from the start of the trace. */
  startMs: number;
  ms: number;
  attributes: Record<string, JsonValue>;
  usage?: TraceUsage;
  /** Message of the error that ended the span, if one did. */
  error?: string;
  children: SpanData[];
}

export interface TraceData {
  version: 1;
  id: string;
  kind: string;
  /** ISO time the trace started. */
  startedAt: string;
  ms: number;
  attributes: Record<string, JsonValue>;
  /** Sum of the spans' usage. */
  usage: TraceUsage;
  spans: SpanData[];
}

export const TRACE_VERSION = 1 as const;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
const usageSchema = z.object({ inputTokens: z.number().nonnegative(), outputTokens: z.number().nonnegative(), costUsd: z.number().nonnegative().optional() });
const spanSchema: z.ZodType<SpanData> = z.lazy(() =>
  z.object({
    name: z.string(),
    startMs: z.number(),
    ms: z.number(),
    attributes: z.record(z.string(), jsonValue),
    usage: usageSchema.optional(),
    error: z.string().optional(),
    children: z.array(spanSchema),
  }),
);
const traceSchema = z.object({
  version: z.literal(TRACE_VERSION),
  id: z.string(),
  kind: z.string(),
  startedAt: z.string(),
  ms: z.number(),
  attributes: z.record(z.string(), jsonValue),
  usage: usageSchema,
  spans: z.array(spanSchema),
});

/** Checks stored or received trace JSON; a trace of another version is refused, not misread. */
export function parseTraceData(value: unknown): TraceData {
  const r = traceSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new StrataError("STORE_CORRUPT", `a stored trace is unreadable: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`, "the trace was written by another Strata version or damaged; run the question again for a new trace");
  }
  return r.data as TraceData;
}

export function newTraceId(): string {
  return `trc_${randomBytes(10).toString("hex")}`;
}

function addUsage(a: TraceUsage, b: TraceUsage): TraceUsage {
  const out: TraceUsage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  if (a.costUsd !== undefined || b.costUsd !== undefined) out.costUsd = (a.costUsd ?? 0) + (b.costUsd ?? 0);
  return out;
}

/** One running or finished span; `start` opens a child inside it. */
export class Span {
  private ended = false;

  /** `data` is the record this span fills in, already linked into its parent's list. */
  constructor(
    private readonly clock: () => number,
    private readonly origin: number,
    private readonly data: SpanData,
  ) {}

  static open(clock: () => number, origin: number, into: SpanData[], name: string, attributes: Record<string, JsonValue>): Span {
    const data: SpanData = { name, startMs: clock() - origin, ms: 0, attributes: { ...attributes }, children: [] };
    into.push(data);
    return new Span(clock, origin, data);
  }

  get name(): string {
    return this.data.name;
  }

  set(attributes: Record<string, JsonValue>): this {
    Object.assign(this.data.attributes, attributes);
    return this;
  }

  addUsage(usage: TraceUsage): this {
    this.data.usage = addUsage(this.data.usage ?? { inputTokens: 0, outputTokens: 0 }, usage);
    return this;
  }

  start(name: string, attributes: Record<string, JsonValue> = {}): Span {
    return Span.open(this.clock, this.origin, this.data.children, name, attributes);
  }

  /** Ends the span (once; later calls keep the first end), optionally with an error. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.data.ms = this.clock() - this.origin - this.data.startMs;
    if (error !== undefined) this.data.error = error instanceof Error ? error.message : String(error);
  }
}

/** Runs fn inside a span that ends when fn settles, recording its error if it throws. */
export async function inSpan<T>(parent: Trace | Span, name: string, fn: (span: Span) => T | Promise<T>, attributes: Record<string, JsonValue> = {}): Promise<T> {
  const span = parent.start(name, attributes);
  try {
    const value = await fn(span);
    span.end();
    return value;
  } catch (e) {
    span.end(e);
    throw e;
  }
}

export interface TraceOptions {
  id?: string;
  /** Milliseconds clock; tests inject one to get exact numbers. */
  clock?: () => number;
  now?: () => Date;
}

export class Trace {
  readonly id: string;
  private readonly clock: () => number;
  private readonly origin: number;
  private readonly startedAt: string;
  private readonly spans: SpanData[] = [];
  private readonly roots: Span[] = [];
  private readonly attributes: Record<string, JsonValue> = {};
  private endedMs: number | undefined;

  constructor(readonly kind: string, opts: TraceOptions = {}) {
    this.id = opts.id ?? newTraceId();
    this.clock = opts.clock ?? (() => performance.now());
    this.origin = this.clock();
    this.startedAt = (opts.now?.() ?? new Date()).toISOString();
  }

  set(attributes: Record<string, JsonValue>): this {
    Object.assign(this.attributes, attributes);
    return this;
  }

  start(name: string, attributes: Record<string, JsonValue> = {}): Span {
    const span = Span.open(this.clock, this.origin, this.spans, name, attributes);
    this.roots.push(span);
    return span;
  }

  /** Ends the trace (its total time) and any span left open. */
  end(): void {
    if (this.endedMs !== undefined) return;
    for (const s of this.roots) s.end();
    this.endedMs = this.clock() - this.origin;
  }

  toJSON(): TraceData {
    const ms = this.endedMs ?? this.clock() - this.origin;
    const copy = structuredClone(this.spans);
    return {
      version: TRACE_VERSION,
      id: this.id,
      kind: this.kind,
      startedAt: this.startedAt,
      ms,
      attributes: structuredClone(this.attributes),
      usage: totalUsage(copy),
      spans: copy,
    };
  }
}

/** Sum of usage over spans and their children. */
export function totalUsage(spans: SpanData[]): TraceUsage {
  let total: TraceUsage = { inputTokens: 0, outputTokens: 0 };
  for (const s of spans) {
    if (s.usage) total = addUsage(total, s.usage);
    total = addUsage(total, totalUsage(s.children));
  }
  return total;
}
