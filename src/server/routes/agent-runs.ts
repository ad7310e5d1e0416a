// Agent runs over HTTP: start a run on a goal with the calculator and the caller's knowledge bases,
// follow it (JSON or a live event stream), approve or reject the calls that wait for a person, and
// resume a run a server stop interrupted. Every route finds the run with the caller's rights: a run
// of someone else is 404, the same answer as one that does not exist.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { MAX_QUERY_CHARS } from "../../knowledge/limits.js";
import type { JsonValue } from "../../agents/types.js";
import { AgentRunManager } from "../agents/run-manager.js";
import { HTTP_AGENT_TOOLS } from "../agents/run-tools.js";
import type { ServerContext } from "../context.js";
import type { RouteTable } from "../route.js";
import { EventStream } from "../sse.js";
import { kbParam } from "./kbs.js";

const tool = z.enum(HTTP_AGENT_TOOLS).describe("calculator, kb_search or kb_ask (tools that reach outside the server are not offered over HTTP)");
const budget = z
  .object({
    steps: z.number().int().min(1).max(50).optional().describe("most model calls (default 10)"),
    tokens: z.number().int().min(1).max(10_000_000).optional(),
    costUsd: z.number().positive().max(1_000).optional(),
    toolCalls: z.number().int().min(1).max(1_000).optional(),
    seconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();
const runId = z.string().regex(/^thr_[0-9a-f]{16}$/, "a run id (thr_ and 16 hex digits)");
const params = z.object({ id: runId });

const pendingSchema = z.object({ callId: z.string(), tool: z.string().nullable(), args: z.unknown(), risk: z.string(), reason: z.string(), requestedAt: z.string() });
const usageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number(), modelCalls: z.number(), toolCalls: z.number(), steps: z.number(), elapsedMs: z.number() }).loose();
const summarySchema = z.object({
  id: z.string(),
  status: z.enum(["running", "completed", "interrupted", "failed", "budget_exceeded"]),
  goal: z.string().nullable(),
  model: z.string().nullable(),
  owner: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  pending: z.array(pendingSchema),
  usage: usageSchema,
  answer: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string() }).optional(),
  stop: z.object({ reason: z.string(), limit: z.number(), used: z.number(), node: z.string().optional() }).optional(),
});
const itemSchema = z.object({ seq: z.number(), at: z.string(), type: z.string().describe("run.start, model.request, model.response, tool.call, tool.result, approval.requested, approval.decided, budget.exceeded, guardrail.flag, run.end, …"), actor: z.string(), data: z.unknown() });
const detailSchema = summarySchema.extend({ tools: z.array(z.string()), approve: z.array(z.string()), kbs: z.array(z.string()), timeline: z.array(itemSchema) });

/** Registers the agent runs routes; the returned close() stops running runs at a checkpoint and closes the store. */
export function registerAgentRunRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext): { close(): Promise<void> } {
  const runs = new AgentRunManager(ctx, app.log);
  const detail = (id: string, caller: { user: string }) => runs.views.detail(runs.store.requireThread(id), caller.user);

  routes.add(app, {
    method: "POST",
    url: "/api/agent-runs",
    summary: "Start an agent run on a goal; it runs in the background (202 with its id)",
    tag: "agent-runs",
    auth: "read",
    body: z
      .object({
        goal: z.string().trim().min(1).max(MAX_QUERY_CHARS).describe("what the agent should do"),
        model: z.string().max(200).optional().describe("a language model id from GET /v1/models (default: the server's first --model)"),
        kbs: z.array(kbParam).max(10).optional().describe("knowledge bases kb_search and kb_ask may use (you must be a member)"),
        tools: z.array(tool).max(3).optional().describe("default: calculator, plus kb_search and kb_ask when kbs are given"),
        approve: z.array(tool).max(3).optional().describe("tools whose every call waits for a person's approval"),
        budget: budget.optional(),
      })
      .strict(),
    response: z.object({ id: z.string(), status: z.string() }),
    handler: async ({ body, caller }, reply) => {
      const id = runs.start(caller, body);
      reply.code(202);
      return { id, status: runs.views.summary(runs.store.requireThread(id), caller.user).status };
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/agent-runs",
    summary: "Your agent runs (every run for admins), newest first",
    tag: "agent-runs",
    auth: "read",
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).optional().describe("default 50") }).strict(),
    response: z.array(summarySchema),
    handler: async ({ query, caller }) => runs.list(caller, query.limit ?? 50).map((t) => runs.views.summary(t, caller.user)),
  });

  routes.add(app, {
    method: "GET",
    url: "/api/agent-runs/:id",
    summary: "One run: status, timeline (model calls, tool calls with arguments and results, approvals, budget stops), pending calls, answer, usage",
    tag: "agent-runs",
    auth: "read",
    params,
    response: detailSchema,
    handler: async ({ params: p, caller }) => runs.views.detail(runs.find(p.id, caller), caller.user),
  });

  routes.add(app, {
    method: "GET",
    url: "/api/agent-runs/:id/events",
    summary: "Server-sent events of a run: the run now, each new timeline item while it runs, then the run as it stopped",
    tag: "agent-runs",
    auth: "read",
    params,
    events: { run: "the run (as GET /api/agent-runs/:id) when the stream opens and when the run stops or waits", item: "one new timeline item", end: "{status}: the run stopped or waits for approval; the stream closes" },
    handler: async ({ params: p, caller, signal }, reply) => {
      const t = runs.find(p.id, caller);
      const stream = new EventStream(reply, { run: `agent:${p.id}` });
      const first = runs.views.detail(t, caller.user);
      stream.send("run", first);
      let last = first.timeline.at(-1)?.seq ?? 0;
      const finish = (): void => {
        const now = detail(p.id, caller);
        stream.send("run", now);
        stream.send("end", { status: now.status });
        stream.end();
      };
      await new Promise<void>((resolve) => {
        const unsubscribe = runs.subscribe(p.id, (ended) => {
          for (const it of runs.views.timeline(runs.store.requireThread(p.id), caller.user, last)) {
            stream.send("item", it);
            last = it.seq;
          }
          if (ended) {
            unsubscribe?.();
            finish();
            resolve();
          }
        });
        if (!unsubscribe) {
          finish();
          return resolve();
        }
        signal.addEventListener("abort", () => {
          unsubscribe();
          stream.end();
          resolve();
        }, { once: true });
      });
      return reply;
    },
  });

  const decision = (approve: boolean) =>
    z
      .object({
        callId: approve ? z.string().min(1).max(200).optional().describe("the pending call (default: every pending call)") : z.string().min(1).max(200),
        ...(approve ? { args: z.record(z.string(), z.unknown()).optional().describe("approve with these arguments instead (checked against the tool's schema)") } : {}),
        comment: z.string().max(2_000).optional().describe(approve ? "kept in the audit log" : "why; the model is told"),
      })
      .strict();

  for (const approve of [true, false]) {
    routes.add(app, {
      method: "POST",
      url: `/api/agent-runs/:id/${approve ? "approve" : "reject"}`,
      summary: approve ? "Approve a pending call (optionally with edited arguments); the run resumes in the background" : "Reject a pending call (the model is told); the run resumes in the background",
      tag: "agent-runs",
      auth: "read",
      params,
      body: decision(approve),
      response: detailSchema,
      handler: async ({ params: p, body, caller }, reply) => {
        const b = body as { callId?: string; args?: Record<string, unknown>; comment?: string };
        runs.decide(p.id, caller, approve, { callId: b.callId, args: b.args as JsonValue | undefined, comment: b.comment });
        reply.code(202);
        return detail(p.id, caller);
      },
    });
  }

  routes.add(app, {
    method: "POST",
    url: "/api/agent-runs/:id/resume",
    summary: "Continue a run that stopped (server restart, failure, budget) from its last checkpoint, optionally with a larger budget",
    tag: "agent-runs",
    auth: "read",
    params,
    body: z.object({ budget: budget.omit({ steps: true }).optional() }).strict(),
    response: detailSchema,
    handler: async ({ params: p, body, caller }, reply) => {
      runs.resume(p.id, caller, body.budget);
      reply.code(202);
      return detail(p.id, caller);
    },
  });

  return { close: () => runs.close() };
}
