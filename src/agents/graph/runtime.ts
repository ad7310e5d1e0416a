// The graph runtime: runs a compiled graph superstep by superstep, saving a checkpoint after every
// one (and, inside a superstep of parallel nodes, each node's update as soon as it finishes), so a
// run stopped at any moment — an approval, a budget, Ctrl-C, kill -9 — continues with `resume` from
// its last checkpoint, in this process or another, without running finished nodes or repeating
// finished model and tool calls (the journal, context.ts).
import { StrataError, toStrataError } from "../../core/errors.js";
import type { ProgressListener } from "../../core/events.js";
import type { LanguageModel } from "../../model/types.js";
import { AgentStore, newThreadId, pendingOf, type ApprovalRecord, type CheckpointRecord, type Taint } from "../store/agent-store.js";
import { AuditLog } from "../store/audit.js";
import type { RetryPolicy } from "../tools/execute.js";
import { ToolBox, type Tool } from "../tools/tool.js";
import { emptyUsage, type AgentEventListener, type Budget, type JsonValue, type PendingCall, type RunErrorInfo, type RunResult, type RunStatus, type RunUsage, type StopInfo } from "../types.js";
import { GraphInterrupt, nodeContext } from "./context.js";
import { BudgetStop, RunContext, type RunPolicy } from "./run-context.js";
import { END, START, type Graph, type State } from "./graph.js";

export interface RunOptions {
  store: AgentStore;
  /** The run's id (default: a new random one). */
  threadId?: string;
  model?: LanguageModel;
  tools?: ToolBox | readonly Tool[];
  budget?: Budget;
  retry?: RetryPolicy;
  policy?: RunPolicy;
  vars?: Record<string, string>;
  /** Stored with the run so another process can rebuild it (the CLI's run spec). */
  spec?: JsonValue;
  signal?: AbortSignal;
  onEvent?: AgentEventListener;
  onProgress?: ProgressListener;
  /** HMAC key for the audit chain (see store/audit.ts). */
  auditKey?: string;
  /** Who started or resumed the run, for the audit log. */
  actor?: string;
  /** Random numbers for backoff jitter. */
  random?: () => number;
}

interface ThreadOutcome<S> {
  status: RunStatus;
  state: S;
  checkpoint: CheckpointRecord;
  stop?: StopInfo;
  error?: RunErrorInfo;
  pending?: PendingCall[];
}

function errorInfo(e: unknown): RunErrorInfo {
  const err = toStrataError(e, "INTERNAL", "run again with --debug and report the trace");
  return { code: err.code, message: err.message, hint: err.hint };
}

function toolBox(tools: RunOptions["tools"]): ToolBox {
  if (!tools) return new ToolBox();
  return tools instanceof ToolBox ? tools : new ToolBox(tools);
}

/** Validates (and fills defaults into) a state with the graph's schema. */
function checkState<S extends State>(graph: Graph<S>, state: unknown, after: string): S {
  if (!graph.stateSchema) return state as S;
  const r = graph.stateSchema.safeParse(state);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new StrataError("GRAPH_INVALID", `graph ${graph.name}: the state ${after} is invalid: ${i?.path.join(".") || "(root)"}: ${i?.message}`, "return updates that match the graph's state schema");
  }
  return r.data;
}

function isUpdate(u: unknown): u is Record<string, unknown> {
  return typeof u === "object" && u !== null && !Array.isArray(u);
}

/** The nodes `from` leads to, given the state after it ran; join bookkeeping is updated in place. */
function routeFrom<S extends State>(graph: Graph<S>, from: string, state: S, joins: Record<string, string[]>): string[] {
  const targets: string[] = [];
  let outgoing = 0;
  for (const e of graph.edges) {
    if (!e.from.includes(from)) continue;
    outgoing++;
    if (e.from.length === 1) {
      targets.push(...e.to);
      continue;
    }
    const key = `${e.from.join("+")}>${e.to.join("+")}`;
    const done = new Set(joins[key] ?? []);
    done.add(from);
    if (e.from.every((f) => done.has(f))) {
      targets.push(...e.to);
      delete joins[key];
    } else joins[key] = [...done].sort();
  }
  for (const c of graph.conditionals) {
    if (c.from !== from) continue;
    outgoing++;
    let chosen: string | readonly string[];
    try {
      chosen = c.route(state);
    } catch (e) {
      throw new StrataError("GRAPH_INVALID", `graph ${graph.name}: the conditional edge from ${from} failed: ${(e as Error).message}`, "fix the routing function", { cause: e });
    }
    for (const t of typeof chosen === "string" ? [chosen] : chosen) {
      if (t !== END && !graph.nodes.has(t)) throw new StrataError("GRAPH_INVALID", `graph ${graph.name}: the conditional edge from ${from} chose "${String(t)}", which is not a node`, `route to one of ${[...graph.nodes.keys(), "END"].join(", ")}`);
      if (c.targets && !c.targets.includes(t)) throw new StrataError("GRAPH_INVALID", `graph ${graph.name}: the conditional edge from ${from} chose "${t}", which is not among its targets`, `its targets: ${c.targets.join(", ")}`);
      targets.push(t);
    }
  }
  if (outgoing === 0 && from === START) throw new StrataError("GRAPH_INVALID", `graph ${graph.name}: no edge leaves START`, "add an edge from START");
  return targets;
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)].filter((id) => id !== END);
}

/** Runs the threads of one run inside this process. */
class Executor {
  readonly rc: RunContext;

  constructor(
    private readonly opts: RunOptions,
    rootId: string,
    usage: RunUsage,
    taint: Taint[],
  ) {
    this.rc = new RunContext({
      store: opts.store,
      audit: new AuditLog(opts.store, opts.auditKey),
      rootId,
      model: opts.model,
      tools: toolBox(opts.tools),
      budget: opts.budget ?? {},
      retry: opts.retry,
      policy: opts.policy,
      vars: opts.vars,
      onEvent: opts.onEvent,
      signal: opts.signal,
      usage,
      taint,
      random: opts.random,
      executeChild: (g, id, parent, input) => this.executeChild(g, id, parent, input),
    });
  }

  private get store(): AgentStore {
    return this.opts.store;
  }

  private async executeChild<C extends State>(graph: Graph<C>, threadId: string, parentId: string, input: Partial<C>): Promise<C> {
    let t = this.store.getThread(threadId);
    if (!t) {
      t = this.store.createThread({ threadId, rootId: this.rc.rootId, parentId, graph: graph.name, graphHash: graph.hash, spec: null, runtime: { usage: emptyUsage(), taint: [] } });
    } else if (t.status === "completed") {
      return this.store.headCheckpoint(threadId)!.state as C;
    } else this.store.setStatus(threadId, "running");
    const out = await this.executeThread(graph, threadId, input);
    this.store.setStatus(threadId, out.status, { error: out.error, stop: out.stop });
    switch (out.status) {
      case "completed":
        return out.state;
      case "interrupted":
        throw new GraphInterrupt(out.pending ?? []);
      case "budget_exceeded":
        throw new BudgetStop(out.stop!);
      default:
        throw new StrataError((out.error?.code ?? "INTERNAL") as StrataError["code"], out.error?.message ?? "the subgraph failed", out.error?.hint ?? "");
    }
  }

  async executeThread<S extends State>(graph: Graph<S>, threadId: string, input?: Partial<S>): Promise<ThreadOutcome<S>> {
    const store = this.store;
    const rc = this.rc;
    let ckpt = store.headCheckpoint(threadId);
    if (!ckpt) {
      const state0 = checkState(graph, { ...(input ?? {}) }, "given as input");
      const joins: Record<string, string[]> = {};
      const next = unique(routeFrom(graph, START, state0, joins));
      ckpt = store.saveCheckpoint(threadId, { parentId: null, step: 0, ran: [], next, state: state0, meta: { visits: {}, joins, usage: rc.usageNow(), taint: rc.taint } });
      this.opts.onEvent?.({ type: "checkpoint", threadId, checkpointId: ckpt.checkpointId, step: 0 });
    }
    for (;;) {
      const state = ckpt.state as S;
      const outcome = (o: Omit<ThreadOutcome<S>, "state" | "checkpoint">): ThreadOutcome<S> => ({ ...o, state, checkpoint: ckpt! });
      if (ckpt.next.length === 0) return outcome({ status: "completed" });
      if (ckpt.step >= graph.maxSteps) return outcome({ status: "budget_exceeded", stop: { reason: "steps", limit: graph.maxSteps, used: ckpt.step } });
      for (const id of ckpt.next) {
        const node = graph.nodes.get(id);
        if (!node) return outcome({ status: "failed", error: errorInfo(new StrataError("GRAPH_INVALID", `graph ${graph.name} has no node "${id}", which the checkpoint runs next`, "resume with the graph the run was started with")) });
        const visits = ckpt.meta.visits[id] ?? 0;
        if (visits >= node.maxVisits) return outcome({ status: "budget_exceeded", stop: { reason: "visits", limit: node.maxVisits, used: visits, node: id } });
      }
      try {
        rc.checkBudget();
      } catch (e) {
        if (e instanceof BudgetStop) return outcome({ status: "budget_exceeded", stop: e.stop });
        throw e;
      }
      if (rc.signal.aborted) return outcome({ status: "failed", error: errorInfo(new StrataError("ABORTED", "the run was cancelled", "resume it to continue from its last checkpoint")) });

      const tasks = ckpt.next;
      const parallel = tasks.length > 1;
      const saved = parallel ? store.pendingWrites(ckpt.checkpointId) : new Map<string, unknown>();
      const step = ckpt.step + 1;
      const current = ckpt;
      const settled = await Promise.allSettled(
        tasks.map(async (id) => {
          if (saved.has(id)) return saved.get(id) as Record<string, unknown>;
          const node = graph.nodes.get(id)!;
          const visit = (current.meta.visits[id] ?? 0) + 1;
          const started = performance.now();
          this.opts.onEvent?.({ type: "node-start", threadId, node: id, step });
          const update = await node.run(structuredClone(state), nodeContext(rc, threadId, id, step, visit));
          if (update !== undefined && !isUpdate(update)) throw new StrataError("GRAPH_INVALID", `node ${id} returned ${Array.isArray(update) ? "an array" : typeof update}, not an object of state updates`, "return an object like { key: value } (or nothing)");
          if (parallel) store.savePendingWrite(current.checkpointId, id, update ?? {});
          this.opts.onEvent?.({ type: "node-end", threadId, node: id, step, ms: performance.now() - started });
          this.opts.onProgress?.({ phase: "agent", done: step, item: id });
          return update ?? {};
        }),
      );
      // A failure outranks a budget stop, which outranks waiting for approval.
      const pending: PendingCall[] = [];
      let stop: StopInfo | undefined;
      let failure: unknown;
      settled.forEach((s, i) => {
        if (s.status === "fulfilled") return;
        const e = s.reason as unknown;
        if (e instanceof GraphInterrupt) pending.push(...e.pending);
        else if (e instanceof BudgetStop) stop ??= e.stop;
        else if (rc.budgetStop && rc.signal.aborted) stop ??= rc.budgetStop;
        else {
          failure ??= e;
          rc.audit(threadId, "node.error", tasks[i]!, errorInfo(e) as unknown as JsonValue);
        }
      });
      if (failure !== undefined) return outcome({ status: "failed", error: errorInfo(failure) });
      if (stop) return outcome({ status: "budget_exceeded", stop });
      if (pending.length) return outcome({ status: "interrupted", pending });

      let merged: Record<string, unknown> = { ...state };
      const setBy = new Map<string, string>();
      try {
        settled.forEach((s, i) => {
          const update = (s as PromiseFulfilledResult<Record<string, unknown>>).value;
          for (const [key, value] of Object.entries(update)) {
            const reducer = graph.reducers[key];
            if (reducer) merged[key] = reducer(merged[key], value);
            else {
              const other = setBy.get(key);
              if (other !== undefined) throw new StrataError("GRAPH_INVALID", `graph ${graph.name}: nodes ${other} and ${tasks[i]} both set "${key}" in the same step`, `give "${key}" a reducer (e.g. append or merge) or let one branch write it`);
              merged[key] = value;
            }
            setBy.set(key, tasks[i]!);
          }
        });
        merged = checkState(graph, merged, `after ${tasks.join(", ")}`);
        const visits = { ...current.meta.visits };
        for (const id of tasks) visits[id] = (visits[id] ?? 0) + 1;
        const joins = structuredClone(current.meta.joins);
        const routed: string[] = [];
        for (const id of tasks) routed.push(...routeFrom(graph, id, merged as S, joins));
        const next = unique(
          routed.map((t) => {
            const n = graph.nodes.get(t);
            return n && n.onLimit !== undefined && (visits[t] ?? 0) >= n.maxVisits ? n.onLimit : t;
          }),
        );
        rc.usage.steps += 1;
        ckpt = store.saveCheckpoint(threadId, { parentId: current.checkpointId, step, ran: tasks, next, state: merged, meta: { visits, joins, usage: rc.usageNow(), taint: rc.taint } });
      } catch (e) {
        return outcome({ status: "failed", error: errorInfo(e) });
      }
      this.opts.onEvent?.({ type: "checkpoint", threadId, checkpointId: ckpt.checkpointId, step });
    }
  }

  /** Runs the root thread and records how it ended. */
  async runRoot<S extends State>(graph: Graph<S>, threadId: string, input?: Partial<S>): Promise<RunResult<S>> {
    const store = this.store;
    let out: ThreadOutcome<S>;
    try {
      out = await this.executeThread(graph, threadId, input);
    } catch (e) {
      const head = store.headCheckpoint(threadId);
      this.finish(threadId, "failed", { error: errorInfo(e) });
      this.rc.dispose();
      if (!head) throw e;
      return this.result(graph, threadId, { status: "failed", state: head.state as S, checkpoint: head, error: errorInfo(e) });
    }
    const result = out.status === "completed" ? graph.output(out.state) : undefined;
    this.finish(threadId, out.status, { ...out, result });
    this.rc.dispose();
    return this.result(graph, threadId, out);
  }

  private finish(threadId: string, status: RunStatus, o: { error?: RunErrorInfo; stop?: StopInfo; result?: JsonValue }): void {
    const store = this.store;
    const rc = this.rc;
    if (o.stop) rc.audit(threadId, "budget.exceeded", "runtime", o.stop as unknown as JsonValue);
    store.db.transaction(() => {
      store.setStatus(threadId, status, { error: o.error ?? null, stop: o.stop ?? null, result: o.result });
      rc.persistRuntime();
      store.releaseLease(threadId);
    })();
    const pending = status === "interrupted" ? store.approvalsOfRun(threadId, "pending").map((a) => a.callId) : [];
    rc.audit(threadId, "run.end", "runtime", { status, pending, error: (o.error ?? null) as JsonValue, stop: (o.stop ?? null) as JsonValue, usage: rc.usageNow() as unknown as JsonValue });
  }

  private result<S extends State>(graph: Graph<S>, threadId: string, out: ThreadOutcome<S>): RunResult<S> {
    return {
      threadId,
      status: out.status,
      pending: out.status === "interrupted" ? this.store.approvalsOfRun(threadId, "pending").map(pendingOf) : [],
      result: out.status === "completed" ? graph.output(out.state) : null,
      state: out.state,
      usage: this.rc.usageNow(),
      checkpointId: out.checkpoint.checkpointId,
      ...(out.stop ? { stop: out.stop } : {}),
      ...(out.error ? { error: out.error } : {}),
    };
  }
}

function auditSummary(opts: RunOptions): Record<string, JsonValue> {
  return {
    model: opts.model?.id ?? null,
    tools: toolBox(opts.tools).names(),
    budget: (opts.budget ?? {}) as unknown as JsonValue,
    vars: (opts.vars ?? {}) as unknown as JsonValue,
  };
}

/** Starts a run of `graph` on `input`, with a checkpoint after every node. */
export async function runGraph<S extends State>(graph: Graph<S>, input: Partial<S>, opts: RunOptions): Promise<RunResult<S>> {
  const threadId = opts.threadId ?? newThreadId();
  const store = opts.store;
  store.createThread({ threadId, rootId: threadId, parentId: null, graph: graph.name, graphHash: graph.hash, spec: opts.spec ?? null, runtime: { usage: emptyUsage(), taint: [] } });
  store.acquireLease(threadId);
  const ex = new Executor(opts, threadId, emptyUsage(), []);
  ex.rc.audit(threadId, "run.start", opts.actor ?? "runtime", { graph: graph.name, graphHash: graph.hash, input: input as unknown as JsonValue, spec: opts.spec ?? null, ...auditSummary(opts) });
  return ex.runRoot(graph, threadId, input);
}

/**
 * Continues a run from its last checkpoint: after an approval, a budget stop (pass a larger
 * budget), a failure or a crash. A completed run is returned as it is.
 */
export async function resumeGraph<S extends State>(graph: Graph<S>, threadId: string, opts: RunOptions): Promise<RunResult<S>> {
  const store = opts.store;
  const t = store.requireThread(threadId);
  if (t.parentId !== null) throw new StrataError("USAGE", `${threadId} is a subgraph thread of run ${t.rootId}`, `resume the run: ${t.rootId}`);
  if (t.graphHash !== graph.hash) {
    throw new StrataError("GRAPH_INVALID", `run ${threadId} was started with another version of graph ${t.graph} (${t.graphHash}; this one is ${graph.hash})`, "resume it with the graph it was started with, or start a new run");
  }
  if (t.status === "completed") {
    const head = store.headCheckpoint(threadId)!;
    return { threadId, status: "completed", pending: [], result: graph.output(head.state as S), state: head.state as S, usage: t.runtime.usage, checkpointId: head.checkpointId };
  }
  store.acquireLease(threadId);
  const ex = new Executor(opts, threadId, { ...t.runtime.usage }, [...t.runtime.taint]);
  ex.rc.audit(threadId, "run.resume", opts.actor ?? "runtime", { previousStatus: t.status, ...auditSummary(opts) });
  return ex.runRoot(graph, threadId);
}

/** The run as it stands, without running anything (for show and status). */
export function runState<S extends State = State>(store: AgentStore, threadId: string, output?: (state: S) => JsonValue): RunResult<S> {
  const t = store.requireThread(threadId);
  const head = t.head ? store.getCheckpoint(t.head) : undefined;
  const state = (head?.state ?? {}) as S;
  const status: RunStatus = t.status === "running" ? "failed" : t.status;
  return {
    threadId,
    status,
    pending: store.approvalsOfRun(t.rootId, "pending").map(pendingOf),
    result: t.status === "completed" && head ? (output ? output(state) : t.result) : null,
    state,
    usage: t.runtime.usage,
    checkpointId: head?.checkpointId ?? null,
    ...(t.stop ? { stop: t.stop } : {}),
    ...(t.error ? { error: t.error } : t.status === "running" ? { error: { code: "ABORTED", message: "the process running this thread stopped before it finished (or is still running)", hint: "resume it with `strata agent resume <thread>`" } } : {}),
  };
}

/**
 * A new run that starts from a checkpoint of another (optionally with some state keys replaced):
 * to try another path, or to continue after editing the state. Side effects are the new run's own:
 * calls the original made are not replayed in the fork.
 */
export function forkRun(store: AgentStore, checkpointId: string, opts: { threadId?: string; update?: Record<string, unknown>; auditKey?: string; actor?: string } = {}): string {
  const src = store.requireCheckpoint(checkpointId);
  const t = store.requireThread(src.threadId);
  if (t.parentId !== null) throw new StrataError("USAGE", `checkpoint ${checkpointId} belongs to a subgraph thread`, `fork from a checkpoint of the run ${t.rootId}`);
  const threadId = opts.threadId ?? newThreadId();
  const audit = new AuditLog(store, opts.auditKey);
  store.db.transaction(() => {
    store.createThread({ threadId, rootId: threadId, parentId: null, graph: t.graph, graphHash: t.graphHash, spec: t.spec, runtime: { usage: src.meta.usage, taint: src.meta.taint }, forkedFrom: checkpointId });
    store.saveCheckpoint(threadId, { parentId: null, step: src.step, ran: src.ran, next: src.next, state: { ...src.state, ...(opts.update ?? {}) }, meta: src.meta });
    store.setStatus(threadId, src.next.length ? "interrupted" : "completed");
    audit.append(threadId, { threadId, type: "run.fork", actor: opts.actor ?? "runtime", data: { fromThread: t.threadId, fromCheckpoint: checkpointId, step: src.step, update: (opts.update ?? null) as JsonValue } });
  })();
  return threadId;
}

export interface Decision {
  approve: boolean;
  /** Who decided (kept in the audit log). */
  by: string;
  /** Approve with these arguments instead of the model's. */
  args?: JsonValue;
  comment?: string;
  auditKey?: string;
  /** When given, edited arguments are checked against the tool's schema before they are stored. */
  tools?: ToolBox;
}

/** Records a person's decision on a pending call of run `threadId` (resume the run afterwards). */
export function decide(store: AgentStore, threadId: string, callId: string, d: Decision): ApprovalRecord {
  const t = store.requireThread(threadId);
  if (d.args !== undefined && !d.approve) throw new StrataError("USAGE", "edited arguments only go with an approval", "approve with --args, or reject without them");
  const audit = new AuditLog(store, d.auditKey);
  return store.db.transaction(() => {
    const pending = store.approvalsOfRun(t.rootId, "pending").find((a) => a.callId === callId);
    if (pending && d.args !== undefined && pending.tool && d.tools?.has(pending.tool)) {
      const tool = d.tools.get(pending.tool);
      const r = tool.input.safeParse(d.args);
      if (!r.success) throw new StrataError("TOOL_ARGS_INVALID", `the edited arguments do not fit ${pending.tool}: ${r.error.issues[0]?.path.join(".") || "(arguments)"}: ${r.error.issues[0]?.message}`, `give arguments matching ${JSON.stringify(tool.parameters)}`);
    }
    const rec = store.decide(t.rootId, callId, { status: d.approve ? "approved" : "rejected", by: d.by, editedArgs: d.args, comment: d.comment });
    audit.append(t.rootId, {
      threadId: rec.threadId,
      type: "approval.decided",
      actor: d.by,
      data: { callId, tool: rec.tool, decision: rec.status, editedArgs: d.args ?? null, comment: d.comment ?? null },
    });
    return rec;
  })();
}
