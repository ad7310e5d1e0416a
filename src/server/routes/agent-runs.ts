// SKELETON (being built): the agents layer's HTTP routes. Until it lands, each route answers 501 NOT_IMPLEMENTED.
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import type { RouteTable } from "../route.js";

/** Registers the agent runs routes; the returned close() runs when the server shuts down. */
export function registerAgentRunRoutes(app: FastifyInstance, routes: RouteTable, _ctx: ServerContext): { close(): Promise<void> } {
  routes.add(app, {
    method: "GET",
    url: "/api/agent-runs",
    summary: "agent runs (not yet available: 501)",
    tag: "agent-runs",
    auth: "read",
    handler: async () => {
      throw new ServerError("NOT_IMPLEMENTED", "agent runs are not available in this version of Strata", "the route and its shape are reserved");
    },
  });
  return { close: async () => {} };
}
