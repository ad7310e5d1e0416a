// Published evaluation reports (<data>/reports/, written by `strata eval … --publish`). They hold
// benchmark figures, not knowledge-base content, so every key with the read scope sees all of them;
// deleting one is for admins. The HTML page is served under its own strict policy (reportCsp).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { comparePublished } from "../../eval/published-compare.js";
import { deleteReport, listReports, readReport, readReportHtml, REPORT_ID_PATTERN, REPORT_KINDS } from "../../eval/published-reports.js";
import type { ServerContext } from "../context.js";
import { reportCsp } from "../reports-csp.js";
import type { RouteTable } from "../route.js";

const idParams = z.object({ id: z.string().regex(REPORT_ID_PATTERN, "a report id such as 20260131-142501-1a2b3c4d") }).strict();
const metrics = z.record(z.string(), z.number());
const summary = z.union([
  z.object({ id: z.string(), damaged: z.literal(false), kind: z.enum(REPORT_KINDS), title: z.string(), dataset: z.string(), split: z.string().nullable(), createdAt: z.string(), metrics, hasHtml: z.boolean() }),
  z.object({ id: z.string(), damaged: z.literal(true), error: z.string() }),
]);
const report = z.object({
  id: z.string(),
  kind: z.enum(REPORT_KINDS),
  title: z.string(),
  dataset: z.string(),
  split: z.string().nullable(),
  createdAt: z.string(),
  strataVersion: z.string(),
  command: z.string().nullable(),
  metrics,
  hasHtml: z.boolean(),
  perQuery: z.array(z.object({ id: z.string(), ndcg_at_10: z.number() })).optional().describe("retrieval: nDCG@10 of every judged query"),
  windows: z.array(z.object({ index: z.number(), tokens: z.number(), loss: z.number() })).optional().describe("lm: mean loss of every window (gguf: models)"),
  perItem: z
    .array(z.object({ id: z.string(), f1: z.number().optional(), abstained: z.boolean().optional(), correct: z.boolean().optional(), category: z.string().optional() }))
    .optional()
    .describe("qa: F1 of every question and whether the system declined it; tools and agents: whether each item was right, and its category"),
  runs: z.object({ a: z.string(), b: z.string() }).optional().describe("compare: the two stored runs compared"),
  deltas: z.array(z.object({ metric: z.string(), meanA: z.number(), meanB: z.number(), delta: z.number(), low: z.number(), high: z.number(), n: z.number() })).optional().describe("compare: per-metric delta B − A with its paired bootstrap 95% interval"),
});
const compareQuery = z.object({ a: z.string().regex(REPORT_ID_PATTERN), b: z.string().regex(REPORT_ID_PATTERN) }).strict();
const comparison = z.object({
  a: z.object({ id: z.string(), kind: z.string(), title: z.string() }),
  b: z.object({ id: z.string(), kind: z.string(), title: z.string() }),
  metrics: z.array(z.object({ metric: z.string(), a: z.number(), b: z.number(), delta: z.number() })),
  paired: z.object({ metric: z.string(), n: z.number(), meanA: z.number(), meanB: z.number(), delta: z.number(), low: z.number(), high: z.number(), pNotBetter: z.number() }).nullable(),
  changed: z.array(z.object({ id: z.string(), a: z.number(), b: z.number(), delta: z.number() })),
});

/** Registers the eval-report routes; the returned close() runs when the server shuts down. */
export function registerEvalReportRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext): { close(): Promise<void> } {
  routes.add(app, {
    method: "GET",
    url: "/api/eval-reports",
    summary: "Published evaluation reports, newest first, with their headline metrics (a damaged one is listed with its error)",
    tag: "eval reports",
    auth: "read",
    response: z.array(summary),
    handler: async () => listReports(ctx.dataDir),
  });
  routes.add(app, {
    method: "GET",
    url: "/api/eval-reports/compare",
    summary: "Two published reports of the same kind side by side: headline deltas, and for per-item reports the paired bootstrap 95% interval and the items that changed most",
    tag: "eval reports",
    auth: "read",
    query: compareQuery,
    response: comparison,
    handler: async ({ query }) => comparePublished(readReport(ctx.dataDir, query.a), readReport(ctx.dataDir, query.b)),
  });
  routes.add(app, {
    method: "GET",
    url: "/api/eval-reports/:id",
    summary: "One published report: metadata, headline metrics and the per-query or per-window figures its chart draws",
    tag: "eval reports",
    auth: "read",
    params: idParams,
    response: report,
    handler: async ({ params }) => readReport(ctx.dataDir, params.id),
  });
  routes.add(app, {
    method: "GET",
    url: "/api/eval-reports/:id/html",
    summary: "The report's self-contained HTML page (text/html, under a sandboxing Content-Security-Policy); 404 when the report has none",
    tag: "eval reports",
    auth: "read",
    params: idParams,
    handler: async ({ params }, reply) => {
      const html = readReportHtml(ctx.dataDir, params.id);
      return reply.code(200).header("content-type", "text/html; charset=utf-8").header("content-security-policy", reportCsp()).header("content-disposition", `inline; filename="strata-report-${params.id}.html"`).send(html);
    },
  });
  routes.add(app, {
    method: "DELETE",
    url: "/api/eval-reports/:id",
    summary: "Deletes a published report",
    tag: "eval reports",
    auth: "admin",
    params: idParams,
    response: z.object({ deleted: z.string() }),
    handler: async ({ params }) => {
      deleteReport(ctx.dataDir, params.id);
      return { deleted: params.id };
    },
  });
  return { close: async () => {} };
}
