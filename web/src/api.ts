// The Strata API as the page uses it: typed shapes of the responses (docs/api.md), a JSON client
// and a Server-Sent-Events client. Every request carries the key in the Authorization header —
// never in a URL — which is also why SSE goes through fetch (EventSource cannot send headers).

export interface Me {
  user: string;
  groups: string[];
  scopes: string[];
  /** The id of the key in use (never the key). */
  keyId?: string;
}

export interface KbSummary {
  name: string;
  documents: number;
  chunks: number;
  members: { users: string[]; groups: string[] } | string[];
}

export interface Acl {
  users: string[];
  groups: string[];
}

export interface DocumentSummary {
  docId: string;
  source: string;
  title: string;
  mime: string;
  version: number;
  ingestedAt: string;
  size?: number;
  acl: Acl;
  tags: string[];
}

export interface DocumentFull {
  docId: string;
  source: string;
  title: string;
  mime?: string;
  version: number;
  hash: string;
  ingestedAt?: string;
  acl: Acl;
  tags?: string[];
  /** Paged formats (PDF): where each page's text is, as offsets into `text`. */
  pages?: { page: number; start: number; end: number }[];
  text: string;
}

export interface SearchResult {
  rank: number;
  score: number;
  docId: string;
  source: string;
  title: string;
  chunkId: string;
  headingPath: string[];
  page: number | null;
  start: number;
  end: number;
  text: string;
}

export interface Citation {
  n: number;
  docId: string;
  source: string;
  title: string;
  chunkId: string;
  page: number | null;
  start: number;
  end: number;
  quote: string;
}

export interface AnswerSentence {
  text: string;
  citations: number[];
  supported: boolean;
  verdict?: string;
  reason?: string;
  removed?: boolean;
}

export interface Answer {
  answer: string;
  mode: "extractive" | "generative";
  supported: boolean;
  citations: Citation[];
  sentences: AnswerSentence[];
  usage?: { inputTokens: number; outputTokens: number; costUsd?: number; estimated?: boolean };
  traceId?: string;
  conversationId?: string;
  model?: string;
  abstention?: string;
}

export interface IngestProgress {
  done: number;
  total: number;
  item?: string;
}

export interface IngestDone {
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: { source?: string; item?: string; code?: string; message?: string; error?: string }[];
}

/** An error as the server reports it: {error: {code, message, hint}} with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Signals "the key is not (or no longer) valid" to whoever signed in. */
let onUnauthorized: (() => void) | undefined;
export function setUnauthorizedHandler(fn: (() => void) | undefined): void {
  onUnauthorized = fn;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `request failed with HTTP ${res.status}`;
  let hint: string | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; hint?: string } };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      hint = body.error.hint;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message, hint);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

export class Client {
  constructor(readonly key: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const init: RequestInit = {
      method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
      headers: this.headers(opts.body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" }),
      credentials: "omit",
      cache: "no-store",
    };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    if (opts.signal) init.signal = opts.signal;
    const res = await fetch(path, init);
    if (!res.ok) {
      const err = await errorOf(res);
      if (res.status === 401) onUnauthorized?.();
      throw err;
    }
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /**
   * A request answered as Server-Sent Events: calls onEvent for each event as it arrives. A server
   * that answers with plain JSON instead is handled too: the body is passed as the event `fallback`.
   */
  async stream(path: string, body: FormData | unknown, onEvent: (event: string, data: unknown) => void, signal?: AbortSignal): Promise<void> {
    const isForm = typeof FormData !== "undefined" && body instanceof FormData;
    const init: RequestInit = {
      method: "POST",
      headers: this.headers(isForm ? { Accept: "text/event-stream" } : { Accept: "text/event-stream", "Content-Type": "application/json" }),
      body: isForm ? (body as FormData) : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    };
    if (signal) init.signal = signal;
    const res = await fetch(path, init);
    if (!res.ok) {
      const err = await errorOf(res);
      if (res.status === 401) onUnauthorized?.();
      throw err;
    }
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("text/event-stream") || !res.body) {
      onEvent("fallback", await res.json());
      return;
    }
    await readSse(res.body, onEvent);
  }

  me(signal?: AbortSignal): Promise<Me> {
    return this.request<Me>("/api/me", signal ? { signal } : {});
  }
}

/** Parses an SSE byte stream (event:, data:, blank line) and hands each event's JSON data on. */
export async function readSse(body: ReadableStream<Uint8Array>, onEvent: (event: string, data: unknown) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  const dispatch = (): void => {
    if (data.length === 0) {
      event = "message";
      return;
    }
    const raw = data.join("\n");
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // plain text data stays a string
    }
    onEvent(event, parsed);
    event = "message";
    data = [];
  };
  const line = (l: string): void => {
    if (l === "") return dispatch();
    if (l.startsWith(":")) return;
    const colon = l.indexOf(":");
    const field = colon < 0 ? l : l.slice(0, colon);
    let val = colon < 0 ? "" : l.slice(colon + 1);
    if (val.startsWith(" ")) val = val.slice(1);
    if (field === "event") event = val;
    else if (field === "data") data.push(val);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let m: RegExpExecArray | null;
    while ((m = /\r\n|\r|\n/.exec(buffer)) !== null) {
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for more.
      if (m[0] === "\r" && m.index === buffer.length - 1) break;
      line(buffer.slice(0, m.index));
      buffer = buffer.slice(m.index + m[0].length);
    }
  }
  buffer += decoder.decode();
  if (buffer !== "") line(buffer);
  dispatch();
}

export const enc = encodeURIComponent;

/** Members of a knowledge base as a short line, whatever shape the server lists them in. */
export function membersText(m: KbSummary["members"]): string {
  if (Array.isArray(m)) return m.join(", ");
  const parts = [...(m.users ?? []).map((u) => u), ...(m.groups ?? []).map((g) => `group ${g}`)];
  return parts.length ? parts.join(", ") : "none listed";
}

export function aclText(acl: Acl | undefined): string {
  if (!acl || (acl.users.length === 0 && acl.groups.length === 0)) return "all members";
  return [...acl.users.map((u) => `user ${u}`), ...acl.groups.map((g) => `group ${g}`)].join(", ");
}

export function splitList(s: string): string[] {
  return s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}
