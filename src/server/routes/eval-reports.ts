// SKELETON (being built): published evaluation reports. Until it lands, each route answers 501 NOT_IMPLEMENTED.
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import type { RouteTable } from "../route.js";

/** Registers the eval reports routes; the returned close() runs when the server shuts down. */
export function registerEvalReportRoutes(app: FastifyInstance, routes: RouteTable, _ctx: ServerContext): { close(): Promise<void> } {
  routes.add(app, {
    method: "GET",
    url: "/api/eval-reports",
    summary: "eval reports (not yet available: 501)",
    tag: "eval-reports",
    auth: "read",
    handler: async () => {
      throw new ServerError("NOT_IMPLEMENTED", "eval reports are not available in this version of Strata", "the route and its shape are reserved");
    },
  });
  return { close: async () => {} };
}
