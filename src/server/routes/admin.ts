// Who am I, users, API keys and usage. Everything but /api/me and one's own usage needs the admin scope.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { NAME_PATTERN, SCOPES, type KeyInfo } from "../accounts.js";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import type { RouteTable } from "../route.js";

const name = z.string().regex(NAME_PATTERN, "1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit");
const scope = z.enum(SCOPES as [string, ...string[]]);

export const userSchema = z.object({ name: z.string(), groups: z.array(z.string()), createdAt: z.string() });
export const keySchema = z.object({
  id: z.string(),
  user: z.string(),
  scopes: z.array(scope),
  name: z.string().nullable(),
  origin: z.enum(["api", "first-start", "env", "cli"]),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

function publicKey(k: KeyInfo): KeyInfo {
  return { id: k.id, user: k.user, scopes: k.scopes, name: k.name, origin: k.origin, createdAt: k.createdAt, expiresAt: k.expiresAt, revokedAt: k.revokedAt };
}

export function registerAdminRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext): void {
  routes.add(app, {
    method: "GET",
    url: "/api/me",
    summary: "The caller: user, groups and the key's scopes",
    tag: "auth",
    auth: "any",
    response: z.object({ user: z.string(), groups: z.array(z.string()), scopes: z.array(scope), keyId: z.string() }),
    handler: async ({ caller }) => ({ user: caller.user, groups: caller.groups, scopes: caller.scopes, keyId: caller.keyId }),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/users",
    summary: "Create a user with groups",
    tag: "admin",
    auth: "admin",
    body: z.object({ name, groups: z.array(name).max(256).default([]) }).strict(),
    response: userSchema,
    handler: async ({ body }, reply) => {
      reply.code(201);
      return ctx.accounts.createUser(body.name, body.groups);
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/users",
    summary: "List users and their groups",
    tag: "admin",
    auth: "admin",
    response: z.array(userSchema),
    handler: async () => ctx.accounts.listUsers(),
  });

  routes.add(app, {
    method: "PUT",
    url: "/api/users/:name",
    summary: "Replace a user's groups (applies to the user's next request)",
    tag: "admin",
    auth: "admin",
    params: z.object({ name }),
    body: z.object({ groups: z.array(name).max(256) }).strict(),
    response: userSchema,
    handler: async ({ params, body }) => ctx.accounts.setGroups(params.name, body.groups),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/keys",
    summary: "Create an API key for a user; the key is in this answer only",
    tag: "admin",
    auth: "admin",
    body: z
      .object({
        user: name,
        scopes: z.array(scope).min(1).max(3),
        expiresAt: z.string().datetime({ offset: true }).optional().describe("ISO 8601; omit for a key that does not expire"),
        name: z.string().max(100).optional().describe("a label for the key"),
      })
      .strict(),
    response: keySchema.extend({ key: z.string().describe("the secret; shown only here") }),
    handler: async ({ body }, reply) => {
      const { info, key } = await ctx.accounts.createKey({ user: body.user, scopes: body.scopes as KeyInfo["scopes"], expiresAt: body.expiresAt ?? null, name: body.name ?? null, origin: "api" });
      reply.code(201);
      return { ...publicKey(info), key };
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/keys",
    summary: "List API keys (never their secrets)",
    tag: "admin",
    auth: "admin",
    response: z.array(keySchema),
    handler: async () => ctx.accounts.listKeys().map(publicKey),
  });

  routes.add(app, {
    method: "DELETE",
    url: "/api/keys/:id",
    summary: "Revoke an API key (from its next request on)",
    tag: "admin",
    auth: "admin",
    params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "a key id: 16 hex digits") }),
    response: keySchema,
    handler: async ({ params }) => {
      if (!ctx.accounts.revokeKey(params.id)) throw new ServerError("NOT_FOUND", `there is no key ${params.id}`, "list keys with GET /api/keys");
      return publicKey(ctx.accounts.getKey(params.id)!);
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/usage",
    summary: "Requests, model tokens and cost per key: every key for admins, the caller's own keys otherwise",
    tag: "usage",
    auth: "any",
    response: z.array(
      z.object({
        keyId: z.string(),
        user: z.string(),
        name: z.string().nullable(),
        requests: z.number(),
        inputTokens: z.number(),
        outputTokens: z.number(),
        costUsd: z.number(),
        lastUsedAt: z.string().nullable(),
      }),
    ),
    handler: async ({ caller }) => ctx.usage.list(caller.scopes.includes("admin") ? undefined : caller.user),
  });
}
