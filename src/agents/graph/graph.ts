// Workflow graphs as data: typed state, nodes, edges, conditional edges, loops with a limit, parallel
// branches with a join, and subgraphs. A graph is built in code with `graph()` (or read from a JSON
// file, file.ts) and run by the runtime (runtime.ts), which saves a checkpoint after every node.
//
//   const g = graph({ name: "triage", state: z.object({ text: z.string(), label: z.string().optional() }) })
//     .node("classify", async (s, ctx) => ({ label: (await ctx.generate({ messages: [...] })).text }))
//     .node("escalate", ...)
//     .edge(START, "classify")
//     .conditional("classify", (s) => (s.label === "urgent" ? "escalate" : END), { targets: ["escalate", END] })
//     .edge("escalate", END)
//     .compile();
//
// Semantics (Pregel-like supersteps): the nodes scheduled together run concurrently on the same
// state; their updates are merged into it (a key's reducer combines values, otherwise the update
// replaces it and two updates of one key in the same superstep are an error); then every finished
// node's edges schedule the next set. `edge(["a", "b"], "c")` is a join: c runs once both a and b
// have finished since c last ran. A node runs at most `maxVisits` times per thread; at its limit the
// run goes to the node's `onLimit` instead, or stops cleanly (status budget_exceeded).
import type { z } from "zod";
import { sha256 } from "../../core/hash.js";
import { StrataError } from "../../core/errors.js";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../../model/types.js";
import type { AuditType } from "../store/audit.js";
import type { ToolBox } from "../tools/tool.js";
import type { AgentEvent, JsonValue, ToolRisk } from "../types.js";
import type { ApprovalDecision, ToolCallOutcome, ToolCallRequest } from "./calls.js";

export const START = "__start__";
export const END = "__end__";

export type State = Record<string, unknown>;
export type Reducer = (current: unknown, update: unknown) => unknown;

/** Ready reducers: by name in graph files, as functions in code. */
export const REDUCERS = {
  /** The update replaces the value (the default). */
  replace: (_current: unknown, update: unknown): unknown => update,
  /** Arrays are concatenated; a single value is appended. */
  append: (current: unknown, update: unknown): unknown => [...(Array.isArray(current) ? current : current === undefined || current === null ? [] : [current]), ...(Array.isArray(update) ? update : [update])],
  /** Numbers are added. */
  sum: (current: unknown, update: unknown): unknown => (typeof current === "number" ? current : 0) + (typeof update === "number" ? update : 0),
  /** Objects are merged, the update's keys winning. */
  merge: (current: unknown, update: unknown): unknown => ({ ...(current && typeof current === "object" ? current : {}), ...(update && typeof update === "object" ? update : {}) }),
  /** Arrays are merged without repeating values already present (compared as JSON). */
  union: (current: unknown, update: unknown): unknown => {
    const out = Array.isArray(current) ? [...(current as unknown[])] : [];
    const seen = new Set(out.map((v) => JSON.stringify(v)));
    for (const v of Array.isArray(update) ? update : [update]) {
      const k = JSON.stringify(v);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(v);
      }
    }
    return out;
  },
} satisfies Record<string, Reducer>;

export type ReducerName = keyof typeof REDUCERS;

export type NodeUpdate<S> = Partial<S> | void | undefined;
/** What a node receives besides the state (implemented by src/agents/graph/context.ts). */
export interface NodeContext {
  readonly threadId: string;
  /** The run (root thread) this node belongs to. */
  readonly runId: string;
  readonly node: string;
  /** Superstep number in this thread. */
  readonly step: number;
  /** How many times this node has run in this thread, this time included. */
  readonly visit: number;
  readonly signal: AbortSignal;
  /** Run variables (the CLI's --var key=value). */
  readonly vars: Readonly<Record<string, string>>;
  /** The run's language model, when it has one. */
  readonly model: LanguageModel | undefined;
  readonly tools: ToolBox;
  /** A model call: journaled, budgeted, retried on transient failures and audited. */
  generate(request: Omit<GenerateRequest, "signal">): Promise<GenerateResult>;
  /** One tool call; interrupts the run when it needs approval. */
  callTool(name: string, args: unknown, opts?: { callId?: string }): Promise<ToolCallOutcome>;
  /** Several calls (one model turn): runs those that may run, then interrupts for all that need approval. */
  callTools(calls: readonly ToolCallRequest[], opts?: { tools?: ToolBox }): Promise<ToolCallOutcome[]>;
  /** A human gate: returns the decision once made; interrupts the run until then. */
  approval(request: { id?: string; reason: string; payload?: JsonValue; risk?: ToolRisk }): Promise<ApprovalDecision>;
  /** Runs a graph as a child thread of this one (checkpointed on its own; resumed, not restarted). */
  runGraph<C extends State>(graph: Graph<C>, input: Partial<C>, opts?: { key?: string }): Promise<C>;
  /** Fences outside text for a prompt and screens it for instructions (tainting the run if found). */
  untrusted(text: string, source: string, value?: JsonValue): string;
  audit(type: AuditType, data: JsonValue): void;
  emit(event: AgentEvent): void;
}

export type NodeFn<S> = (state: S, ctx: NodeContext) => NodeUpdate<S> | Promise<NodeUpdate<S>>;
/** Picks the next node(s) from the state after a node ran; END ends that branch. */
export type Router<S> = (state: S) => string | readonly string[];

export type NodeKind = "function" | "agent" | "tool" | "model" | "subgraph" | "approval";

export interface NodeOptions {
  /** Most times the node may run in one thread (default: unlimited; the graph's maxSteps still holds). */
  maxVisits?: number;
  /** Where to go instead when the node has reached maxVisits (a node or END). Without it the run stops. */
  onLimit?: string;
  kind?: NodeKind;
  description?: string;
}

export interface NodeDef<S> {
  id: string;
  run: NodeFn<S>;
  kind: NodeKind;
  maxVisits: number;
  onLimit?: string;
  description?: string;
}

export interface EdgeDef {
  from: string[];
  to: string[];
}

export interface ConditionalDef<S> {
  from: string;
  route: Router<S>;
  /** The nodes it may choose (checked when the graph is compiled, and each route against them). */
  targets?: string[];
}

export interface GraphOptions<S extends State> {
  name: string;
  /** Checked on the input and after every superstep; also gives the state its type. */
  state?: z.ZodType<S>;
  reducers?: Partial<Record<keyof S & string, Reducer | ReducerName>>;
  /** Supersteps before the run stops cleanly (status budget_exceeded). Default 1,000. */
  maxSteps?: number;
  /** The run's `result` from its final state (default: the whole state). */
  output?: (state: S) => JsonValue;
  /** Extra text hashed into the graph's identity (e.g. a graph file's contents). */
  source?: string;
}

/** A compiled graph: immutable, checked, and identified by a hash of its structure. */
export interface Graph<S extends State = State> {
  readonly name: string;
  readonly hash: string;
  readonly nodes: ReadonlyMap<string, NodeDef<S>>;
  readonly edges: readonly EdgeDef[];
  readonly conditionals: readonly ConditionalDef<S>[];
  readonly reducers: Readonly<Record<string, Reducer>>;
  readonly stateSchema?: z.ZodType<S>;
  readonly maxSteps: number;
  readonly output: (state: S) => JsonValue;
}

const ID = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

function invalid(graphName: string, message: string, hint = "fix the graph definition"): StrataError {
  return new StrataError("GRAPH_INVALID", `graph ${graphName}: ${message}`, hint);
}

export class GraphBuilder<S extends State> {
  private readonly nodes = new Map<string, NodeDef<S>>();
  private readonly edges: EdgeDef[] = [];
  private readonly conditionals: ConditionalDef<S>[] = [];

  constructor(private readonly opts: GraphOptions<S>) {}

  node(id: string, run: NodeFn<S>, opts: NodeOptions = {}): this {
    if (!ID.test(id) || id === START || id === END) throw invalid(this.opts.name, `node id "${id}" is not allowed`, "use letters, digits, _ . : - (starting with a letter or _)");
    if (this.nodes.has(id)) throw invalid(this.opts.name, `two nodes are named "${id}"`);
    const maxVisits = opts.maxVisits ?? Number.POSITIVE_INFINITY;
    if (!(maxVisits >= 1)) throw invalid(this.opts.name, `node ${id}: maxVisits must be at least 1`);
    this.nodes.set(id, { id, run, kind: opts.kind ?? "function", maxVisits, onLimit: opts.onLimit, description: opts.description });
    return this;
  }

  /** An edge; several sources make a join, several targets fan out in parallel. */
  edge(from: string | readonly string[], to: string | readonly string[]): this {
    const f = typeof from === "string" ? [from] : [...from];
    const t = typeof to === "string" ? [to] : [...to];
    if (f.length === 0 || t.length === 0) throw invalid(this.opts.name, "an edge needs a source and a target");
    if (f.length > 1 && f.includes(START)) throw invalid(this.opts.name, "START cannot be part of a join");
    this.edges.push({ from: f, to: t });
    return this;
  }

  conditional(from: string, route: Router<S>, opts: { targets?: readonly string[] } = {}): this {
    this.conditionals.push({ from, route, targets: opts.targets ? [...opts.targets] : undefined });
    return this;
  }

  compile(): Graph<S> {
    const name = this.opts.name;
    const known = (id: string): boolean => id === START || id === END || this.nodes.has(id);
    for (const e of this.edges) {
      for (const id of [...e.from, ...e.to]) if (!known(id)) throw invalid(name, `an edge names node "${id}", which does not exist`, `nodes: ${[...this.nodes.keys()].join(", ")}`);
      if (e.from.includes(END)) throw invalid(name, "no edge may leave END");
      if (e.to.includes(START)) throw invalid(name, "no edge may lead to START");
    }
    for (const c of this.conditionals) {
      if (!known(c.from) || c.from === END) throw invalid(name, `a conditional edge leaves "${c.from}", which is not a node`);
      for (const t of c.targets ?? []) if (!known(t) || t === START) throw invalid(name, `the conditional edge from ${c.from} may go to "${t}", which is not a node`);
    }
    for (const n of this.nodes.values()) if (n.onLimit !== undefined && (!known(n.onLimit) || n.onLimit === START)) throw invalid(name, `node ${n.id}: onLimit "${n.onLimit}" is not a node`);
    const starts = this.edges.some((e) => e.from.includes(START)) || this.conditionals.some((c) => c.from === START);
    if (!starts) throw invalid(name, "no edge leaves START", 'add .edge(START, "<first node>")');
    const reducers: Record<string, Reducer> = {};
    for (const [key, r] of Object.entries(this.opts.reducers ?? {})) {
      if (typeof r === "function") reducers[key] = r as Reducer;
      else if (typeof r === "string" && Object.hasOwn(REDUCERS, r)) reducers[key] = REDUCERS[r as ReducerName];
      else throw invalid(name, `state key ${key}: unknown reducer "${String(r)}"`, `use one of ${Object.keys(REDUCERS).join(", ")}`);
    }
    const maxSteps = this.opts.maxSteps ?? 1000;
    if (!(maxSteps >= 1)) throw invalid(name, "maxSteps must be at least 1");
    const structure = JSON.stringify({
      name,
      nodes: [...this.nodes.values()].map((n) => [n.id, n.kind]),
      edges: this.edges,
      conditionals: this.conditionals.map((c) => [c.from, c.targets ?? null]),
      reducers: Object.keys(reducers).sort(),
      source: this.opts.source ?? null,
    });
    return Object.freeze({
      name,
      hash: sha256(structure).slice(0, 16),
      nodes: new Map(this.nodes),
      edges: [...this.edges],
      conditionals: [...this.conditionals],
      reducers,
      stateSchema: this.opts.state,
      maxSteps,
      output: this.opts.output ?? ((s: S) => s as unknown as JsonValue),
    });
  }
}

/** Starts a graph definition. */
export function graph<S extends State>(opts: GraphOptions<S>): GraphBuilder<S> {
  return new GraphBuilder<S>(opts);
}
