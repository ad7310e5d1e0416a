// A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: it records every request and
// answers with scripted behaviours, so tests drive the real client code over a real socket.
//
//   const server = await startOpenAiServer(replyText("Paris"));
//   const model = await createLanguageModel(server.ref("tiny"));
//   ... (await model.generate({ messages })).text === "Paris"
//   server.requests[0].body.messages  // what the client sent
//   await server.close();
//
// Behaviours are handlers `(req, res, n) => …` (n counts the requests that reached the handler,
// from 0). The chat replies answer a streaming request (body.stream) with SSE and any other with
// one JSON completion, so the same script serves generate() and stream(). Combine them with
// routes() (by endpoint), sequence() (by request number) and failTimes().
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";

/** A request body as OpenAI clients send it; the fields tests usually look at are typed. */
export interface WireRequestBody {
  model?: string;
  messages?: Array<{ role: string; content: string | null; tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters: unknown } }>;
  tool_choice?: unknown;
  response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
  input?: string | string[];
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  /** The path after "/v1", e.g. "/chat/completions" (the full path when it does not start with /v1). */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body ({} when the body was not JSON; see rawBody). */
  body: WireRequestBody;
  rawBody: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, n: number) => void | Promise<void>;

export interface OpenAiServer {
  /** Base URL, e.g. "http://127.0.0.1:40123/v1". */
  url: string;
  /** A model reference to this server: "openai:<url>#<model>". */
  ref(model?: string): string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Stops the server, cutting hanging and streaming connections. */
  close(): Promise<void>;
}

export interface ServerOptions {
  handler?: Handler;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ReplyOptions {
  /** Model name in the answer (default "test-model"). */
  model?: string;
  /** finish_reason (default "stop", or "tool_calls" for tool calls). */
  finishReason?: string;
  /** Usage to report; null sends none (the client must estimate). Default: 7 in, 3 out. */
  usage?: Usage | null;
  /** Streaming: characters of text (or arguments) per delta (default 3). */
  chunkSize?: number;
  /** Streaming: write the SSE bytes in slices of this many bytes, a tick apart, so events and
   *  UTF-8 characters are cut across TCP writes. Default: one write per event. */
  splitBytes?: number;
}

const DEFAULT_USAGE: Usage = { prompt_tokens: 7, completion_tokens: 3 };

export async function startOpenAiServer(optsOrHandler: ServerOptions | Handler = {}): Promise<OpenAiServer> {
  const opts: ServerOptions = typeof optsOrHandler === "function" ? { handler: optsOrHandler } : optsOrHandler;
  const handler = opts.handler ?? routes({ chat: replyText("ok"), embeddings: embedDeterministic(8) });
  const requests: RecordedRequest[] = [];
  let handled = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let body: WireRequestBody = {};
      try {
        body = JSON.parse(rawBody) as WireRequestBody;
      } catch {
        // left as {}; rawBody keeps what came
      }
      const recorded: RecordedRequest = { method: req.method ?? "", path: (req.url ?? "").replace(/^\/v1/, ""), headers: req.headers, body, rawBody };
      requests.push(recorded);
      // Like real servers, only /v1/… exists: a base URL without /v1 gets 404.
      if (!(req.url ?? "").startsWith("/v1/")) return sendJson(res, 404, { error: { message: `unknown path ${req.url}` } });
      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        // Like OpenAI, echo a masked key: the client must not pass even this on.
        const sent = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
        return sendJson(res, 401, { error: { message: `Incorrect API key provided: ${sent.slice(0, 3)}…${sent.slice(-4)}`, type: "invalid_request_error" } });
      }
      Promise.resolve(handler(recorded, res, handled++)).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { message: `test handler failed: ${String(e)}` } });
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/v1`;
  return {
    url,
    ref: (model = "test-model") => `openai:${url}#${model}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The base URL of a port where nothing listens (a server that is down). */
export async function deadServerUrl(): Promise<string> {
  const s = await startOpenAiServer();
  await s.close();
  return s.url;
}

// ---------- combinators ----------

/** Dispatches by endpoint; anything else gets 404 like a real server. */
export function routes(table: { chat?: Handler; embeddings?: Handler }): Handler {
  const counts = { chat: 0, embeddings: 0 };
  return (req, res) => {
    const key = req.path === "/chat/completions" ? "chat" : req.path === "/embeddings" ? "embeddings" : undefined;
    const h = key ? table[key] : undefined;
    if (!key || !h) return replyError(404, `unknown path ${req.path}`)(req, res, 0);
    return h(req, res, counts[key]++);
  };
}

/** Request n gets handlers[n]; the last one answers every request after. */
export function sequence(...handlers: Handler[]): Handler {
  return (req, res, n) => handlers[Math.min(n, handlers.length - 1)]!(req, res, n);
}

/** Fails the first `times` requests with `status` (429 carries Retry-After: 0 unless told), then runs `then`. */
export function failTimes(times: number, status: number, then: Handler, opts: { retryAfter?: string; message?: string } = {}): Handler {
  return (req, res, n) => {
    if (n >= times) return then(req, res, n - times);
    const headers: Record<string, string> = {};
    const retryAfter = opts.retryAfter ?? (status === 429 ? "0" : undefined);
    if (retryAfter !== undefined) headers["retry-after"] = retryAfter;
    return replyError(status, opts.message ?? `scripted failure ${n + 1} of ${times}`, headers)(req, res, n);
  };
}

// ---------- plain answers ----------

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export function replyJson(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => sendJson(res, status, body, headers);
}

/** An error in OpenAI's shape: { error: { message } }. */
export function replyError(status: number, message: string, headers: Record<string, string> = {}): Handler {
  return replyJson(status, { error: { message, type: "error", code: status } }, headers);
}

/** Any bytes with any content type (e.g. a body that is not JSON). */
export function replyRaw(status: number, text: string, contentType = "application/json"): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(text);
  };
}

/** Never answers: for timeouts and cancellation (close() cuts the connection). */
export function hang(): Handler {
  return () => {};
}

// ---------- chat completions ----------

export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown> | string;
  id?: string;
}

interface Answer {
  text: string;
  toolCalls: Array<{ id: string; name: string; args: string }>;
}

function completion(answer: Answer, o: ReplyOptions): unknown {
  const toolCalls = answer.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.args } }));
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 0,
    model: o.model ?? "test-model",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: answer.text || (toolCalls.length ? null : ""), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
        finish_reason: o.finishReason ?? (toolCalls.length ? "tool_calls" : "stop"),
      },
    ],
    ...(o.usage === null ? {} : { usage: { ...(o.usage ?? DEFAULT_USAGE), total_tokens: 0 } }),
  };
}

function pieces(s: string, size: number): string[] {
  const out: string[] = [];
  const chars = Array.from(s); // whole code points: a delta never splits a character
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

/** The SSE events (each "data: …\n\n") of a streamed answer. */
function streamEvents(answer: Answer, o: ReplyOptions, includeUsage: boolean): string[] {
  const size = o.chunkSize ?? 3;
  const model = o.model ?? "test-model";
  const chunk = (delta: unknown, finish: string | null = null): string =>
    `data: ${JSON.stringify({ id: "chatcmpl-test", object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const events = [chunk({ role: "assistant", content: "" })];
  for (const p of pieces(answer.text, size)) events.push(chunk({ content: p }));
  answer.toolCalls.forEach((c, index) => {
    events.push(chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
    for (const p of pieces(c.args, size)) events.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
  });
  events.push(chunk({}, o.finishReason ?? (answer.toolCalls.length ? "tool_calls" : "stop")));
  if (includeUsage && o.usage !== null) events.push(`data: ${JSON.stringify({ id: "chatcmpl-test", object: "chat.completion.chunk", created: 0, model, choices: [], usage: o.usage ?? DEFAULT_USAGE })}\n\n`);
  events.push("data: [DONE]\n\n");
  return events;
}

// setImmediate lets each write leave as its own TCP segment without slowing tests down.
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Writes SSE events, optionally sliced into `splitBytes`-byte writes a tick apart. */
export async function writeSse(res: ServerResponse, events: string[], splitBytes?: number): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
  if (!splitBytes) {
    for (const e of events) {
      res.write(e);
      await tick();
    }
  } else {
    const bytes = Buffer.from(events.join(""), "utf8");
    for (let i = 0; i < bytes.length; i += splitBytes) {
      res.write(bytes.subarray(i, i + splitBytes));
      await tick();
    }
  }
  res.end();
}

function answerWith(answer: Answer, o: ReplyOptions): Handler {
  return async (req, res) => {
    if (req.body.stream) await writeSse(res, streamEvents(answer, o, req.body.stream_options?.include_usage === true), o.splitBytes);
    else sendJson(res, 200, completion(answer, o));
  };
}

/** Answers with `text`: one completion, or an SSE stream when the request asked for one. */
export function replyText(text: string, o: ReplyOptions = {}): Handler {
  return answerWith({ text, toolCalls: [] }, o);
}

/** Answers with one tool call (arguments as an object, or as the exact text to send). */
export function replyToolCall(name: string, args: Record<string, unknown> | string, o: ReplyOptions & { id?: string; text?: string } = {}): Handler {
  return replyToolCalls([{ name, args, id: o.id }], o);
}

export function replyToolCalls(calls: ScriptedToolCall[], o: ReplyOptions & { text?: string } = {}): Handler {
  const toolCalls = calls.map((c, i) => ({ id: c.id ?? `call_${i + 1}`, name: c.name, args: typeof c.args === "string" ? c.args : JSON.stringify(c.args) }));
  return answerWith({ text: o.text ?? "", toolCalls }, o);
}

/** Streams the start of `text`, then breaks: "invalid-json" sends a data line that is not JSON and
 *  ends the stream; "cut" destroys the socket mid-answer. */
export function breakStream(text: string, how: "invalid-json" | "cut", o: ReplyOptions = {}): Handler {
  return async (_req, res) => {
    const good = streamEvents({ text, toolCalls: [] }, { ...o, usage: null }, false).slice(0, 3);
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    for (const e of good) {
      res.write(e);
      await tick();
    }
    if (how === "invalid-json") {
      res.write('data: {"choices": [{"delta": {"content": "oops"\n\n');
      await tick();
      res.end();
    } else {
      res.socket?.destroy();
    }
  };
}

// ---------- embeddings ----------

/** The vector embedDeterministic() gives a text: unit length, from SHA-256 of the text. */
export function deterministicVector(text: string, dim: number): number[] {
  const v: number[] = [];
  for (let block = 0; v.length < dim; block++) {
    const h = createHash("sha256").update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < h.length && v.length < dim; i += 2) v.push(h.readUInt16BE(i) / 65535 - 0.5);
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => Math.fround(x / norm));
}

/** Embeds every input as deterministicVector(text, dim); `dimFor(n)` can change dim per request. */
export function embedDeterministic(dim: number, opts: { dimFor?: (n: number) => number; reverse?: boolean } = {}): Handler {
  return (req, res, n) => {
    const input = req.body.input;
    const texts = typeof input === "string" ? [input] : Array.isArray(input) ? input : [];
    const d = opts.dimFor?.(n) ?? dim;
    const data = texts.map((t, index) => ({ object: "embedding", index, embedding: deterministicVector(String(t), d) }));
    // A server may list vectors out of order; `index` is what ties them to inputs.
    if (opts.reverse) data.reverse();
    sendJson(res, 200, { object: "list", model: req.body.model, data, usage: { prompt_tokens: texts.length, total_tokens: texts.length } });
  };
}
