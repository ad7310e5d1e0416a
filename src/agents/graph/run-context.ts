// The run-level state of one root run (and its subgraph threads) in one process: the abort signal
// that budgets and the caller share, the wall-clock timer, usage and taint, budget checks, and which
// request messages the audit log already holds. Per-node calls go through src/agents/graph/context.ts.
import { sha256 } from "../../core/hash.js";
import type { GenerateRequest, LanguageModel } from "../../model/types.js";
import type { AgentStore, Taint } from "../store/agent-store.js";
import type { AuditLog, AuditType } from "../store/audit.js";
import { DEFAULT_RETRY, type RetryPolicy } from "../tools/execute.js";
import type { ToolBox } from "../tools/tool.js";
import type { AgentEvent, Budget, JsonValue, RunUsage, StopInfo } from "../types.js";
import type { Graph, State } from "./graph.js";

/** Thrown when a budget or limit is spent; the run stops with its last checkpoint. */
export class BudgetStop extends Error {
  constructor(readonly stop: StopInfo) {
    super(`budget exceeded: ${stop.reason} (used ${stop.used} of ${stop.limit})`);
    this.name = "BudgetStop";
  }
}

export interface RunPolicy {
  /** Tools that never need approval for their risk (untrusted-content approvals still apply). */
  autoApprove?: readonly string[];
  /** A tool call after untrusted content with instructions: ask a person (default), refuse it, or allow it. */
  untrustedInstructions?: "approve" | "block" | "allow";
}

export type ChildExecutor = <C extends State>(graph: Graph<C>, threadId: string, parentThreadId: string, input: Partial<C>) => Promise<C>;

export interface RunContextOptions {
  store: AgentStore;
  audit: AuditLog;
  rootId: string;
  model?: LanguageModel;
  tools: ToolBox;
  budget: Budget;
  retry?: RetryPolicy;
  policy?: RunPolicy;
  vars?: Record<string, string>;
  onEvent?: (e: AgentEvent) => void;
  signal?: AbortSignal;
  usage: RunUsage;
  taint: Taint[];
  executeChild: ChildExecutor;
  /** Random numbers for backoff jitter (tests pass a fixed one). */
  random?: () => number;
}

/** State of one root run inside one process, shared by its threads (subgraphs). */
export class RunContext {
  readonly store: AgentStore;
  readonly auditLog: AuditLog;
  readonly rootId: string;
  readonly usage: RunUsage;
  readonly taint: Taint[];
  budgetStop: StopInfo | undefined;
  private readonly controller = new AbortController();
  private readonly segmentStart = performance.now();
  private readonly baseElapsed: number;
  private wallTimer: NodeJS.Timeout | undefined;
  private readonly auditedMessages = new Map<string, string[]>();

  constructor(readonly o: RunContextOptions) {
    this.store = o.store;
    this.auditLog = o.audit;
    this.rootId = o.rootId;
    this.usage = o.usage;
    this.taint = o.taint;
    this.baseElapsed = o.usage.elapsedMs;
    const outer = o.signal;
    if (outer) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else outer.addEventListener("abort", () => this.controller.abort(outer.reason), { once: true });
    }
    if (o.budget.seconds !== undefined) {
      const left = o.budget.seconds * 1000 - this.baseElapsed;
      const stop = (): void => {
        this.budgetStop ??= { reason: "seconds", limit: o.budget.seconds!, used: Math.round(this.elapsedMs()) / 1000 };
        this.controller.abort(new BudgetStop(this.budgetStop));
      };
      if (left <= 0) stop();
      else this.wallTimer = setTimeout(stop, left);
      this.wallTimer?.unref?.();
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get model(): LanguageModel | undefined {
    return this.o.model;
  }

  get tools(): ToolBox {
    return this.o.tools;
  }

  get vars(): Record<string, string> {
    return this.o.vars ?? {};
  }

  elapsedMs(): number {
    return this.baseElapsed + (performance.now() - this.segmentStart);
  }

  dispose(): void {
    clearTimeout(this.wallTimer);
  }

  emit(e: AgentEvent): void {
    this.o.onEvent?.(e);
  }

  audit(threadId: string, type: AuditType, actor: string, data: JsonValue): void {
    this.auditLog.append(this.rootId, { threadId, type, actor, data });
  }

  /** Usage with the elapsed time brought up to date (what checkpoints and results carry). */
  usageNow(): RunUsage {
    this.usage.elapsedMs = Math.round(this.elapsedMs());
    return { ...this.usage };
  }

  persistRuntime(): void {
    this.store.updateRuntime(this.rootId, { usage: this.usageNow(), taint: this.taint });
  }

  /** The first budget that is spent, if any (the wall clock is handled by its timer). */
  spentBudget(): StopInfo | undefined {
    const b = this.o.budget;
    const u = this.usage;
    const tokens = u.inputTokens + u.outputTokens;
    if (b.tokens !== undefined && tokens >= b.tokens) return { reason: "tokens", limit: b.tokens, used: tokens };
    if (b.costUsd !== undefined && u.costUsd >= b.costUsd) return { reason: "cost", limit: b.costUsd, used: u.costUsd };
    if (b.seconds !== undefined && this.elapsedMs() >= b.seconds * 1000) return { reason: "seconds", limit: b.seconds, used: Math.round(this.elapsedMs()) / 1000 };
    return undefined;
  }

  checkBudget(extra?: "toolCall"): void {
    if (this.budgetStop) throw new BudgetStop(this.budgetStop);
    let spent = this.spentBudget();
    const b = this.o.budget;
    if (!spent && extra === "toolCall" && b.toolCalls !== undefined && this.usage.toolCalls >= b.toolCalls) spent = { reason: "toolCalls", limit: b.toolCalls, used: this.usage.toolCalls };
    if (spent) {
      this.budgetStop = spent;
      throw new BudgetStop(spent);
    }
  }

  /** Audits the part of a request's messages this thread has not logged yet. */
  newMessages(threadId: string, messages: GenerateRequest["messages"]): { skipped: number; messages: JsonValue } {
    const hashes = messages.map((m) => sha256(JSON.stringify(m)));
    const before = this.auditedMessages.get(threadId) ?? [];
    let same = 0;
    while (same < before.length && same < hashes.length && before[same] === hashes[same]) same++;
    this.auditedMessages.set(threadId, hashes);
    return { skipped: same, messages: messages.slice(same) as unknown as JsonValue };
  }

  retryPolicy(): RetryPolicy {
    return this.o.retry ?? DEFAULT_RETRY;
  }

  get policy(): RunPolicy {
    return this.o.policy ?? {};
  }

  get random(): (() => number) | undefined {
    return this.o.random;
  }
}
