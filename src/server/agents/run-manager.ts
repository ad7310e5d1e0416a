// Agent runs inside the server: one agent store at <data>/agents/, runs started and resumed in the
// background of this process (model calls are async I/O, so requests keep being served), decisions
// on pending calls by the run's owner (or an admin), live notifications for event streams, and a
// close that stops the runs at their next checkpoint so they can be resumed after a restart.
// Every lookup takes the reader: someone else's run is NOT_FOUND, exactly like a missing one.
import { join } from "node:path";
import { StrataError, isStrataError } from "../../core/errors.js";
import { decide, resumeGraph, runGraph, type RunOptions } from "../../agents/graph/runtime.js";
import { buildGoalRun, readRunSpec, toolBoxFor, type RunSpec } from "../../agents/run-spec.js";
import { AgentStore, newThreadId, type ThreadRecord } from "../../agents/store/agent-store.js";
import type { ToolBox } from "../../agents/tools/tool.js";
import type { Budget, JsonValue, RunUsage } from "../../agents/types.js";
import type { Caller } from "../accounts.js";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import type { ServedLanguageModel } from "../models.js";
import { abandonedError, RunViews } from "./run-view.js";
import { actingCaller, serverToolFactories, type HttpAgentTool } from "./run-tools.js";

export interface StartRequest {
  goal: string;
  model?: string;
  kbs?: string[];
  tools?: HttpAgentTool[];
  approve?: HttpAgentTool[];
  budget?: Budget & { steps?: number };
}

export interface DecisionRequest {
  callId?: string;
  args?: JsonValue;
  comment?: string;
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
  listeners: Set<(ended: boolean) => void>;
}

/** How long close() waits for runs to reach a checkpoint after asking them to stop. */
const CLOSE_WAIT_MS = 10_000;

const notFound = (id: string): ServerError => new ServerError("NOT_FOUND", `there is no agent run ${id.slice(0, 80)} of yours`, "list yours with GET /api/agent-runs");

/** The library's agent errors as the HTTP layer reports them. */
function httpError(e: unknown): unknown {
  if (!isStrataError(e)) return e;
  if (e.code === "NOT_PENDING") return new ServerError("CONFLICT", e.message.replace(/`strata agent show <thread>`/, "GET /api/agent-runs/:id"), "reload the run: the call was decided already or is not waiting");
  if (e.code === "TOOL_ARGS_INVALID" || e.code === "TOOL_UNKNOWN") return new ServerError("USAGE", e.message, e.hint);
  if (e.code === "THREAD_BUSY") return new ServerError("CONFLICT", e.message, "wait for the run to stop, then try again");
  return e;
}

function usageDelta(before: RunUsage, after: RunUsage): { inputTokens: number; outputTokens: number; costUsd: number } {
  return { inputTokens: after.inputTokens - before.inputTokens, outputTokens: after.outputTokens - before.outputTokens, costUsd: after.costUsd - before.costUsd };
}

export class AgentRunManager {
  readonly store: AgentStore;
  readonly views: RunViews;
  private readonly active = new Map<string, ActiveRun>();
  private closed = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly log: { error(obj: unknown, msg: string): void },
  ) {
    this.store = AgentStore.open(join(ctx.dataDir, "agents"), { create: true });
    this.views = new RunViews(this.store, (id) => this.active.has(id));
    // Runs a previous server left running (crash, kill -9) read as failed and resumable, not running forever.
    this.store.abandonStaleRuns(abandonedError);
  }

  private get auditKey(): string | undefined {
    return process.env.STRATA_AUDIT_KEY || undefined;
  }

  /** The run if the reader may see it: its owner, or an admin. NOT_FOUND otherwise, like a missing one. */
  find(id: string, reader: Caller): ThreadRecord {
    const t = this.store.getThread(id);
    if (!t || t.parentId !== null) throw notFound(id);
    if (t.owner !== reader.user && !reader.scopes.includes("admin")) throw notFound(id);
    return t;
  }

  /** The reader's runs (every run for admins), newest first. */
  list(reader: Caller, limit: number): ThreadRecord[] {
    return reader.scopes.includes("admin") ? this.store.listThreads(limit) : this.store.listThreadsOf(reader.user, limit);
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** Checks a start request against the caller's rights and the server's models; returns the spec to run. */
  plan(caller: Caller, r: StartRequest): { spec: RunSpec; served: ServedLanguageModel } {
    const served = this.ctx.models.languageModel(r.model);
    if (!served) throw new ServerError("USAGE", "this server has no language model, and an agent run needs one", "ask the operator to start the server with a model: strata serve --model <id>=<ref>");
    const kbs = [...new Set(r.kbs ?? [])];
    for (const kb of kbs) this.ctx.kbs.find(kb, caller);
    const tools = r.tools ? [...new Set(r.tools)] : ["calculator", ...(kbs.length ? ["kb_search", "kb_ask"] : [])];
    const approve = [...new Set(r.approve ?? [])];
    const stray = approve.find((t) => !tools.includes(t));
    if (stray) throw new ServerError("USAGE", `approve names ${stray}, which is not among the run's tools (${tools.join(", ") || "none"})`, "add it to tools, or leave it out of approve");
    if (kbs.length === 0 && tools.some((t) => t.startsWith("kb_"))) throw new ServerError("USAGE", "kb_search and kb_ask need knowledge bases", "name them in kbs (GET /api/kbs lists yours)");
    const { steps, ...budget } = r.budget ?? {};
    const spec: RunSpec = { v: 1, kind: "goal", origin: "server", owner: caller.user, goal: r.goal, model: served.id, tools, approve, toolConfig: { kbs }, budget, maxSteps: steps, vars: {}, cwd: this.ctx.dataDir };
    return { spec, served };
  }

  private toolsFor(spec: RunSpec, served: ServedLanguageModel): ToolBox {
    return toolBoxFor(spec, serverToolFactories(this.ctx, { kbs: spec.toolConfig.kbs ?? [], caller: actingCaller(this.ctx, spec.owner ?? ""), model: served.model }));
  }

  /** Starts a run in the background; the thread exists (owned by the caller) when this returns. */
  start(caller: Caller, r: StartRequest): string {
    this.refuseWhenClosed();
    const { spec, served } = this.plan(caller, r);
    const id = newThreadId();
    const built = buildGoalRun(spec, this.toolsFor(spec, served));
    this.launch(id, caller, served, (opts) => runGraph(built.graph, built.input, { ...opts, threadId: id, tools: built.tools, budget: spec.budget, spec: spec as unknown as JsonValue }));
    if (!this.store.getThread(id)) throw new ServerError("INTERNAL", "the run could not be started", "the server logged the cause");
    return id;
  }

  /** Continues a run that stopped (a failure, a budget, a server stop) from its last checkpoint. */
  resume(id: string, caller: Caller, budget?: Budget): void {
    this.refuseWhenClosed();
    const t = this.find(id, caller);
    if (this.active.has(id)) throw new ServerError("CONFLICT", `run ${id} is running`, "wait for it to stop (GET /api/agent-runs/:id/events)");
    if (t.status === "completed") throw new ServerError("CONFLICT", `run ${id} has completed`, "start a new run");
    if (this.store.approvalsOfRun(id, "pending").length) throw new ServerError("CONFLICT", `run ${id} waits for approval`, "approve or reject its pending calls: POST /api/agent-runs/:id/approve or /reject");
    this.resumeInBackground(t, caller, budget);
  }

  private resumeInBackground(t: ThreadRecord, payer: Caller, budget?: Budget): void {
    const spec = this.serverSpec(t);
    const updated: RunSpec = budget ? { ...spec, budget: { ...spec.budget, ...budget } } : spec;
    if (budget) this.store.updateSpec(t.threadId, updated as unknown as JsonValue);
    const served = this.servedFor(updated);
    const built = buildGoalRun(updated, this.toolsFor(updated, served));
    this.launch(t.threadId, payer, served, (opts) => resumeGraph(built.graph, t.threadId, { ...opts, tools: built.tools, budget: updated.budget, spec: updated as unknown as JsonValue }));
  }

  /**
   * Records a person's decision (the caller is the actor in the audit log) and, when nothing is
   * left waiting, resumes the run in the background. Approve without a callId decides every pending call.
   */
  decide(id: string, caller: Caller, approve: boolean, d: DecisionRequest): void {
    this.refuseWhenClosed();
    const t = this.find(id, caller);
    if (this.active.has(id)) throw new ServerError("CONFLICT", `run ${id} is running; nothing of it waits for a decision now`, "wait until it stops with pending calls (GET /api/agent-runs/:id/events)");
    const pending = this.store.approvalsOfRun(id, "pending");
    const ids = d.callId !== undefined ? [d.callId] : pending.map((p) => p.callId);
    if (ids.length === 0) throw new ServerError("CONFLICT", `run ${id} has no calls waiting for approval`, "reload the run: GET /api/agent-runs/:id");
    if (d.args !== undefined && ids.length > 1) throw new ServerError("USAGE", "args edits one call, and several are waiting", `name it with callId: one of ${ids.join(", ")}`);
    const spec = this.serverSpec(t);
    const tools = this.toolsFor(spec, this.servedFor(spec));
    try {
      for (const callId of ids) decide(this.store, id, callId, { approve, by: caller.user, args: d.args, comment: d.comment, auditKey: this.auditKey, tools });
    } catch (e) {
      throw httpError(e);
    }
    if (this.store.approvalsOfRun(id, "pending").length === 0) this.resumeInBackground(this.store.requireThread(id), caller);
  }

  /** Calls `fn` after each step of an active run and once more (ended = true) when it stops; returns the unsubscribe. */
  subscribe(id: string, fn: (ended: boolean) => void): (() => void) | undefined {
    const a = this.active.get(id);
    if (!a) return undefined;
    a.listeners.add(fn);
    return () => a.listeners.delete(fn);
  }

  /** Stops every run at its next checkpoint (they resume later), waits for them, closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.active.values()];
    for (const a of runs) a.controller.abort(new StrataError("ABORTED", "the server is shutting down", "resume the run after the restart"));
    const waited = Promise.allSettled(runs.map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([waited, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.store.close();
  }

  private refuseWhenClosed(): void {
    if (this.closed) throw new ServerError("SHUTTING_DOWN", "the server is shutting down", "retry after the restart", { "retry-after": "5" });
  }

  private serverSpec(t: ThreadRecord): RunSpec {
    let spec: RunSpec;
    try {
      spec = readRunSpec(t.spec, t.threadId);
    } catch {
      spec = { v: 1, kind: "graph", model: null, tools: [], toolConfig: {}, budget: {}, vars: {}, cwd: "" };
    }
    if (spec.origin !== "server" || spec.kind !== "goal") throw new ServerError("CONFLICT", `run ${t.threadId} was not started by this server`, "decide and resume it with the CLI that made it: strata agent approve|reject|resume --store <data>/agents");
    return spec;
  }

  private servedFor(spec: RunSpec): ServedLanguageModel {
    const served = this.ctx.models.language.find((m) => m.id === spec.model);
    if (!served) throw new ServerError("CONFLICT", `the run's model ${spec.model ?? "(none)"} is not served any more`, `restart the server with it: strata serve --model ${spec.model ?? "<id>"}=<ref>`);
    return served;
  }

  private launch(id: string, payer: Caller, served: ServedLanguageModel, go: (opts: RunOptions) => Promise<unknown>): void {
    const controller = new AbortController();
    const listeners = new Set<(ended: boolean) => void>();
    const notify = (ended: boolean): void => {
      for (const fn of listeners) {
        try {
          fn(ended);
        } catch (e) {
          this.log.error({ err: e }, "agent run listener failed");
        }
      }
    };
    const before = this.store.getThread(id)?.runtime.usage;
    const opts: RunOptions = {
      store: this.store,
      model: served.model,
      signal: controller.signal,
      actor: payer.user,
      auditKey: this.auditKey,
      onEvent: () => notify(false),
    };
    const entry: ActiveRun = { controller, listeners, done: Promise.resolve() };
    this.active.set(id, entry);
    // The runtime creates (or leases) the thread before its first await, so the run is visible at once.
    entry.done = go(opts)
      .then(
        () => undefined,
        (e: unknown) => this.log.error({ err: e, runId: id }, "agent run failed"),
      )
      .finally(() => {
        this.active.delete(id);
        this.charge(id, payer, before);
        notify(true);
      });
  }

  /** Model tokens of this stretch of the run count against the key that started or resumed it (tokens only: its HTTP requests count themselves). */
  private charge(id: string, payer: Caller, before: RunUsage | undefined): void {
    const after = this.store.db.open ? this.store.getThread(id)?.runtime.usage : undefined;
    if (!after || !payer.keyId) return;
    const zero: RunUsage = { inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, modelCalls: 0, toolCalls: 0, steps: 0, elapsedMs: 0 };
    const d = usageDelta(before ?? zero, after);
    if (d.inputTokens + d.outputTokens === 0 && d.costUsd === 0) return;
    try {
      this.ctx.usage.addTokens(payer.keyId, d);
    } catch (e) {
      this.log.error({ err: e }, "could not record agent run usage");
    }
  }
}
