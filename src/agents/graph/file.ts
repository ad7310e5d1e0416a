// Graphs from JSON files: the same nodes, edges, conditions and limits as in code, as data.
//
// {
//   "version": 1,
//   "name": "triage",
//   "modules": ["./plugin.ts"],                    // optional: tools and functions by name
//   "vars": { "db": "cases.db" },                  // defaults for --var key=value
//   "state": { "type": "object", "properties": { ... } },   // JSON Schema of the state
//   "reducers": { "log": "append" },
//   "input": { "count": 0 },                       // default input
//   "nodes": {
//     "search": { "type": "tool", "tool": "kb_search", "args": { "query": "{{state.question}}" }, "output": "hits" },
//     "draft":  { "type": "model", "prompt": "Summarise: {{json state.hits}}", "output": "summary" },
//     "answer": { "type": "agent", "goal": "{{state.question}}", "tools": ["kb_search"], "output": "answer" },
//     (an agent node may name a "pattern": "planner-solver", "reflexion" or "supervisor")
//     "check":  { "type": "approval", "reason": "publish {{state.summary}}?", "output": "decision" },
//     "sub":    { "type": "graph", "file": "./other.json", "input": { "q": "{{state.question}}" }, "output": "sub" },
//     "step":   { "type": "function", "fn": "nextStory", "maxVisits": 20, "onLimit": "END" }
//   },
//   "edges": [
//     { "from": "START", "to": "search" },
//     { "from": "search", "to": ["draft", "answer"] },            // parallel
//     { "from": ["draft", "answer"], "to": "check" },             // join
//     { "from": "check", "branches": [{ "when": { "path": "decision.approved", "op": "eq", "value": true }, "to": "END" }], "default": "draft" }
//   ],
//   "output": "summary",
//   "maxSteps": 100
// }
//
// Templates: "{{state.a.b}}", "{{vars.x}}", "{{json state.x}}". A string that is one template
// alone takes the value itself (an object stays an object); inside other text values are printed.
import { readFileSync, realpathSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { sha256 } from "../../core/hash.js";
import type { ChatMessage, JsonSchema } from "../../model/types.js";
import { patternGraph, RUN_PATTERNS } from "../patterns/by-name.js";
import { defineTool, ToolBox, type Tool } from "../tools/tool.js";
import type { JsonValue } from "../types.js";
import { END, graph, REDUCERS, START, type Graph, type NodeFn, type NodeKind, type ReducerName, type State } from "./graph.js";

export const GRAPH_FILE_VERSION = 1;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

export type Condition =
  | { path: string; op: "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "matches" | "exists" | "missing" | "empty" | "nonEmpty"; value?: JsonValue }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ path: z.string().min(1), op: z.enum(["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "matches", "exists", "missing", "empty", "nonEmpty"]), value: jsonValue.optional() }).strict(),
    z.object({ all: z.array(conditionSchema).min(1) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1) }).strict(),
    z.object({ not: conditionSchema }).strict(),
  ]),
);

const limits = { maxVisits: z.number().int().positive().optional(), onLimit: z.string().optional(), description: z.string().optional() };
const nodeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("function"), fn: z.string().min(1), ...limits }).strict(),
  z.object({ type: z.literal("tool"), tool: z.string().min(1), args: jsonValue.default({}), output: z.string().optional(), ...limits }).strict(),
  z
    .object({
      type: z.literal("model"),
      prompt: z.string().min(1),
      system: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      output: z.string(),
      maxTokens: z.number().int().positive().optional(),
      temperature: z.number().min(0).max(2).optional(),
      ...limits,
    })
    .strict(),
  z
    .object({
      type: z.literal("agent"),
      goal: z.string().min(1),
      /** "agent" (default), "planner-solver", "reflexion" or "supervisor" (patterns/by-name.ts). */
      pattern: z.enum(RUN_PATTERNS).optional(),
      tools: z.array(z.string()).optional(),
      system: z.string().optional(),
      maxSteps: z.number().int().positive().optional(),
      output: z.string(),
      ...limits,
    })
    .strict(),
  z.object({ type: z.literal("graph"), file: z.string().min(1), input: z.record(z.string(), jsonValue).default({}), output: z.string().optional(), ...limits }).strict(),
  z.object({ type: z.literal("approval"), reason: z.string().min(1), payload: jsonValue.optional(), output: z.string().optional(), ...limits }).strict(),
  z.object({ type: z.literal("set"), values: z.record(z.string(), jsonValue), ...limits }).strict(),
]);

const targets = z.union([z.string(), z.array(z.string()).min(1)]);
const edgeSchema = z.union([
  z.object({ from: targets, to: targets }).strict(),
  z.object({ from: z.string(), branches: z.array(z.object({ when: conditionSchema, to: targets }).strict()).min(1), default: targets.optional() }).strict(),
]);

export const graphFileSchema = z
  .object({
    version: z.literal(GRAPH_FILE_VERSION),
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/),
    description: z.string().optional(),
    modules: z.array(z.string()).default([]),
    vars: z.record(z.string(), z.string()).default({}),
    state: z.record(z.string(), z.unknown()).optional(),
    reducers: z.record(z.string(), z.enum(Object.keys(REDUCERS) as [ReducerName, ...ReducerName[]])).default({}),
    input: z.record(z.string(), jsonValue).default({}),
    nodes: z.record(z.string(), nodeSchema),
    edges: z.array(edgeSchema).min(1),
    output: z.string().optional(),
    maxSteps: z.number().int().positive().optional(),
  })
  .strict();

export type GraphFile = z.infer<typeof graphFileSchema>;
export type GraphFileNode = z.infer<typeof nodeSchema>;

/** What a graph module's default export receives: Strata's own helpers (no second copy is imported). */
export interface GraphPluginApi {
  defineTool: typeof defineTool;
  z: typeof z;
  StrataError: typeof StrataError;
}

export interface GraphPlugin {
  tools?: Tool[];
  functions?: Record<string, NodeFn<State>>;
}

/** The default export of a graph module. */
export type GraphPluginFactory = (api: GraphPluginApi, options: { vars: Readonly<Record<string, string>>; baseDir: string }) => GraphPlugin | Promise<GraphPlugin>;

export interface LoadGraphOptions {
  /** Tools available to the graph besides those its modules define (built-ins). */
  tools?: ToolBox;
  /** Functions available to "function" nodes besides those its modules define. */
  functions?: Record<string, NodeFn<State>>;
  /** Run variables (override the file's `vars`). */
  vars?: Record<string, string>;
  /** Where relative paths in variables are resolved by modules (default: the current directory). */
  baseDir?: string;
  /** Imports a module (tests and the CLI inject one that can load TypeScript). */
  importModule?: (url: string) => Promise<unknown>;
}

export interface LoadedGraph {
  graph: Graph<State>;
  file: GraphFile;
  path: string;
  /** Every tool the graph may use: the given ones plus the modules'. */
  tools: ToolBox;
  /** The file's defaults merged with the given variables. */
  vars: Record<string, string>;
  /** The file's default input. */
  input: Record<string, JsonValue>;
}

function fileError(path: string, message: string, hint = "fix the graph file (see `strata agent run --help` for its format)"): StrataError {
  return new StrataError("GRAPH_INVALID", `${path}: ${message}`, hint);
}

// ---------- templates and conditions ----------

/** The value at a dot path ("a.b.0.c"; ".length" of arrays and strings). */
export function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const part of path.split(".")) {
    if (v === null || v === undefined) return undefined;
    if (part === "length" && (Array.isArray(v) || typeof v === "string")) v = v.length;
    else if (Array.isArray(v)) v = /^\d+$/.test(part) ? v[Number(part)] : undefined;
    else if (typeof v === "object") v = Object.hasOwn(v as object, part) ? (v as Record<string, unknown>)[part] : undefined;
    else return undefined;
  }
  return v;
}

const TEMPLATE = /\{\{\s*(json\s+)?((?:state|vars)(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;

/** Fills templates in a value (strings inside arrays and objects too). */
export function renderTemplate(value: JsonValue, scope: { state: unknown; vars: Record<string, string> }): JsonValue {
  if (typeof value === "string") {
    const whole = /^\{\{\s*(json\s+)?((?:state|vars)(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}$/.exec(value);
    if (whole) {
      const v = valueAt(scope, whole[2]!);
      return whole[1] ? JSON.stringify(v ?? null) : ((v ?? null) as JsonValue);
    }
    return value.replace(TEMPLATE, (_m, json: string | undefined, path: string) => {
      const v = valueAt(scope, path);
      if (json) return JSON.stringify(v ?? null);
      return v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => renderTemplate(v, scope));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderTemplate(v, scope)]));
  return value;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
}

/** Evaluates a condition against the state. */
export function evaluateCondition(c: Condition, state: unknown): boolean {
  if ("all" in c) return c.all.every((x) => evaluateCondition(x, state));
  if ("any" in c) return c.any.some((x) => evaluateCondition(x, state));
  if ("not" in c) return !evaluateCondition(c.not, state);
  const v = valueAt(state, c.path);
  const eq = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  switch (c.op) {
    case "eq":
      return eq(v, c.value);
    case "ne":
      return !eq(v, c.value);
    case "gt":
      return typeof v === "number" && typeof c.value === "number" && v > c.value;
    case "gte":
      return typeof v === "number" && typeof c.value === "number" && v >= c.value;
    case "lt":
      return typeof v === "number" && typeof c.value === "number" && v < c.value;
    case "lte":
      return typeof v === "number" && typeof c.value === "number" && v <= c.value;
    case "in":
      return Array.isArray(c.value) && c.value.some((x) => eq(x, v));
    case "contains":
      return Array.isArray(v) ? v.some((x) => eq(x, c.value)) : typeof v === "string" && typeof c.value === "string" && v.includes(c.value);
    case "matches":
      return typeof v === "string" && typeof c.value === "string" && new RegExp(c.value).test(v);
    case "exists":
      return v !== undefined;
    case "missing":
      return v === undefined;
    case "empty":
      return isEmpty(v);
    case "nonEmpty":
      return !isEmpty(v);
  }
}

// ---------- loading ----------

function readGraphFile(path: string): GraphFile & { __text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new StrataError("NOT_FOUND", `cannot read graph file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "check the path");
  }
  if (/\.ya?ml$/i.test(path)) throw fileError(path, "YAML graph files are not supported", "write the graph as JSON (the same structure)");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw fileError(path, `not valid JSON: ${(e as Error).message}`);
  }
  const r = graphFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw fileError(path, `${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return { ...r.data, __text: text };
}

const endpoint = (id: string): string => (id === "START" ? START : id === "END" ? END : id);
const list = (t: string | string[]): string[] => (typeof t === "string" ? [t] : t).map(endpoint);

async function defaultImport(url: string): Promise<unknown> {
  return import(url);
}

async function loadModules(file: GraphFile, path: string, o: LoadGraphOptions, vars: Record<string, string>): Promise<GraphPlugin[]> {
  const api: GraphPluginApi = { defineTool, z, StrataError };
  const out: GraphPlugin[] = [];
  for (const m of file.modules) {
    const modPath = resolve(dirname(path), m);
    let mod: unknown;
    try {
      mod = await (o.importModule ?? defaultImport)(pathToFileURL(modPath).href);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const hint =
        code === "ERR_UNKNOWN_FILE_EXTENSION" && extname(modPath) === ".ts"
          ? "TypeScript modules need a loader: run with node --import tsx, or compile the module to .js"
          : code === "ERR_MODULE_NOT_FOUND"
            ? "check the module path (relative to the graph file)"
            : "fix the module so that it imports";
      throw new StrataError("GRAPH_INVALID", `${path}: module ${m} could not be loaded: ${(e as Error).message.split("\n")[0]}`, hint, { cause: e });
    }
    const factory = (mod as { default?: unknown }).default;
    if (typeof factory !== "function") throw fileError(path, `module ${m} has no default export function (api, options) => ({ tools, functions })`);
    const plugin = (await (factory as GraphPluginFactory)(api, { vars, baseDir: o.baseDir ?? process.cwd() })) ?? {};
    out.push(plugin);
  }
  return out;
}

function modelNode(n: Extract<GraphFileNode, { type: "model" }>, id: string, path: string): NodeFn<State> {
  let validate: z.ZodType | undefined;
  if (n.schema) {
    try {
      validate = z.fromJSONSchema(n.schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (e) {
      throw fileError(path, `node ${id}: its schema cannot be used: ${(e as Error).message}`);
    }
  }
  return async (state, ctx) => {
    const scope = { state, vars: ctx.vars as Record<string, string> };
    const messages: ChatMessage[] = [];
    if (n.system) messages.push({ role: "system", content: String(renderTemplate(n.system, scope)) });
    messages.push({ role: "user", content: String(renderTemplate(n.prompt, scope)) });
    const r = await ctx.generate({ messages, responseSchema: n.schema as JsonSchema | undefined, maxTokens: n.maxTokens ?? 512, temperature: n.temperature ?? 0 });
    if (!validate) return { [n.output]: r.text };
    const parsed = validate.safeParse(r.json);
    if (!parsed.success) throw new StrataError("MODEL_OUTPUT_INVALID", `node ${id}: the model's reply does not match the node's schema: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`, "use a model that follows JSON schemas, or loosen the schema");
    return { [n.output]: parsed.data };
  };
}

interface Built {
  graph: Graph<State>;
  tools: ToolBox;
}

async function build(path: string, o: LoadGraphOptions, seen: string[], vars: Record<string, string>, tools: ToolBox, functions: Record<string, NodeFn<State>>): Promise<Built & { file: GraphFile }> {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    throw new StrataError("NOT_FOUND", `cannot read graph file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "check the path (subgraph files are relative to the file that names them)");
  }
  if (seen.includes(real)) throw fileError(path, `graph files include each other in a cycle: ${[...seen, real].join(" → ")}`);
  const file = readGraphFile(real);
  const allVars = { ...file.vars, ...vars };
  for (const plugin of await loadModules(file, real, o, allVars)) {
    for (const t of plugin.tools ?? []) if (!tools.has(t.name)) tools.add(t);
    for (const [name, fn] of Object.entries(plugin.functions ?? {})) functions[name] = fn;
  }
  let schema: z.ZodType<State> | undefined;
  if (file.state) {
    try {
      schema = z.fromJSONSchema(file.state as Parameters<typeof z.fromJSONSchema>[0]) as unknown as z.ZodType<State>;
    } catch (e) {
      throw fileError(real, `state: the schema cannot be used: ${(e as Error).message}`);
    }
  }
  const moduleIds = file.modules.map((m) => resolve(dirname(real), m)).join("|");
  const b = graph<State>({
    name: file.name,
    state: schema,
    reducers: file.reducers,
    maxSteps: file.maxSteps,
    output: file.output ? (s) => (valueAt(s, file.output!) ?? null) as JsonValue : undefined,
    source: sha256(file.__text + moduleIds),
  });
  for (const [id, n] of Object.entries(file.nodes)) {
    const opts = { maxVisits: n.maxVisits, onLimit: n.onLimit === undefined ? undefined : endpoint(n.onLimit), description: n.description, kind: (n.type === "set" ? "function" : n.type === "graph" ? "subgraph" : n.type) as NodeKind };
    const where = `node ${id}`;
    switch (n.type) {
      case "function": {
        const fn = functions[n.fn];
        if (!fn) throw fileError(real, `${where}: no function "${n.fn}"`, Object.keys(functions).length ? `functions from the graph's modules: ${Object.keys(functions).join(", ")}` : 'define it in a module listed under "modules"');
        b.node(id, fn, opts);
        break;
      }
      case "tool": {
        if (!tools.has(n.tool)) throw new StrataError("TOOL_UNKNOWN", `${real}: ${where} uses tool "${n.tool}", which is not available`, tools.names().length ? `available tools: ${tools.names().join(", ")} (enable more with --tools)` : "enable it with --tools, or define it in a module");
        b.node(
          id,
          async (state, ctx) => {
            const args = renderTemplate(n.args, { state, vars: ctx.vars as Record<string, string> });
            const out = await ctx.callTool(n.tool, args);
            if (!out.ok && !n.output) throw new StrataError((out.error?.code ?? "TOOL_FAILED") as StrataError["code"], `${where}: ${out.error?.message ?? "the tool failed"}`, out.error?.hint ?? "");
            return n.output ? { [n.output]: out.ok ? out.value : { error: out.error ?? null, rejected: out.rejected ?? null } } : {};
          },
          opts,
        );
        break;
      }
      case "model":
        b.node(id, modelNode(n, id, real), opts);
        break;
      case "agent": {
        const box = n.tools ? tools.pick(n.tools.map((t) => t)) : tools;
        const agent = patternGraph(n.pattern ?? "agent", { tools: box, system: n.system, maxSteps: n.maxSteps, name: `${file.name}.${id}` }, box);
        b.node(
          id,
          async (state, ctx) => {
            const goal = String(renderTemplate(n.goal, { state, vars: ctx.vars as Record<string, string> }));
            const final = await ctx.runGraph(agent.graph, agent.input(goal));
            return { [n.output]: agent.graph.output(final) };
          },
          opts,
        );
        break;
      }
      case "graph": {
        const child = await build(resolve(dirname(real), n.file), o, [...seen, real], vars, tools, functions);
        b.node(
          id,
          async (state, ctx) => {
            const input = renderTemplate(n.input, { state, vars: ctx.vars as Record<string, string> }) as Record<string, unknown>;
            const final = await ctx.runGraph(child.graph, input);
            return n.output ? { [n.output]: child.graph.output(final) } : {};
          },
          opts,
        );
        break;
      }
      case "approval":
        b.node(
          id,
          async (state, ctx) => {
            const scope = { state, vars: ctx.vars as Record<string, string> };
            const d = await ctx.approval({ reason: String(renderTemplate(n.reason, scope)), payload: n.payload === undefined ? null : renderTemplate(n.payload, scope) });
            return n.output ? { [n.output]: { approved: d.approved, by: d.by, payload: d.payload, comment: d.comment } } : {};
          },
          opts,
        );
        break;
      case "set":
        b.node(id, (state, ctx) => renderTemplate(n.values, { state, vars: ctx.vars as Record<string, string> }) as Record<string, unknown>, opts);
        break;
    }
  }
  for (const e of file.edges) {
    if ("branches" in e) {
      const branches = e.branches.map((br) => ({ when: br.when, to: list(br.to) }));
      const fallback = e.default === undefined ? [END] : list(e.default);
      const all = [...new Set([...branches.flatMap((br) => br.to), ...fallback])];
      b.conditional(endpoint(e.from), (s) => branches.find((br) => evaluateCondition(br.when, s))?.to ?? fallback, { targets: all });
    } else b.edge(list(e.from), list(e.to));
  }
  try {
    return { graph: b.compile(), tools, file };
  } catch (e) {
    if (e instanceof StrataError) throw new StrataError(e.code, `${real}: ${e.message}`, e.hint);
    throw e;
  }
}

/** Reads a JSON graph file (and the modules and subgraph files it names) into a runnable graph. */
export async function loadGraphFile(path: string, o: LoadGraphOptions = {}): Promise<LoadedGraph> {
  const abs = resolve(path);
  const tools = new ToolBox(o.tools?.list() ?? []);
  const functions = { ...(o.functions ?? {}) };
  const built = await build(abs, o, [], o.vars ?? {}, tools, functions);
  return { graph: built.graph, file: built.file, path: abs, tools: built.tools, vars: { ...built.file.vars, ...(o.vars ?? {}) }, input: built.file.input };
}
