// Training runs: start a pretraining run on the text of a knowledge base's documents the caller may
// read, follow its loss live, stop, resume and delete it. The work happens in a trainer child
// process (src/server/training/); another user's run answers 404 exactly like a missing one.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ServerContext } from "../context.js";
import type { RouteTable } from "../route.js";
import { EventStream, wantsEventStream } from "../sse.js";
import { RUN_ID_PATTERN, RUN_STATUSES, TRAINING_PRESETS } from "../training/job-file.js";
import { TrainingRuns, type TrainingRunsOptions } from "../training/training-runs.js";
import { kbParam } from "./kbs.js";

/** Most steps one run may ask for (the small preset's full recipe is 3,000). */
export const MAX_STEPS = 100_000;

const runIdParams = z.object({ id: z.string().regex(RUN_ID_PATTERN, "a training run id (run- and 16 hex digits)") });
const stepCount = z.number().int().min(1).max(MAX_STEPS);

const startBody = z
  .object({
    kb: kbParam.describe("a knowledge base the caller may use; the run trains on the text of its documents the caller may read"),
    preset: z.enum(TRAINING_PRESETS).describe("tiny (858,496 parameters, bytes) or small (3M parameters, BPE 1,024)"),
    steps: stepCount.describe("optimizer steps"),
    batch: z.number().int().min(1).max(256).optional().describe("sequences per step (default: the preset's)"),
    block: z.number().int().min(2).max(1024).optional().describe("tokens per sequence, at most the preset's maxSeq (default: the preset's)"),
    lr: z.number().positive().max(1).optional().describe("peak learning rate (default: the preset's)"),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe("seeds the weights and the batch order"),
    evalEvery: stepCount.optional().describe("evaluate every N steps (default: the preset's share of the run)"),
    evalBatches: z.number().int().min(1).max(200).optional().describe("batches per evaluation (default: the preset's)"),
    checkpointEvery: stepCount.optional().describe("save a checkpoint every N steps (always at the end and on stop)"),
  })
  .strict();

const errorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string() });
const summarySchema = z.object({
  id: z.string(),
  owner: z.string(),
  kb: z.string(),
  preset: z.enum(TRAINING_PRESETS),
  status: z.enum(RUN_STATUSES),
  stopping: z.boolean().describe("asked to stop, still saving"),
  step: z.number(),
  steps: z.number(),
  loss: z.number().nullable().describe("the last training loss"),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  error: errorSchema.nullable(),
});
const viewSchema = summarySchema.extend({
  startedAt: z.string(),
  settings: startBody.omit({ kb: true, preset: true }),
  documents: z.number().describe("readable documents in the corpus"),
  corpusBytes: z.number(),
  phase: z.enum(["preparing", "training", "finished"]),
  preparing: z.object({ phase: z.string(), done: z.number(), total: z.number().nullable() }).nullable(),
  dataset: z.object({ tokens: z.number(), trainTokens: z.number(), valTokens: z.number() }).nullable(),
  model: z.object({ layers: z.number(), heads: z.number(), kvHeads: z.number(), dim: z.number(), ffnDim: z.number(), vocab: z.number(), maxSeq: z.number() }).nullable(),
  parameters: z.number().nullable(),
  tokensPerStep: z.number().nullable(),
  tokensPerSecond: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  checkpointStep: z.number().nullable().describe("the latest checkpoint saved"),
  history: z.object({
    train: z.array(z.object({ step: z.number(), loss: z.number(), lr: z.number() })),
    val: z.array(z.object({ step: z.number(), valLoss: z.number(), trainLoss: z.number(), valPerplexity: z.number() })),
  }),
});

const EVENTS = {
  run: "the run as GET answers it, first",
  preparing: "{phase, done, total} while the text is tokenized (and a BPE vocabulary trained)",
  dataset: "{tokens, trainTokens, valTokens}",
  start: "{step, steps, parameters, tokensPerStep, resumedFrom}",
  step: "{step, steps, loss, lr, tokensPerSecond, etaSeconds} after each optimizer step",
  eval: "{step, trainLoss, valLoss, valPerplexity}",
  checkpoint: "{step}",
  end: "the finished run (status completed, stopped, failed or interrupted), last",
};

/** Registers the training-run routes; the returned close() stops the trainers when the server shuts down. */
export function registerTrainingRunRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext, o: TrainingRunsOptions = {}): { close(): Promise<void> } {
  const runs = new TrainingRuns(ctx, app.log, o);
  /** Open event streams, ended before the server closes (they would hold its close open). */
  const streams = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const end of [...streams]) end();
  });

  routes.add(app, {
    method: "GET",
    url: "/api/training-runs",
    summary: "The caller's training runs, newest first (every run for admins)",
    tag: "training runs",
    auth: "read",
    response: z.array(summarySchema),
    handler: async ({ caller }) => runs.list(caller),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/training-runs",
    summary: "Start pretraining a model on the text of a knowledge base's documents the caller may read (the key needs read too)",
    tag: "training runs",
    auth: "ingest",
    body: startBody,
    response: viewSchema,
    handler: async ({ caller, body }, reply) => {
      const { kb, preset, ...settings } = body;
      const view = await runs.start(caller, { kb, preset, settings });
      reply.code(201);
      return view;
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/training-runs/:id",
    summary: "A training run: status, settings, model, progress, loss history and validation points",
    tag: "training runs",
    auth: "read",
    params: runIdParams,
    response: viewSchema,
    handler: async ({ caller, params }) => runs.get(caller, params.id),
  });

  routes.add(app, {
    method: "GET",
    url: "/api/training-runs/:id/events",
    summary: "Follow a training run live (SSE with Accept: text/event-stream; otherwise the run as GET answers it)",
    tag: "training runs",
    auth: "read",
    params: runIdParams,
    response: viewSchema,
    events: EVENTS,
    handler: async ({ caller, params, raw }, reply) => {
      let view = await runs.get(caller, params.id);
      if (!wantsEventStream(raw)) return view;
      const stream = new EventStream(reply, { run: `training:${params.id}` });
      let finish = (): void => {};
      const ended = new Promise<void>((resolve) => (finish = resolve));
      const close = (): void => {
        unsubscribe?.();
        streams.delete(close);
        stream.end();
        finish();
      };
      // No await between the snapshot above and subscribing: no step is missed or sent twice.
      const unsubscribe = runs.subscribe(caller, params.id, (event, data) => {
        stream.send(event, data);
        if (event === "end") close();
      });
      if (!unsubscribe && view.status === "running") view = await runs.get(caller, params.id); // it ended just now
      stream.send("run", view);
      if (!unsubscribe) {
        stream.send("end", view);
        close();
      } else {
        streams.add(close);
        reply.raw.once("close", close);
      }
      await ended;
      return reply;
    },
  });

  routes.add(app, {
    method: "POST",
    url: "/api/training-runs/:id/stop",
    summary: "Stop a running training run: it saves a checkpoint, then its status is stopped",
    tag: "training runs",
    auth: "ingest",
    params: runIdParams,
    response: viewSchema,
    handler: async ({ caller, params }) => runs.stop(caller, params.id),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/training-runs/:id/resume",
    summary: "Continue a stopped, interrupted or failed run from its latest checkpoint",
    tag: "training runs",
    auth: "ingest",
    params: runIdParams,
    body: z.object({ steps: stepCount.optional().describe("steps in all (default: the run's)") }).strict().default({}),
    response: viewSchema,
    handler: async ({ caller, params, body }) => runs.resume(caller, params.id, body.steps),
  });

  routes.add(app, {
    method: "DELETE",
    url: "/api/training-runs/:id",
    summary: "Delete a training run that is not running, with its checkpoints",
    tag: "training runs",
    auth: "ingest",
    params: runIdParams,
    response: z.object({ deleted: z.string() }),
    handler: async ({ caller, params }) => {
      runs.remove(caller, params.id);
      return { deleted: params.id };
    },
  });

  return { close: () => runs.close() };
}
