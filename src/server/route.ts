// Routes as data: each route names its method, path, the scope a key needs, and zod schemas for its
// params, query and body. The same schemas validate every request (Fastify's validator compiler
// runs zod) and, turned into JSON Schema, make /openapi.json — so the document cannot drift from
// what the server accepts.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from "fastify";
import { z } from "zod";
import type { Caller, Scope } from "./accounts.js";
import { isStrataError } from "../core/errors.js";
import { ServerError } from "./errors.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE";
/** A scope the key must hold, "any" for any valid key, "public" for no key at all. */
export type RouteAuth = Scope | "any" | "public";

/** What a handler gets: parsed params, query and body, the caller, and a signal that fires when the client goes away or the request times out. */
export interface RouteRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  raw: FastifyRequest;
  signal: AbortSignal;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDef<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  params?: P;
  query?: Q;
  body?: B;
  /** The body is multipart/form-data (documented here; parsed by the handler). */
  multipart?: { description: string; fields: Record<string, string> };
  /** Documentation of the JSON answer. */
  response?: Schema;
  /** Server-sent events the route streams with `Accept: text/event-stream`: name → description. */
  events?: Record<string, string>;
  /** Answers in OpenAI's shapes (errors included). */
  openai?: boolean;
  handler: (req: RouteRequest<Out<P>, Out<Q>, Out<B>>, reply: FastifyReply) => Promise<unknown>;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    openai?: boolean;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

type AnyRoute = RouteDef<Schema | undefined, Schema | undefined, Schema | undefined>;

interface OpenApiOperation {
  summary: string;
  tags: string[];
  operationId: string;
  security?: Array<Record<string, string[]>>;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  "x-strata-scope"?: string;
}

function jsonSchema(s: Schema, io: "input" | "output"): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function operationId(method: Method, url: string): string {
  const words = url.split("/").filter(Boolean).map((p) => (p.startsWith(":") ? "by-" + p.slice(1) : p));
  return [method.toLowerCase(), ...words].join("-").replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase());
}

/** The routes of one server, their validators, and the OpenAPI document built from them. */
export class RouteTable {
  private readonly routes: AnyRoute[] = [];
  private readonly validators = new Map<string, Schema>();

  /** @param handlerTimeoutMs how long a handler may run before its signal fires (TIMEOUT). */
  constructor(private readonly handlerTimeoutMs: number) {}

  /**
   * A signal that fires when the client goes away before the answer is complete, or when the
   * handler has run too long. (Fastify's own request.signal fires once a request body has been
   * read, on Node 20, so it cannot tell a disconnect apart.)
   */
  private signalFor(reply: FastifyReply): AbortSignal {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new ServerError("TIMEOUT", `the request took longer than ${Math.round(this.handlerTimeoutMs / 1000)} s`, "ask a narrower question, or ask the operator to raise --timeout")), this.handlerTimeoutMs);
    timer.unref();
    reply.raw.once("close", () => {
      clearTimeout(timer);
      if (!reply.raw.writableFinished) ac.abort(new ServerError("ABORTED", "the client closed the connection", "keep the connection open until the answer arrives"));
    });
    return ac.signal;
  }

  /** Fastify's validator compiler: looks up the zod schema registered for this route and part. */
  readonly compiler: FastifySchemaCompiler<unknown> = ({ method, url, httpPart }) => {
    const schema = this.validators.get(`${method} ${url} ${httpPart}`);
    if (!schema) return (data: unknown) => ({ value: data });
    return (data: unknown) => {
      const r = schema.safeParse(data);
      if (r.success) return { value: r.data };
      const issue = r.error.issues[0];
      const at = issue && issue.path.length > 0 ? issue.path.join(".") + ": " : "";
      const err = new Error(`${at}${issue?.message ?? "invalid"}`) as Error & { validation: unknown[] };
      err.validation = r.error.issues;
      return { error: err };
    };
  };

  add<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined>(app: FastifyInstance, def: RouteDef<P, Q, B>): void {
    this.routes.push(def as unknown as AnyRoute);
    const parts: Array<[string, Schema | undefined]> = [["params", def.params], ["querystring", def.query], ["body", def.body]];
    const schema: Record<string, unknown> = {};
    for (const [part, s] of parts) {
      if (!s) continue;
      this.validators.set(`${def.method} ${def.url} ${part}`, s);
      schema[part] = jsonSchema(s, "input");
    }
    app.route({
      method: def.method,
      url: def.url,
      schema,
      config: { auth: def.auth, openai: def.openai === true },
      handler: async (request, reply) => {
        const caller = request.caller;
        if (!caller && def.auth !== "public") throw new ServerError("UNAUTHORIZED", "this route needs an API key", "send Authorization: Bearer <key>");
        const signal = this.signalFor(reply);
        try {
          return await def.handler(
            { params: request.params as Out<P>, query: request.query as Out<Q>, body: request.body as Out<B>, caller: caller!, raw: request, signal },
            reply,
          );
        } catch (e) {
          // Work cancelled by the signal says ABORTED; the signal knows why (timeout or disconnect).
          const cancelled = (isStrataError(e) && e.code === "ABORTED") || (e instanceof Error && e.name === "AbortError");
          if (cancelled && signal.aborted && signal.reason instanceof ServerError) throw signal.reason;
          throw e;
        }
      },
    });
  }

  openApi(info: { title: string; version: string; description: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, OpenApiOperation>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const parameters: unknown[] = [];
      const addParams = (s: Schema | undefined, where: "path" | "query"): void => {
        if (!s) return;
        const js = jsonSchema(s, "input");
        const props = (js.properties ?? {}) as Record<string, Record<string, unknown>>;
        const required = new Set((js.required ?? []) as string[]);
        for (const [name, p] of Object.entries(props)) {
          parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: p, ...(typeof p.description === "string" ? { description: p.description } : {}) });
        }
      };
      addParams(r.params, "path");
      addParams(r.query, "query");
      const content: Record<string, unknown> = {};
      if (r.response) content["application/json"] = { schema: jsonSchema(r.response, "output") };
      if (r.events) {
        content["text/event-stream"] = {
          schema: { type: "string", description: "Server-sent events: " + Object.entries(r.events).map(([k, v]) => `\`${k}\` ${v}`).join("; ") },
        };
      }
      const errorRef = { $ref: r.openai ? "#/components/schemas/OpenAiError" : "#/components/schemas/Error" };
      const op: OpenApiOperation = {
        summary: r.summary,
        tags: [r.tag],
        operationId: operationId(r.method, r.url),
        responses: {
          "200": { description: "OK", ...(Object.keys(content).length > 0 ? { content } : {}) },
          default: { description: "Error", content: { "application/json": { schema: errorRef } } },
        },
      };
      if (r.auth !== "public") {
        op.security = [{ bearer: [] }];
        op["x-strata-scope"] = r.auth;
      }
      if (parameters.length > 0) op.parameters = parameters;
      if (r.body) op.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(r.body, "input") } } };
      if (r.multipart) {
        op.requestBody = {
          required: true,
          description: r.multipart.description,
          content: {
            "multipart/form-data": {
              schema: { type: "object", properties: Object.fromEntries(Object.entries(r.multipart.fields).map(([k, d]) => [k, k === "files" ? { type: "array", items: { type: "string", format: "binary" }, description: d } : { type: "string", description: d }])) },
            },
          },
        };
      }
      (paths[path] ??= {})[r.method.toLowerCase()] = op;
    }
    return {
      openapi: "3.1.0",
      info,
      paths,
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key made by an admin (POST /api/keys), shown once." } },
        schemas: {
          Error: {
            type: "object",
            properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, hint: { type: "string" } }, required: ["code", "message", "hint"] } },
            required: ["error"],
          },
          OpenAiError: {
            type: "object",
            properties: { error: { type: "object", properties: { message: { type: "string" }, type: { type: "string" }, param: { type: "null" }, code: { type: "string" }, hint: { type: "string" } }, required: ["message", "type", "code"] } },
            required: ["error"],
          },
        },
      },
    };
  }
}
