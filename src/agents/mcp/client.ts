// Mounting the tools of an MCP server (stdio or Streamable HTTP) under an explicit allow-list.
//
//   const conn = await connectMcp({ command: "strata", args: ["mcp", "serve", "--kb", "./kb"] }, { allow: ["search", "ask"] });
//   const search = conn.tool("search");            // an McpTool: name, description, inputSchema, risk, call
//   const r = await search.call({ query: "night tours" }, { signal });
//   r.untrusted === true; r.structured / r.text   // data from outside, never instructions
//   await conn.close();
//
// The descriptors are plain objects meant to be adapted into the agent runtime's tools: `name`,
// `description` and `inputSchema` (JSON Schema, as the server advertised it) for the model,
// `risk` ("external" unless the caller says otherwise — never taken from the server's own
// hints), and `call(args, { signal })`. Arguments are checked against the input schema before they
// are sent; a call has a timeout, honours abort, and a result's text is capped in size. Every
// failure is a StrataError: a server that cannot be started or reached, that closes or dies
// (MCP_UNAVAILABLE, with the end of its stderr), a timeout (TIMEOUT), an abort (ABORTED), a tool
// not on the allow-list (FORBIDDEN) or not on the server (TOOL_UNKNOWN), bad arguments (TOOL_ARGS_INVALID), a tool that reports an error
// (TOOL_FAILED). Tool descriptions and results come from the server and are untrusted text.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import type { JsonSchema } from "../../model/types.js";
import { allowMatcher, unmatchedNames, type AllowEntry } from "./allow-list.js";

/** A server to start and talk to over stdin/stdout. */
export interface McpStdioTarget {
  command: string;
  args?: string[];
  /** Added to a minimal inherited environment (PATH, HOME, …; the SDK's default), not to all of process.env. */
  env?: Record<string, string>;
  cwd?: string;
}

/** A server reachable over Streamable HTTP. */
export interface McpHttpTarget {
  url: string | URL;
  /** Sent with every request (e.g. an Authorization header). */
  headers?: Record<string, string>;
}

export type McpTarget = McpStdioTarget | McpHttpTarget;

/** How much a tool can affect the world; decides approvals in the agent runtime. */
export type McpToolRisk = "read" | "write" | "external";

export interface ConnectMcpOptions {
  /** Tool names or patterns (`*`, `?`, or a RegExp) to mount. Nothing is mounted without it. */
  allow?: readonly AllowEntry[];
  /** Prepended to every mounted tool's name (e.g. "kb_"), to keep names from several servers apart. */
  prefix?: string;
  /** Risk of the mounted tools: one for all, or per remote tool name (default "external"). */
  risk?: McpToolRisk | Readonly<Record<string, McpToolRisk>>;
  /** Per call, unless the call says otherwise (default 30 s). */
  timeoutMs?: number;
  /** Starting the server, the handshake and listing its tools (default 30 s). */
  connectTimeoutMs?: number;
  /** Characters of a result's text (and of its structured content, as JSON) kept (default 32,000). */
  maxResultChars?: number;
  /** Receives the stdio server's stderr, line by line (its last lines also go into error messages). */
  onStderr?: (line: string) => void;
  signal?: AbortSignal;
}

export interface McpCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** What a tool call returns: outside data, marked so and capped in size. */
export interface McpToolResult {
  /** Always true: whatever an MCP server returns is data from outside, never instructions. */
  untrusted: true;
  origin: { server: string; tool: string };
  /** The result's content as text (text blocks joined; other kinds described in brackets). */
  text: string;
  /** The server's structured content, when it sent one and its JSON fits within the cap. */
  structured?: unknown;
  /** True when text was cut or the structured content was left out for its size. */
  truncated: boolean;
}

/** One mounted tool, ready to be adapted into the agent runtime's tools. */
export interface McpTool {
  /** The name it is mounted under: prefix + remote name. */
  name: string;
  /** The tool's name on the server. */
  remoteName: string;
  /** The server's label (its handshake name). */
  server: string;
  /** As the server describes it (untrusted; capped at 2,000 characters). */
  description: string;
  /** JSON Schema of the arguments, as the server advertised it. */
  inputSchema: JsonSchema;
  risk: McpToolRisk;
  call(args: Record<string, unknown>, opts?: McpCallOptions): Promise<McpToolResult>;
}

export interface McpConnection {
  /** The server's name and version from the handshake (untrusted). */
  server: { name: string; version: string };
  /** Mounted tools, in the server's order. */
  tools: McpTool[];
  /** Every tool the server lists, mounted or not (for messages and `--help`-style listings). */
  available: { name: string; description: string }[];
  /** A mounted tool by its mounted name; FORBIDDEN for a tool not on the allow-list, TOOL_UNKNOWN for one the server lacks. */
  tool(name: string): McpTool;
  /** Calls a mounted tool by its mounted name. */
  call(name: string, args: Record<string, unknown>, opts?: McpCallOptions): Promise<McpToolResult>;
  /** The stdio server's process id (undefined over HTTP). */
  pid?: number;
  /** Whether the connection has ended (closed by us, or the server went away). */
  readonly closed: boolean;
  /** Ends the connection; a stdio server is asked to exit, then killed. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESULT_CHARS = 32_000;
const MAX_DESCRIPTION_CHARS = 2_000;
const STDERR_TAIL_CHARS = 2_000;
const MAX_LISTED_TOOLS = 1_000;

const argsSchema = z.record(z.string(), z.unknown());

/** One line of at most `max` characters of untrusted text, for error messages. */
function oneLine(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max) + "…" : flat;
}

function isStdio(target: McpTarget): target is McpStdioTarget {
  return "command" in target;
}

function targetLabel(target: McpTarget): string {
  if (!isStdio(target)) {
    // Without user:password@ or a query, which may carry credentials.
    try {
      const u = new URL(target.url);
      return u.origin + u.pathname;
    } catch {
      return oneLine(String(target.url), 120);
    }
  }
  return oneLine([target.command, ...(target.args ?? [])].join(" "), 120);
}

/** The text of a result's content blocks; kinds that are not text are described, not included. */
function contentText(content: CallToolResult["content"]): string {
  return content
    .map((b) => {
      switch (b.type) {
        case "text":
          return b.text;
        case "resource":
          return "text" in b.resource ? b.resource.text : `[binary resource ${b.resource.uri} omitted]`;
        case "resource_link":
          return `[resource link ${b.uri}]`;
        default:
          return `[${b.type} content omitted]`;
      }
    })
    .join("\n");
}

/**
 * Connects to an MCP server, lists its tools and mounts those on the allow-list. Fails with a
 * StrataError when the server cannot be started or reached, does not answer in time, or when an
 * exact name on the allow-list is not one of its tools.
 */
export async function connectMcp(target: McpTarget, opts: ConnectMcpOptions = {}): Promise<McpConnection> {
  const label = targetLabel(target);
  const maxChars = opts.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS;
  const connectTimeout = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  let stderrTail = "";
  let closed = false;
  let closedByUs = false;

  let transport: Transport;
  let stdioTransport: StdioClientTransport | undefined;
  let httpTransport: StreamableHTTPClientTransport | undefined;
  if (isStdio(target)) {
    const stdio = new StdioClientTransport({
      command: target.command,
      args: target.args ?? [],
      env: { ...getDefaultEnvironment(), ...target.env },
      cwd: target.cwd,
      stderr: "pipe",
    });
    let partial = "";
    stdio.stderr?.on("data", (chunk: Buffer | string) => {
      const s = chunk.toString();
      stderrTail = (stderrTail + s).slice(-STDERR_TAIL_CHARS);
      if (opts.onStderr) {
        const lines = (partial + s).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) opts.onStderr(line);
      }
    });
    transport = stdioTransport = stdio;
  } else {
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      throw new StrataError("USAGE", `"${String(target.url)}" is not a URL`, "give the MCP server's address, e.g. http://127.0.0.1:8765/mcp");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new StrataError("USAGE", `an MCP URL must start with http:// or https://, got ${url.protocol}`, "e.g. http://127.0.0.1:8765/mcp");
    transport = httpTransport = new StreamableHTTPClientTransport(url, { requestInit: target.headers ? { headers: target.headers } : undefined });
  }

  const client = new Client({ name: "strata", version: "0.1.0" }, { capabilities: {}, jsonSchemaValidator: new AjvJsonSchemaValidator() });
  client.onclose = () => {
    closed = true;
  };
  // Transport errors also reject the request they belong to; they are reported there.
  client.onerror = () => undefined;

  /** Lets the last stderr of a dying child arrive before it is quoted. */
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
  const stderrNote = (): string => {
    const tail = oneLine(stderrTail.split("\n").filter(Boolean).slice(-3).join(" | "), 400);
    return tail ? `; its stderr ends: ${tail}` : "";
  };

  /** Any failure talking to the server as a StrataError that says what happened and what to do. */
  const failure = async (e: unknown, what: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<StrataError> => {
    if (e instanceof StrataError) return e;
    if (signal?.aborted) return new StrataError("ABORTED", `${what} was cancelled`, "run it again to finish", { cause: e });
    if (e instanceof McpError && e.code === ErrorCode.RequestTimeout) {
      return new StrataError("TIMEOUT", `${what}: MCP server ${label} did not answer within ${timeoutMs} ms`, "check the server is healthy, or allow more time (timeoutMs)", { cause: e });
    }
    if (closedByUs) return new StrataError("MCP_UNAVAILABLE", `${what}: the connection to MCP server ${label} was closed`, "connect again with connectMcp", { cause: e });
    // A plain Error (fetch failed, spawn ENOENT, a cut socket) says more than the close it causes.
    const gone = e instanceof McpError ? e.code === ErrorCode.ConnectionClosed : closed && !(e instanceof Error);
    if (gone) {
      await settle();
      return new StrataError("MCP_UNAVAILABLE", `${what}: MCP server ${label} closed the connection${stderrNote()}`, isStdio(target) ? "check the command runs on its own; it may have exited or crashed" : "check the server is running", { cause: e });
    }
    if (e instanceof McpError) return new StrataError("TOOL_FAILED", `${what}: MCP server ${label} answered with an error: ${oneLine(e.message)}`, "check the tool's name and arguments", { cause: e });
    if (e instanceof StreamableHTTPError) {
      return new StrataError("MCP_UNAVAILABLE", `${what}: MCP server ${label} answered HTTP ${e.code ?? "?"}: ${oneLine(e.message, 200)}`, "check the URL (it usually ends in /mcp) and that the server accepts this client", { cause: e });
    }
    const message = e instanceof Error ? e.message + (e.cause instanceof Error ? ` (${e.cause.message})` : "") : String(e);
    await settle();
    return new StrataError("MCP_UNAVAILABLE", `${what}: cannot reach MCP server ${label}: ${oneLine(message, 300)}${stderrNote()}`, isStdio(target) ? "check the command and its arguments" : "check the URL and that the server is running", { cause: e });
  };

  let listed: Tool[] = [];
  try {
    if (opts.signal?.aborted) throw new StrataError("ABORTED", `connecting to MCP server ${label} was cancelled`, "run it again");
    await client.connect(transport, { signal: opts.signal, timeout: connectTimeout });
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { signal: opts.signal, timeout: connectTimeout });
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && listed.length < MAX_LISTED_TOOLS);
  } catch (e) {
    const err = await failure(e, "connecting", opts.signal, connectTimeout);
    await client.close().catch(() => undefined);
    throw err;
  }
  listed = listed.slice(0, MAX_LISTED_TOOLS);

  const info = client.getServerVersion();
  const server = { name: oneLine(info?.name ?? label, 100), version: oneLine(info?.version ?? "", 50) };
  const allow = opts.allow ?? [];
  const names = listed.map((t) => t.name);
  const missing = unmatchedNames(allow, names);
  if (missing.length > 0) {
    await client.close().catch(() => undefined);
    throw new StrataError(
      "NOT_FOUND",
      `MCP server ${server.name} has no tool ${missing.map((m) => `"${m}"`).join(", ")}; it has: ${names.join(", ") || "(none)"}`,
      "fix the allow-list (exact names, or patterns with *)",
    );
  }

  const allowed = allowMatcher(allow);
  const prefix = opts.prefix ?? "";
  const validator = new AjvJsonSchemaValidator();
  const riskOf = (name: string): McpToolRisk => (typeof opts.risk === "string" ? opts.risk : (opts.risk?.[name] ?? "external"));

  const mount = (t: Tool): McpTool => {
    const name = prefix + t.name;
    const inputSchema = t.inputSchema as JsonSchema;
    let check: ((input: unknown) => string | undefined) | undefined;
    try {
      const v = validator.getValidator(inputSchema);
      check = (input) => {
        const r = v(input);
        return r.valid ? undefined : r.errorMessage;
      };
    } catch {
      // A schema Ajv cannot compile: the server still checks the arguments itself.
      check = undefined;
    }
    const call = async (args: Record<string, unknown>, o: McpCallOptions = {}): Promise<McpToolResult> => {
      const what = `MCP tool "${name}"`;
      const parsed = argsSchema.safeParse(args);
      if (!parsed.success || Array.isArray(args)) throw new StrataError("TOOL_ARGS_INVALID", `${what}: arguments must be a JSON object`, `pass an object matching its input schema, e.g. ${oneLine(JSON.stringify(inputSchema.properties ?? {}), 200)}`);
      const problem = check?.(parsed.data);
      if (problem) throw new StrataError("TOOL_ARGS_INVALID", `${what}: bad arguments: ${oneLine(problem, 300)}`, `pass arguments matching its input schema: ${oneLine(JSON.stringify(inputSchema), 300)}`);
      if (closed) throw await failure(new McpError(ErrorCode.ConnectionClosed, "Connection closed"), what, o.signal, 0);
      if (o.signal?.aborted) throw new StrataError("ABORTED", `${what} was cancelled`, "run it again to finish");
      const timeoutMs = o.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let res: Awaited<ReturnType<Client["callTool"]>>;
      try {
        res = await client.callTool({ name: t.name, arguments: parsed.data }, undefined, { signal: o.signal, timeout: timeoutMs });
      } catch (e) {
        throw await failure(e, what, o.signal, timeoutMs);
      }
      const content: CallToolResult["content"] = Array.isArray(res.content) ? (res.content as CallToolResult["content"]) : [];
      let text = contentText(content);
      if (res.isError === true) {
        throw new StrataError("TOOL_FAILED", `${what} of MCP server ${server.name} failed: ${oneLine(text) || "(no message)"}`, "check the arguments against the tool's description; the message above is the server's");
      }
      let truncated = false;
      if (text.length > maxChars) {
        text = text.slice(0, maxChars) + `\n[… cut at ${maxChars} of ${text.length} characters]`;
        truncated = true;
      }
      const out: McpToolResult = { untrusted: true, origin: { server: server.name, tool: t.name }, text, truncated };
      if (res.structuredContent !== undefined) {
        if (JSON.stringify(res.structuredContent).length <= maxChars) out.structured = res.structuredContent;
        else out.truncated = true;
      }
      return out;
    };
    const description = oneLine(t.description ?? t.title ?? "", MAX_DESCRIPTION_CHARS);
    return { name, remoteName: t.name, server: server.name, description, inputSchema, risk: riskOf(t.name), call };
  };

  const tools = listed.filter((t) => allowed(t.name)).map(mount);
  const byName = new Map(tools.map((t) => [t.name, t]));
  const available = listed.map((t) => ({ name: prefix + t.name, description: oneLine(t.description ?? "", MAX_DESCRIPTION_CHARS) }));

  const tool = (name: string): McpTool => {
    const found = byName.get(name);
    if (found) return found;
    const exists = available.some((a) => a.name === name);
    throw new StrataError(
      exists ? "FORBIDDEN" : "TOOL_UNKNOWN",
      exists
        ? `MCP tool "${name}" of server ${server.name} is not on the allow-list, so it cannot be called`
        : `MCP server ${server.name} has no mounted tool "${name}"`,
      tools.length ? `mounted tools: ${tools.map((t) => t.name).join(", ")}; add it to the allow-list to use it` : "nothing is mounted: pass allow: [names or patterns] to connectMcp",
    );
  };

  return {
    server,
    tools,
    available,
    tool,
    pid: stdioTransport?.pid ?? undefined,
    call: async (name, args, o) => tool(name).call(args, o),
    get closed() {
      return closed;
    },
    close: async () => {
      closedByUs = true;
      // Over HTTP, end the session on the server too (bounded: a hung server must not hang close).
      if (httpTransport && !closed) {
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<void>((r) => (timer = setTimeout(r, 2_000)));
        await Promise.race([httpTransport.terminateSession().catch(() => undefined), bound]);
        clearTimeout(timer);
      }
      await client.close().catch(() => undefined);
      closed = true;
    },
  };
}
