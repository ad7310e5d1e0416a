// PLACEHOLDERS for layers that have not landed yet (agents: issue 8; training runs: the engine).
// They exist so clients and the web UI can code against the final paths today; each answers
// 501 NOT_IMPLEMENTED with the usual error body until its layer is wired here.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ServerError } from "../errors.js";
import type { RouteTable } from "../route.js";

function notYet(what: string): never {
  throw new ServerError("NOT_IMPLEMENTED", `${what} are not available in this version of Strata`, "they arrive with the agents and training layers; the route and its shape are reserved");
}

export function registerPlaceholderRoutes(app: FastifyInstance, routes: RouteTable): void {
  const runId = z.object({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/) });
  routes.add(app, { method: "GET", url: "/api/agent-runs", summary: "Agent runs (PLACEHOLDER: 501 until the agents layer lands)", tag: "placeholders", auth: "read", handler: async () => notYet("agent runs") });
  routes.add(app, { method: "POST", url: "/api/agent-runs/:id/approve", summary: "Approve an agent run's pending action (PLACEHOLDER: 501)", tag: "placeholders", auth: "read", params: runId, handler: async () => notYet("agent approvals") });
  routes.add(app, { method: "POST", url: "/api/agent-runs/:id/reject", summary: "Reject an agent run's pending action (PLACEHOLDER: 501)", tag: "placeholders", auth: "read", params: runId, handler: async () => notYet("agent approvals") });
  routes.add(app, { method: "GET", url: "/api/training-runs", summary: "Training runs (PLACEHOLDER: 501 until the training layer lands)", tag: "placeholders", auth: "read", handler: async () => notYet("training runs") });
}
