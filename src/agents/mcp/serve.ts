// Transports for an MCP server: stdio (the client spawned us; stdout is the protocol channel) and
// Streamable HTTP on a loopback address, one session (and one server from the factory) per client.
// There is no authentication, so HTTP listens on loopback only and refuses requests whose Host or
// Origin header names another site (a web page could otherwise reach it by DNS rebinding).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { StrataError } from "../../core/errors.js";

/** The path MCP clients POST to. */
export const MCP_HTTP_PATH = "/mcp";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Serves one MCP server over this process's stdin/stdout until stdin ends, the transport closes
 * or `signal` fires. Nothing else may write to stdout meanwhile.
 */
export async function serveMcpStdio(server: McpServer, opts: { signal?: AbortSignal; stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream } = {}): Promise<void> {
  const stdin = (opts.stdin ?? process.stdin) as NodeJS.ReadStream;
  const stdout = (opts.stdout ?? process.stdout) as NodeJS.WriteStream;
  const transport = new StdioServerTransport(stdin, stdout);
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      stdin.off("end", done);
      stdin.off("close", done);
      opts.signal?.removeEventListener("abort", done);
      resolve();
    };
    if (opts.signal?.aborted) return resolve();
    opts.signal?.addEventListener("abort", done, { once: true });
    stdin.once("end", done);
    stdin.once("close", done);
    transport.onclose = done;
    server.connect(transport).catch(reject);
  });
  await server.close().catch(() => undefined);
}

export interface McpHttpServer {
  /** e.g. http://127.0.0.1:40123/mcp */
  url: string;
  port: number;
  /** Open sessions (clients that initialized and have not ended). */
  readonly sessions: number;
  /** Stops listening and cuts open connections. */
  close(): Promise<void>;
}

export interface McpHttpOptions {
  /** A loopback address (default 127.0.0.1). */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Called on errors the transport cannot answer to a client (logged by the CLI). */
  onError?: (e: unknown) => void;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

const rpcError = (message: string, code = -32000): unknown => ({ jsonrpc: "2.0", error: { code, message }, id: null });

/** The hostname of a Host header ("127.0.0.1:8080" → "127.0.0.1", "[::1]:80" → "::1"). */
function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "";
  }
}

/** Only requests addressed to a loopback name, and from no web origin or a loopback one. */
function fromLoopback(req: IncomingMessage): boolean {
  if (!isLoopbackHost(hostnameOf(req.headers.host ?? ""))) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return isLoopbackHost(new URL(origin).hostname.replace(/^\[|\]$/g, ""));
  } catch {
    return false;
  }
}

/** Most open sessions; a new client beyond it gets 503 until one ends or idles out. */
export const MAX_HTTP_SESSIONS = 100;
/** A session with no request for this long is closed. */
export const SESSION_IDLE_MS = 15 * 60_000;

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastUsed: number;
}

/**
 * Serves MCP over Streamable HTTP at http://<host>:<port>/mcp. Each client's `initialize` opens a
 * session with its own server from `factory` (so cancellations reach the call they cancel); a
 * session ends on DELETE, when idle for SESSION_IDLE_MS, or at close(). Responses are JSON, not
 * SSE. Refuses a host that is not a loopback address.
 */
export async function serveMcpHttp(factory: () => McpServer, opts: McpHttpOptions = {}): Promise<McpHttpServer> {
  const host = opts.host ?? "127.0.0.1";
  if (!isLoopbackHost(host)) {
    throw new StrataError("USAGE", `an MCP server over HTTP listens on loopback only, not on ${host}`, "use --host 127.0.0.1 (it has no authentication: anyone who can connect acts as its principal)");
  }
  const sessions = new Map<string, Session>();
  const end = (id: string): void => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    void s.transport.close().catch(() => undefined);
    void s.server.close().catch(() => undefined);
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (now - s.lastUsed > SESSION_IDLE_MS) end(id);
  }, 60_000);
  sweep.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== MCP_HTTP_PATH) return sendJson(res, 404, rpcError(`no MCP endpoint at ${path}; use ${MCP_HTTP_PATH}`));
    if (!fromLoopback(req)) return sendJson(res, 403, rpcError("requests must be addressed to a loopback host and come from no web origin or a loopback one"));
    const header = req.headers["mcp-session-id"];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) {
      const session = sessions.get(id);
      if (!session) return sendJson(res, 404, rpcError("Session not found", -32001));
      session.lastUsed = Date.now();
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== "POST") return sendJson(res, 400, rpcError("Bad Request: no session; POST an initialize request first"));
    if (sessions.size >= MAX_HTTP_SESSIONS) return sendJson(res, 503, rpcError(`too many open sessions (${MAX_HTTP_SESSIONS}); close one (DELETE) or try again later`), { "retry-after": "60" });
    // A request without a session must be `initialize`; the transport itself refuses anything else,
    // and a transport that opened no session is dropped once it has answered.
    const server = factory();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (sid) => void sessions.set(sid, { server, transport, lastUsed: Date.now() }),
      onsessionclosed: (sid) => end(sid),
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    }
  };
  const http: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.onError?.(e);
      sendJson(res, 500, rpcError("internal error", -32603));
    });
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException): void => {
      const hint = e.code === "EADDRINUSE" ? "pick another --port, or 0 for a free one" : "check --host and --port";
      reject(new StrataError("USAGE", `cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`, hint, { cause: e }));
    };
    http.once("error", fail);
    http.listen(opts.port ?? 0, host, () => {
      http.off("error", fail);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}${MCP_HTTP_PATH}`,
    port,
    get sessions() {
      return sessions.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        for (const id of [...sessions.keys()]) end(id);
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
