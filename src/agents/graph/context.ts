// What a node can do besides returning an update: call the run's model and tools, ask a person,
// run a subgraph. Every such call goes through the run context, which is where the guarantees live:
// - the journal: a model or tool call that finished is never repeated when the node runs again (after
//   an approval, a crash, a budget stop); its recorded result is returned instead;
// - approvals: `write`/`external` tools (and any tool after untrusted content with instructions)
//   wait for a person; the pending call is stored and the run interrupts;
// - budgets: tokens, cost, tool calls and wall time are checked before each call and stop the run
//   cleanly when spent;
// - retries with backoff for transient model and tool failures;
// - the audit log: requests, responses, calls, results, approvals and budget events.
import { StrataError, toStrataError } from "../../core/errors.js";
import { sha256 } from "../../core/hash.js";
import { withRetry } from "../../core/retry.js";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../../model/types.js";
import { detectInstructions, fenceUntrusted } from "../guardrails/untrusted.js";
import type { AgentStore, Taint } from "../store/agent-store.js";
import type { AuditType } from "../store/audit.js";
import { invokeTool, isTransient, validateArgs } from "../tools/execute.js";
import type { ToolBox } from "../tools/tool.js";
import type { AgentEvent, JsonValue, PendingCall, ToolRisk } from "../types.js";
import type { ApprovalDecision, ToolCallOutcome, ToolCallRequest } from "./calls.js";
import type { Graph, NodeContext, State } from "./graph.js";
import { gateToolCall, humanGate, pendingCalls } from "./approval-gate.js";
import { BudgetStop, type RunContext } from "./run-context.js";

/** Thrown by a node to pause the run until a person decides the pending calls. */
export class GraphInterrupt extends Error {
  constructor(readonly pending: PendingCall[]) {
    super(`waiting for approval of ${pending.map((p) => p.callId).join(", ")}`);
    this.name = "GraphInterrupt";
  }
}

const PENDING = Symbol("pending");

/** A NodeContext for one execution of a node of the run `rc`. */
export function nodeContext(rc: RunContext, threadId: string, node: string, step: number, visit: number): NodeContext {
  return new NodeRunContext(rc, threadId, node, step, visit);
}

/** Every string inside a JSON value (object keys included), in order. */
function stringLeaves(value: JsonValue, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringLeaves(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringLeaves(v, out);
    }
  }
  return out;
}

function resultText(value: JsonValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

class NodeRunContext implements NodeContext {
  private calls = 0;
  private generations = 0;
  private gates = 0;

  constructor(
    private readonly rc: RunContext,
    readonly threadId: string,
    readonly node: string,
    readonly step: number,
    readonly visit: number,
  ) {}

  get runId(): string {
    return this.rc.rootId;
  }
  get signal(): AbortSignal {
    return this.rc.signal;
  }
  get vars(): Readonly<Record<string, string>> {
    return this.rc.vars;
  }
  get model(): LanguageModel | undefined {
    return this.rc.model;
  }
  get tools(): ToolBox {
    return this.rc.tools;
  }

  emit(event: AgentEvent): void {
    this.rc.emit(event);
  }

  audit(type: AuditType, data: JsonValue): void {
    this.rc.audit(this.threadId, type, this.node, data);
  }

  private get store(): AgentStore {
    return this.rc.store;
  }

  async generate(request: Omit<GenerateRequest, "signal">): Promise<GenerateResult> {
    const key = `model:${this.node}#${this.visit}.${++this.generations}`;
    const done = this.store.journalGet(this.threadId, key);
    if (done?.status === "done") return done.result as unknown as GenerateResult;
    const model = this.rc.model;
    if (!model) throw new StrataError("USAGE", `node ${this.node} calls a language model but the run has none`, "pass a model (--model <ref>)");
    this.rc.checkBudget();
    const req: GenerateRequest = { ...request, signal: this.rc.signal };
    const budget = this.rc.o.budget;
    if (budget.tokens !== undefined) {
      const left = Math.max(1, budget.tokens - this.rc.usage.inputTokens - this.rc.usage.outputTokens);
      req.maxTokens = Math.min(req.maxTokens ?? left, left);
    }
    const delta = this.rc.newMessages(`${this.threadId}/${this.node}`, request.messages);
    this.audit("model.request", {
      key,
      model: model.id,
      skippedMessages: delta.skipped,
      messages: delta.messages,
      tools: (request.tools ?? []).map((t) => t.name),
      toolChoice: (request.toolChoice ?? null) as JsonValue,
      responseSchema: (request.responseSchema ?? null) as JsonValue,
      maxTokens: req.maxTokens ?? null,
    });
    const policy = this.rc.retryPolicy();
    let result: GenerateResult;
    try {
      result = await withRetry(() => model.generate(req), {
        ...policy,
        signal: this.rc.signal,
        random: this.rc.random,
        retryable: (e) => isTransient(toStrataError(e, "INTERNAL")),
        onFailure: (e, attempt, delayMs) => {
          const err = toStrataError(e, "INTERNAL");
          this.audit("model.error", { key, attempt: attempt + 1, code: err.code, message: err.message, retryInMs: delayMs === null ? null : Math.round(delayMs) });
          if (delayMs !== null) this.emit({ type: "retry", threadId: this.threadId, what: `model call in ${this.node}`, attempt: attempt + 1, delayMs, error: err.message });
        },
      });
    } catch (e) {
      if (this.rc.signal.aborted) throw this.rc.budgetStop ? new BudgetStop(this.rc.budgetStop) : toStrataError(e, "ABORTED");
      throw toStrataError(e, "INTERNAL");
    }
    const u = this.rc.usage;
    u.modelCalls += 1;
    u.inputTokens += result.usage.inputTokens;
    u.outputTokens += result.usage.outputTokens;
    if (result.usage.costUsd === undefined) u.unpricedCalls += 1;
    else u.costUsd += result.usage.costUsd;
    const stored = { text: result.text, toolCalls: result.toolCalls, finishReason: result.finishReason, usage: result.usage, model: result.model, json: result.json ?? null, latencyMs: result.latencyMs } as unknown as JsonValue;
    this.store.db.transaction(() => {
      this.store.journalStart(this.threadId, key, "model", model.id, null);
      this.store.journalFinish(this.threadId, key, stored);
      this.rc.persistRuntime();
    })();
    this.audit("model.response", stored);
    this.emit({ type: "model-call", threadId: this.threadId, node: this.node, inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, toolCalls: result.toolCalls.length });
    return result;
  }

  async callTool(name: string, args: unknown, opts: { callId?: string } = {}): Promise<ToolCallOutcome> {
    const callId = opts.callId ?? `${this.node}#${this.visit}.${++this.calls}`;
    const out = await this.runCall({ callId, name, args }, this.rc.tools);
    if (out === PENDING) throw new GraphInterrupt(this.pendingFor([callId]));
    return out;
  }

  async callTools(calls: readonly ToolCallRequest[], opts: { tools?: ToolBox } = {}): Promise<ToolCallOutcome[]> {
    const outcomes: ToolCallOutcome[] = [];
    const waiting: string[] = [];
    for (const call of calls) {
      const out = await this.runCall(call, opts.tools ?? this.rc.tools);
      if (out === PENDING) waiting.push(call.callId);
      else outcomes.push(out);
    }
    if (waiting.length) throw new GraphInterrupt(this.pendingFor(waiting));
    return outcomes;
  }

  private pendingFor(callIds: string[]): PendingCall[] {
    return pendingCalls(this.store, this.threadId, callIds);
  }

  private finishWithoutRunning(key: string, out: ToolCallOutcome): ToolCallOutcome {
    this.store.journalStart(this.threadId, key, "tool", out.tool, null);
    this.store.journalFinish(this.threadId, key, out as unknown as JsonValue);
    this.audit("tool.result", { callId: out.callId, tool: out.tool, ok: false, error: (out.error ?? null) as JsonValue, rejected: (out.rejected ?? null) as JsonValue });
    this.emit({ type: "tool-call", threadId: this.threadId, callId: out.callId, tool: out.tool, ok: false, replayed: false });
    return out;
  }

  private errorOutcome(call: ToolCallRequest, e: StrataError): ToolCallOutcome {
    const error = { code: e.code, message: e.message, hint: e.hint };
    return { callId: call.callId, tool: call.name, ok: false, error, content: JSON.stringify({ error }), replayed: false };
  }

  private async runCall(call: ToolCallRequest, box: ToolBox): Promise<ToolCallOutcome | typeof PENDING> {
    const key = `tool:${call.callId}`;
    const j = this.store.journalGet(this.threadId, key);
    if (j?.status === "done") {
      const out = { ...(j.result as unknown as ToolCallOutcome), replayed: true };
      this.emit({ type: "tool-call", threadId: this.threadId, callId: call.callId, tool: call.name, ok: out.ok, replayed: true });
      return out;
    }
    const tool = box.find(call.name);
    if (!tool) return this.finishWithoutRunning(key, this.errorOutcome(call, new StrataError("TOOL_UNKNOWN", `there is no tool named "${call.name}"`, `use one of: ${box.names().join(", ") || "(none)"}`)));
    let args: unknown;
    try {
      args = validateArgs(tool, call.args);
    } catch (e) {
      return this.finishWithoutRunning(key, this.errorOutcome(call, toStrataError(e)));
    }
    if (this.rc.taint.length && this.rc.policy.untrustedInstructions === "block") {
      return this.finishWithoutRunning(key, this.errorOutcome(call, new StrataError("GUARDRAIL_BLOCKED", `${call.name} was not run: it follows untrusted content with instructions`, "answer from what you have without calling tools")));
    }
    const gate = gateToolCall(this.rc, { threadId: this.threadId, node: this.node }, call.callId, tool, args, j?.status === "started");
    if (gate.kind === "pending") return PENDING;
    if (gate.kind === "rejected") return this.finishWithoutRunning(key, gate.outcome);
    const approvedBy = gate.approvedBy;
    if (gate.editedArgs !== undefined) {
      try {
        args = validateArgs(tool, gate.editedArgs);
      } catch (e) {
        return this.finishWithoutRunning(key, this.errorOutcome(call, toStrataError(e)));
      }
    }
    this.rc.checkBudget("toolCall");
    this.store.db.transaction(() => {
      this.store.journalStart(this.threadId, key, "tool", tool.name, args);
      this.rc.usage.toolCalls += 1;
      this.rc.persistRuntime();
    })();
    this.audit("tool.call", { callId: call.callId, tool: tool.name, args: args as JsonValue, risk: tool.risk, approvedBy, attempt: (j?.attempts ?? 0) + 1 });
    const r = await invokeTool(
      tool,
      args,
      { signal: this.rc.signal, idempotencyKey: `idem_${sha256(`${this.rc.rootId}|${this.threadId}|${call.callId}`).slice(0, 32)}`, callId: call.callId, threadId: this.threadId, attempt: (j?.attempts ?? 0) + 1 },
      {
        retry: this.rc.retryPolicy(),
        random: this.rc.random,
        onRetry: (attempt, delayMs, error) => this.emit({ type: "retry", threadId: this.threadId, what: `tool ${tool.name}`, attempt, delayMs, error: error.message }),
      },
    ).catch((e: unknown) => {
      if (this.rc.budgetStop) throw new BudgetStop(this.rc.budgetStop);
      throw e;
    });
    let out: ToolCallOutcome;
    if (r.ok) {
      const text = resultText(r.value);
      const content = tool.untrustedOutput ? this.untrusted(text, `tool ${tool.name} (call ${call.callId})`, r.value) : text;
      out = { callId: call.callId, tool: tool.name, ok: true, value: r.value, content, replayed: false };
    } else {
      out = { callId: call.callId, tool: tool.name, ok: false, error: r.error, content: JSON.stringify({ error: r.error }), replayed: false };
    }
    this.store.journalFinish(this.threadId, key, out as unknown as JsonValue);
    this.audit("tool.result", { callId: call.callId, tool: tool.name, ok: out.ok, value: out.value ?? null, error: (out.error ?? null) as JsonValue, truncated: r.ok ? r.truncated : false });
    this.emit({ type: "tool-call", threadId: this.threadId, callId: call.callId, tool: tool.name, ok: out.ok, replayed: false });
    return out;
  }

  untrusted(text: string, source: string, value?: JsonValue): string {
    // Screen the strings themselves, not their JSON escapes ("\"name\"" hides a "name").
    const screened = value !== undefined && typeof value !== "string" ? stringLeaves(value).join("\n") : text;
    const findings = detectInstructions(screened, this.rc.tools.names());
    if (findings.length) {
      const taint: Taint = { source, findings: findings.map((f) => f.excerpt), at: this.store.timestamp() };
      this.rc.taint.push(taint);
      this.rc.persistRuntime();
      this.audit("guardrail.flag", { source, findings: findings.map((f) => ({ kind: f.kind, excerpt: f.excerpt })) });
      this.emit({ type: "guardrail", threadId: this.threadId, message: `instructions in untrusted content from ${source}: "${findings[0]!.excerpt}"` });
    }
    return fenceUntrusted(text, source).text;
  }

  async approval(request: { id?: string; reason: string; payload?: JsonValue; risk?: ToolRisk }): Promise<ApprovalDecision> {
    const callId = request.id ?? `${this.node}#${this.visit}.gate${++this.gates}`;
    const a = humanGate(this.rc, { threadId: this.threadId, node: this.node }, callId, request);
    if (a.status === "pending") throw new GraphInterrupt(this.pendingFor([callId]));
    return { approved: a.status === "approved", by: a.decidedBy ?? "?", payload: a.editedArgs ?? a.args, comment: a.comment };
  }

  runGraph<C extends State>(graph: Graph<C>, input: Partial<C>, opts: { key?: string } = {}): Promise<C> {
    const childId = `${this.threadId}/${this.node}.${this.visit}${opts.key ? `.${opts.key}` : ""}`;
    return this.rc.o.executeChild(graph, childId, this.threadId, input);
  }
}
