// SKELETON (being built): the training layer's HTTP routes. Until it lands, each route answers 501 NOT_IMPLEMENTED.
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import type { RouteTable } from "../route.js";

/** Registers the training runs routes; the returned close() runs when the server shuts down. */
export function registerTrainingRunRoutes(app: FastifyInstance, routes: RouteTable, _ctx: ServerContext): { close(): Promise<void> } {
  routes.add(app, {
    method: "GET",
    url: "/api/training-runs",
    summary: "training runs (not yet available: 501)",
    tag: "training-runs",
    auth: "read",
    handler: async () => {
      throw new ServerError("NOT_IMPLEMENTED", "training runs are not available in this version of Strata", "the route and its shape are reserved");
    },
  });
  return { close: async () => {} };
}
