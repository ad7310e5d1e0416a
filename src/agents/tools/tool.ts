// A tool is a typed function a model may call: a name and description for the model, a zod schema
// its arguments are validated against before it runs, a risk that decides whether a person must
// approve it, a time limit, a cap on the size of what it returns, and whether it honours an
// idempotency key (so a resumed run can call it again without doing its side effect twice).
//
//   const add = defineTool({
//     name: "add", description: "Adds two numbers", risk: "read",
//     input: z.object({ a: z.number(), b: z.number() }),
//     run: ({ a, b }) => a + b,
//   });
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import type { JsonSchema, ToolDefinition } from "../../model/types.js";
import type { ToolRisk } from "../types.js";

export interface ToolContext {
  signal: AbortSignal;
  /**
   * The same for every attempt of one call, in this process or after a crash and resume. A tool with
   * side effects records it with the effect (e.g. a UNIQUE column) and does nothing when it is seen
   * again; it is then safe to mark the tool `idempotent`.
   */
  idempotencyKey: string;
  callId: string;
  threadId: string;
  /** 1 for the first attempt; higher when a retry or a resume runs the call again. */
  attempt: number;
}

export interface ToolSpec<I extends z.ZodType> {
  /** Letters, digits, `_`, `-`, `.`; at most 64 characters (what providers accept). */
  name: string;
  description: string;
  input: I;
  risk: ToolRisk;
  /** Ask a person before every call. Default: true for `write` and `external` tools. */
  requiresApproval?: boolean;
  /** Default 30 s. */
  timeoutMs?: number;
  /** The JSON of a result longer than this is cut (default 16,000 characters). */
  maxResultChars?: number;
  /** The tool honours `ctx.idempotencyKey`: repeating a call with the same key has no further effect. Default: true for `read` tools. */
  idempotent?: boolean;
  /** What it returns is outside data (documents, pages, files, rows) and is fenced as untrusted. Default true. */
  untrustedOutput?: boolean;
  /** JSON Schema shown to the model; derived from `input` when absent (pass the original for tools described by one, e.g. MCP). */
  parameters?: JsonSchema;
  /** Returns a JSON value (or a string). Throw a StrataError for a failure the model should read. */
  run(args: z.output<I>, ctx: ToolContext): unknown;
}

/** A tool with its types erased, as the runtime holds it. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType;
  readonly risk: ToolRisk;
  readonly requiresApproval: boolean;
  readonly timeoutMs: number;
  readonly maxResultChars: number;
  readonly idempotent: boolean;
  readonly untrustedOutput: boolean;
  readonly parameters: JsonSchema;
  run(args: unknown, ctx: ToolContext): unknown;
}

export const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESULT_CHARS = 16_000;

// Keywords a grammar-constrained provider (llama.cpp) cannot enforce; the runtime checks them with
// zod after the call anyway, so they are left out of what the model is shown.
const UNENFORCEABLE = new Set(["$schema", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "pattern", "format", "propertyNames", "uniqueItems", "contains", "default", "examples", "title", "id"]);
const SCHEMA_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];
const SCHEMA_MAPS = ["properties", "$defs", "definitions"];

/** A copy of a JSON Schema without the keywords models' grammars cannot enforce. */
export function modelFacingSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (UNENFORCEABLE.has(key)) continue;
    if (SCHEMA_MAPS.includes(key) && value && typeof value === "object") {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, modelFacingSchema(v)]));
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((v: JsonSchema) => modelFacingSchema(v));
    } else if ((key === "items" || key === "additionalProperties" || key === "not") && value && typeof value === "object" && !Array.isArray(value)) {
      out[key] = modelFacingSchema(value as JsonSchema);
    } else out[key] = value;
  }
  return out;
}

/** The JSON Schema of a zod schema, as a model is shown it. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return modelFacingSchema(z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as JsonSchema);
}

export function defineTool<I extends z.ZodType>(spec: ToolSpec<I>): Tool {
  if (!TOOL_NAME.test(spec.name)) throw new StrataError("USAGE", `tool name "${spec.name}" is not allowed`, "use letters, digits, _ . - (starting with a letter or _), at most 64 characters");
  if (!["read", "write", "external"].includes(spec.risk)) throw new StrataError("USAGE", `tool ${spec.name}: risk must be read, write or external, got "${String(spec.risk)}"`, "say how much the tool can change the world");
  const parameters = spec.parameters ?? jsonSchemaOf(spec.input);
  if (parameters.type !== undefined && parameters.type !== "object") throw new StrataError("USAGE", `tool ${spec.name}: its input must be an object schema`, "wrap the arguments in z.object({...})");
  return {
    name: spec.name,
    description: spec.description,
    input: spec.input,
    risk: spec.risk,
    requiresApproval: spec.requiresApproval ?? spec.risk !== "read",
    timeoutMs: spec.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
    maxResultChars: spec.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS,
    idempotent: spec.idempotent ?? spec.risk === "read",
    untrustedOutput: spec.untrustedOutput ?? true,
    parameters: modelFacingSchema(parameters),
    run: (args, ctx) => spec.run(args as z.output<I>, ctx),
  };
}

/** A tool whose arguments are described by a JSON Schema (e.g. one mounted from an MCP server). */
export function defineJsonSchemaTool(spec: Omit<ToolSpec<z.ZodType>, "input" | "parameters" | "run"> & { parameters: JsonSchema; run(args: Record<string, unknown>, ctx: ToolContext): unknown }): Tool {
  let input: z.ZodType;
  try {
    input = z.fromJSONSchema(spec.parameters as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (e) {
    throw new StrataError("USAGE", `tool ${spec.name}: its parameter schema cannot be used: ${(e as Error).message}`, "describe the arguments with plain JSON Schema");
  }
  return defineTool({ ...spec, input, run: (args, ctx) => spec.run(args as Record<string, unknown>, ctx) });
}

/** The tools a run may use, by name. */
export class ToolBox {
  private readonly byName = new Map<string, Tool>();

  constructor(tools: Iterable<Tool> = []) {
    for (const t of tools) this.add(t);
  }

  add(tool: Tool): this {
    if (this.byName.has(tool.name)) throw new StrataError("USAGE", `two tools are named "${tool.name}"`, "give every tool its own name");
    this.byName.set(tool.name, tool);
    return this;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): Tool {
    const t = this.byName.get(name);
    if (!t) throw new StrataError("TOOL_UNKNOWN", `no tool named "${name}"`, this.byName.size ? `available tools: ${this.names().join(", ")}` : "this run has no tools");
    return t;
  }

  find(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  list(): Tool[] {
    return [...this.byName.values()];
  }

  /** A toolbox with only the named tools (TOOL_UNKNOWN for a name it lacks). */
  pick(names: readonly string[]): ToolBox {
    return new ToolBox(names.map((n) => this.get(n)));
  }

  /** The definitions a model is shown. */
  definitions(): ToolDefinition[] {
    return this.list().map((t) => ({ name: t.name, description: t.description, parameters: t.parameters }));
  }
}
