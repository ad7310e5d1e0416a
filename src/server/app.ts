// The HTTP server: Fastify with zod-validated routes, bearer-key auth and scopes on every /api and
// /v1 route, per-key rate limits, size limits and timeouts, structured logs without secrets, the
// OpenAPI document, the web UI, and a graceful close (stop accepting, finish what is in flight,
// close the stores).
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { Writable } from "node:stream";
import multipart from "@fastify/multipart";
import rateLimit from "@fastify/rate-limit";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { ParseLimits } from "../knowledge/loaders/parse-limits.js";
import { Accounts, type Scope } from "./accounts.js";
import { AuthLimits } from "./auth-limits.js";
import { configureSseCaps, type SseCaps } from "./sse-caps.js";
import type { ServerContext, ServerLimits } from "./context.js";
import { openServerDb } from "./db.js";
import { openAiErrorBody, ServerError, toApiError } from "./errors.js";
import { SECURITY_HEADERS } from "./headers.js";
import { KbRegistry } from "./kb-registry.js";
import { ModelCatalog, type ServedEmbeddingModel, type ServedLanguageModel } from "./models.js";
import { PageIndex } from "./pages.js";
import { RouteTable } from "./route.js";
import { registerAdminRoutes } from "./routes/admin.js";
import { registerConversationRoutes } from "./routes/conversations.js";
import { registerKbRoutes } from "./routes/kbs.js";
import { registerOpenAiRoutes } from "./routes/openai.js";
import { registerAgentRunRoutes } from "./routes/agent-runs.js";
import { registerEvalReportRoutes } from "./routes/eval-reports.js";
import { registerTrainingRunRoutes } from "./routes/training-runs.js";
import { registerQueryRoutes } from "./routes/query.js";
import { defaultWebRoot, StaticUi } from "./static.js";
import { UsageLedger } from "./usage.js";

const MiB = 1024 * 1024;

export interface StrataServerOptions {
  /** Folder of server.db and kbs/<name>/ (created when missing). */
  dataDir: string;
  /** Language models clients may use by id; the first is the default for answers. */
  languageModels?: ServedLanguageModel[];
  /** The embedding model for /v1/embeddings, dense and hybrid search, and embedding uploads. */
  embeddingModel?: ServedEmbeddingModel;
  /** An admin key to accept (the CLI passes STRATA_ADMIN_KEY); stored hashed. */
  adminKey?: string;
  /** Largest JSON body in bytes (default 2 MiB). */
  bodyLimit?: number;
  /** Largest upload in bytes, all files together (default 50 MiB). */
  uploadLimit?: number;
  /** Most files per upload (default 100). */
  maxUploadFiles?: number;
  /** How far an uploaded document may expand while parsed (defaults in knowledge/loaders/parse-limits.ts). */
  parseLimits?: Partial<ParseLimits>;
  /** Requests per key per window; false turns the limit off (default 600 per minute). */
  rateLimit?: { max: number; windowMs: number } | false;
  /** Failed authentications per client address, and per key id, per minute before 429 (default 30). */
  authFailureLimit?: number;
  /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; default none: the peer address counts. */
  trustProxy?: string[];
  /** Longest a handler may run, and longest to receive a request, ms (default 300 000). */
  timeoutMs?: number;
  /** Origins allowed to call the API from a browser (CORS); default none. */
  corsOrigins?: string[];
  /** Training runs that may train at once (default 1: a trainer takes every core); 0 turns training runs off. */
  trainingSlots?: number;
  /** Concurrent event streams per key and per run before 429 (defaults in sse-caps.ts). */
  sseCaps?: Partial<SseCaps>;
  /** The web UI's folder (default <package>/web/dist). */
  webRoot?: string;
  /** Guardrails on every answer (strata serve --redact-pii --screen-jailbreaks), logged in traces. */
  guardrails?: { redactPii?: boolean; screenJailbreaks?: boolean };
  /** Structured (JSON) logs: where and how much; false for none. */
  logger?: { level?: "fatal" | "error" | "warn" | "info" | "debug" | "trace"; stream?: Writable } | false;
}

export interface StrataServer {
  app: FastifyInstance;
  /** The key made on first start, to be shown once; undefined otherwise. */
  createdAdminKey?: string;
  /** Admin keys that work now (0 means nobody can administer; see `strata serve keys create`). */
  activeAdminKeys: number;
  /** Whether web/dist was found. */
  webUiBuilt: boolean;
  /** Starts listening; resolves to the base URL. */
  listen(o: { port: number; host: string }): Promise<string>;
  /** Stops accepting connections, lets in-flight requests finish, closes the stores. */
  close(): Promise<void>;
}

const isApiPath = (url: string): boolean => /^\/(api|v1)(\/|$|\?)/.test(url);

export async function createStrataServer(opts: StrataServerOptions): Promise<StrataServer> {
  const startedAt = Date.now();
  const slots = opts.trainingSlots ?? 1;
  if (!Number.isInteger(slots) || slots < 0) throw new ServerError("USAGE", `trainingSlots must be a whole number ≥ 0, got ${slots}`, "e.g. --training-slots 1 (0 turns training runs off)");
  const { db, created } = openServerDb(opts.dataDir);
  let admin: { createdKey?: string; activeAdminKeys: number };
  const accounts = new Accounts(db);
  try {
    admin = await accounts.ensureAdmin({ envKey: opts.adminKey, firstStart: created });
  } catch (e) {
    db.close();
    throw e;
  }
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const limits: ServerLimits = { bodyLimit: opts.bodyLimit ?? 2 * MiB, uploadLimit: opts.uploadLimit ?? 50 * MiB, maxUploadFiles: opts.maxUploadFiles ?? 100, handlerTimeoutMs: timeoutMs, parse: opts.parseLimits };
  const kbs = new KbRegistry(db, opts.dataDir);
  const ctx: ServerContext = { accounts, kbs, models: new ModelCatalog(opts.languageModels ?? [], opts.embeddingModel), usage: new UsageLedger(db), pages: new PageIndex(db), limits, dataDir: resolve(opts.dataDir), ...(opts.guardrails ? { guardrails: opts.guardrails } : {}) };
  const routes = new RouteTable(limits.handlerTimeoutMs);
  const ui = new StaticUi(opts.webRoot ?? defaultWebRoot());
  const failures = new AuthLimits({ perAddress: opts.authFailureLimit ?? 30, perKeyId: opts.authFailureLimit ?? 30 });
  const cors = new Set(opts.corsOrigins ?? []);
  let closing = false;

  const logger = opts.logger === false ? false : { level: opts.logger?.level ?? "info", ...(opts.logger?.stream ? { stream: opts.logger.stream } : {}) };
  const app = Fastify({
    logger,
    // request.ip is the X-Forwarded-For client only when the peer is one of these proxies.
    trustProxy: opts.trustProxy?.length ? opts.trustProxy : false,
    bodyLimit: limits.bodyLimit,
    requestTimeout: timeoutMs,
    keepAliveTimeout: 5_000,
    forceCloseConnections: "idle",
    return503OnClosing: false,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${randomBytes(6).toString("hex")}`,
  });
  app.setValidatorCompiler(routes.compiler);
  configureSseCaps(app, opts.sseCaps);

  /**
   * Bearer key → caller. The cheap pre-check comes first: a valid key passes in microseconds whatever
   * the failure counts; a bogus one fails in microseconds and counts; only a key that needs scrypt
   * waits on the counts, and reserves its failure before hashing.
   */
  const authenticate = async (request: FastifyRequest): Promise<NonNullable<FastifyRequest["caller"]>> => {
    const ip = request.ip;
    const tooMany = (wait: number): ServerError =>
      new ServerError("RATE_LIMITED", "too many failed authentications from this address or for this key", `wait ${wait} s and check the key`, { "retry-after": String(wait) });
    const m = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(request.headers.authorization ?? "");
    const pre = m ? accounts.precheck(m[1]!) : undefined;
    if (pre?.state === "valid") return accounts.authenticate(m![1]!, pre);
    const keyId = pre?.state === "needs-hash" ? pre.keyId : undefined;
    const wait = failures.blocked(ip, keyId);
    if (wait !== undefined) throw tooMany(wait);
    failures.fail(ip, keyId);
    if (!m) throw new ServerError("UNAUTHORIZED", "this route needs an API key", "send Authorization: Bearer <key>", { "www-authenticate": 'Bearer realm="strata"' });
    const caller = await accounts.authenticate(m[1]!, pre);
    failures.succeeded(ip, keyId!);
    return caller;
  };

  // ---------- hooks: shutdown, CORS, auth ----------
  app.addHook("onRequest", async (request, reply) => {
    if (closing) {
      reply.header("connection", "close");
      throw new ServerError("SHUTTING_DOWN", "the server is shutting down", "retry in a moment", { "retry-after": "5" });
    }
    const origin = request.headers.origin;
    if (request.method === "OPTIONS" && origin && cors.has(origin)) {
      return reply
        .code(204)
        .header("access-control-allow-origin", origin)
        .header("vary", "Origin")
        .header("access-control-allow-methods", "GET, POST, PUT, DELETE")
        .header("access-control-allow-headers", "authorization, content-type, accept")
        .header("access-control-max-age", "600")
        .send();
    }
    const auth = request.routeOptions.config?.auth;
    if (auth === "public" || (auth === undefined && !isApiPath(request.url))) return;
    request.caller = await authenticate(request);
    if (auth !== undefined && auth !== "any" && !request.caller.scopes.includes(auth as Scope)) {
      throw new ServerError("FORBIDDEN", `this key lacks the ${auth} scope`, `ask an admin for a key with the ${auth} scope`);
    }
  });

  app.addHook("onSend", async (request, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    reply.header("x-request-id", request.id);
    if (isApiPath(request.url)) reply.header("cache-control", "no-store");
    const origin = request.headers.origin;
    if (origin && cors.has(origin)) reply.header("access-control-allow-origin", origin).header("vary", "Origin");
    return payload;
  });

  // One log line per request: no headers, no query string, no bodies — nothing secret.
  app.addHook("onResponse", async (request, reply) => {
    const caller = request.caller;
    if (caller) {
      try {
        ctx.usage.record(caller.keyId, request.spent ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 });
      } catch (e) {
        request.log.error({ err: e }, "could not record usage");
      }
    }
    request.log.info(
      { method: request.method, path: request.url.split("?")[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime), ...(caller ? { user: caller.user, keyId: caller.keyId } : {}) },
      "request",
    );
  });

  // ---------- errors and unknown paths ----------
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const err = toApiError(error);
    if (!err.expected || err.status >= 500) request.log.error({ err: error, code: err.code }, "request failed");
    reply.code(err.status);
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    const openai = request.routeOptions.config?.openai === true || request.url.startsWith("/v1/");
    return reply.send(openai ? openAiErrorBody(err) : { error: { code: err.code, message: err.message, hint: err.hint } });
  });

  app.setNotFoundHandler((request, reply) => {
    if (isApiPath(request.url) || (request.method !== "GET" && request.method !== "HEAD")) {
      throw new ServerError("NOT_FOUND", `there is no route ${request.method} ${request.url.split("?")[0]}`, "see /openapi.json for the routes");
    }
    return ui.serve(request, reply);
  });

  // ---------- plugins ----------
  await app.register(multipart, {
    limits: { fileSize: limits.uploadLimit, files: limits.maxUploadFiles, fields: 50, fieldSize: 64 * 1024, parts: limits.maxUploadFiles + 50 },
    throwFileSizeLimit: true,
    // Keep names as sent ("../x.md" stays "../x.md") so unsafe ones are refused, not silently trimmed.
    preservePath: true,
  });
  if (opts.rateLimit !== false) {
    const rl = opts.rateLimit ?? { max: 600, windowMs: 60_000 };
    await app.register(rateLimit, {
      global: true,
      max: rl.max,
      timeWindow: rl.windowMs,
      hook: "preParsing",
      keyGenerator: (request) => request.caller?.keyId ?? request.ip,
      // Only keyed requests are limited here; failed authentications have their own limit above.
      allowList: (request) => request.caller === undefined,
      errorResponseBuilder: (_request, c) => new ServerError("RATE_LIMITED", `this key made more than ${c.max} requests in ${Math.round(rl.windowMs / 1000)} s`, `wait ${c.after} before the next request`),
    });
  }

  // ---------- routes ----------
  routes.add(app, {
    method: "GET",
    url: "/api/health",
    summary: "Liveness: answers while the server accepts requests",
    tag: "server",
    auth: "public",
    handler: async () => ({ ok: true }),
  });
  registerAdminRoutes(app, routes, ctx);
  registerKbRoutes(app, routes, ctx);
  registerQueryRoutes(app, routes, ctx);
  registerConversationRoutes(app, routes, ctx);
  const layers = [registerAgentRunRoutes(app, routes, ctx), registerTrainingRunRoutes(app, routes, ctx, { slots }), registerEvalReportRoutes(app, routes, ctx)];
  registerOpenAiRoutes(app, routes, ctx, startedAt);
  let openApiDoc: Record<string, unknown> | undefined;
  routes.add(app, {
    method: "GET",
    url: "/openapi.json",
    summary: "This document",
    tag: "server",
    auth: "public",
    handler: async () =>
      (openApiDoc ??= routes.openApi({
        title: "Strata API",
        version: "0.1.0",
        description: "Strata's HTTP API: knowledge bases, documents, search and cited answers, conversations, usage, admin, and an OpenAI-compatible /v1. Every /api and /v1 route takes Authorization: Bearer <key>. See docs/api.md.",
      })),
  });

  app.addHook("onClose", async () => {
    for (const layer of layers) await layer.close();
    await kbs.closeAll();
    db.close();
  });

  return {
    app,
    createdAdminKey: admin.createdKey,
    activeAdminKeys: admin.activeAdminKeys,
    webUiBuilt: ui.built,
    listen: async ({ port, host }) => {
      await app.listen({ port, host });
      const addr = app.server.address();
      const p = addr && typeof addr === "object" ? addr.port : port;
      return `http://${host.includes(":") ? `[${host}]` : host}:${p}`;
    },
    close: async () => {
      closing = true;
      await app.close();
    },
  };
}
