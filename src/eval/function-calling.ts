// Function-calling accuracy, scored the way the Berkeley Function Calling Leaderboard's AST checker
// scores its "simple" and "multiple" sets: the function name; every required parameter present; no
// unknown parameter; each value of the documented type (an integer is accepted for a float) and
// equal to one of the accepted values — strings compared after BFCL's normalisation (lower case,
// spaces and , . / - _ * ^ removed), lists element by element, dicts key by key; a parameter whose
// accepted values include "" may be left out. Function names with dots may come back with
// underscores (providers reject dots) and are mapped back.

import type { JsonSchema, ToolDefinition } from "../model/types.js";

/** A function as BFCL documents it (Python-flavoured types: dict, float, tuple, any, …). */
export interface BfclFunction {
  name: string;
  description: string;
  parameters: { type: string; properties: Record<string, BfclParam>; required?: string[] };
}

export interface BfclParam {
  type: string;
  description?: string;
  enum?: unknown[];
  items?: BfclParam;
  properties?: Record<string, BfclParam>;
  required?: string[];
  [key: string]: unknown;
}

/** Per function name, per parameter: the accepted values ("" = may be omitted). */
export type GroundTruth = Array<Record<string, Record<string, unknown[]>>>;

/** A model's tool call, as the checker reads it. */
export interface FunctionCall {
  name: string;
  arguments: Record<string, unknown>;
}

export type FunctionCallVerdict =
  | { ok: true }
  | { ok: false; kind: "no_call" | "wrong_function" | "missing_param" | "unexpected_param" | "wrong_type" | "wrong_value"; detail: string };

/** A provider-safe function name (the checker maps it back to the documented one). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

/** BFCL's string normalisation. */
export function standardize(s: string): string {
  return s.replace(/[ ,./\-_*^]/g, "").toLowerCase().replace(/'/g, '"');
}

function typeOk(value: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "float":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "array":
    case "tuple":
      return Array.isArray(value);
    case "dict":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

function equalValue(value: unknown, accepted: unknown): boolean {
  if (typeof value === "string" && typeof accepted === "string") return standardize(value) === standardize(accepted);
  if (typeof value === "number" && typeof accepted === "number") return value === accepted;
  if (Array.isArray(value) && Array.isArray(accepted)) return value.length === accepted.length && value.every((v, i) => equalValue(v, accepted[i]));
  if (value && accepted && typeof value === "object" && typeof accepted === "object" && !Array.isArray(value) && !Array.isArray(accepted)) {
    // Accepted dicts list alternatives per key, like parameters do.
    const a = accepted as Record<string, unknown>;
    const v = value as Record<string, unknown>;
    for (const [k, alts] of Object.entries(a)) {
      const options = Array.isArray(alts) ? alts : [alts];
      if (!(k in v)) {
        if (options.includes("")) continue;
        return false;
      }
      if (!options.some((o) => equalValue(v[k], o))) return false;
    }
    return Object.keys(v).every((k) => k in a);
  }
  return JSON.stringify(value) === JSON.stringify(accepted);
}

/** Compares one call with the accepted answers, as BFCL's AST checker does for simple and multiple. */
export function checkCall(call: FunctionCall | undefined, functions: BfclFunction[], truth: GroundTruth): FunctionCallVerdict {
  if (!call) return { ok: false, kind: "no_call", detail: "the model made no function call" };
  const expected = truth[0]!;
  const [expectedName, params] = Object.entries(expected)[0]!;
  const fn = functions.find((f) => f.name === expectedName)!;
  const name = functions.find((f) => safeName(f.name) === call.name || f.name === call.name)?.name ?? call.name;
  if (name !== expectedName) return { ok: false, kind: "wrong_function", detail: `called ${call.name}, expected ${expectedName}` };
  const props = fn.parameters.properties;
  for (const req of fn.parameters.required ?? []) if (!(req in call.arguments)) return { ok: false, kind: "missing_param", detail: `missing required parameter ${req}` };
  for (const [k, v] of Object.entries(call.arguments)) {
    const doc = props[k];
    if (!doc || !(k in params)) return { ok: false, kind: "unexpected_param", detail: `unexpected parameter ${k}` };
    if (!typeOk(v, doc.type)) return { ok: false, kind: "wrong_type", detail: `${k}: ${JSON.stringify(v)} is not a ${doc.type}` };
    if (!params[k]!.some((a) => a !== "" && equalValue(v, a))) return { ok: false, kind: "wrong_value", detail: `${k}: ${JSON.stringify(v)} is not one of ${JSON.stringify(params[k])}` };
  }
  for (const [k, alts] of Object.entries(params)) if (!(k in call.arguments) && !alts.includes("")) return { ok: false, kind: "missing_param", detail: `missing parameter ${k} (no default accepted)` };
  return { ok: true };
}

/** One concrete value from an accepted value (dicts list alternatives per key). */
function materialize(accepted: unknown): unknown {
  if (Array.isArray(accepted)) return accepted.map(materialize);
  if (accepted && typeof accepted === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, alts] of Object.entries(accepted as Record<string, unknown[]>)) {
      const first = alts.find((a) => a !== "");
      if (first !== undefined && !alts.includes("")) out[k] = materialize(first);
    }
    return out;
  }
  return accepted;
}

/** The ground truth as a call (for the checker's self-test): optional parameters left out, the first accepted value for the rest. */
export function oracleCall(truth: GroundTruth, functions: BfclFunction[]): FunctionCall {
  const [name, params] = Object.entries(truth[0]!)[0]!;
  const required = new Set(functions.find((f) => f.name === name)?.parameters.required ?? []);
  const args: Record<string, unknown> = {};
  for (const [k, alts] of Object.entries(params)) {
    const first = alts.find((a) => a !== "");
    if (first !== undefined && (required.has(k) || !alts.includes(""))) args[k] = materialize(first);
  }
  return { name: safeName(name), arguments: args };
}

export type BfclCategory = "simple" | "multiple" | "parallel" | "parallel_multiple";

export type CallsVerdict = FunctionCallVerdict | { ok: false; kind: "wrong_count"; detail: string };

/**
 * Checks a turn's calls against every category's ground truth: simple and multiple expect exactly
 * one call; parallel and parallel-multiple expect one call per ground-truth entry, in any order
 * (BFCL's order-free matching: every expected call must be matched by a distinct model call).
 */
export function checkCalls(calls: readonly FunctionCall[], functions: BfclFunction[], truth: GroundTruth): CallsVerdict {
  if (truth.length <= 1) {
    if (calls.length > 1) return { ok: false, kind: "wrong_count", detail: `made ${calls.length} calls, expected 1` };
    return checkCall(calls[0], functions, truth);
  }
  if (calls.length !== truth.length) return { ok: false, kind: "wrong_count", detail: `made ${calls.length} calls, expected ${truth.length}` };
  // ok[i][j]: model call i satisfies expected call j. Then find a perfect matching by backtracking
  // (a turn has a handful of calls, so this is cheap).
  const ok = calls.map((c) => truth.map((t) => checkCall(c, functions, [t]).ok));
  const used = new Array<boolean>(calls.length).fill(false);
  const match = (j: number): boolean => {
    if (j === truth.length) return true;
    for (let i = 0; i < calls.length; i++) {
      if (used[i] || !ok[i]![j]) continue;
      used[i] = true;
      if (match(j + 1)) return true;
      used[i] = false;
    }
    return false;
  };
  if (match(0)) return { ok: true };
  // Name the first expected call no model call satisfies, with why the closest one failed.
  const j = truth.findIndex((_, k) => !calls.some((__, i) => ok[i]![k]));
  const expected = Object.keys(truth[Math.max(0, j)]!)[0]!;
  const why = calls.map((c) => checkCall(c, functions, [truth[Math.max(0, j)]!])).find((v) => !v.ok && v.kind !== "wrong_function");
  return why && !why.ok ? why : { ok: false, kind: "wrong_function", detail: j >= 0 ? `no call matches the expected ${expected}` : "the calls cannot all be matched to distinct expected calls" };
}

const TYPE_MAP: Record<string, string> = { dict: "object", float: "number", tuple: "array", integer: "integer", boolean: "boolean", string: "string", array: "array" };

/** BFCL's Python-flavoured parameter docs as JSON Schema. */
export function toJsonSchema(p: BfclParam): JsonSchema {
  const out: JsonSchema = {};
  if (p.type === "any") out.anyOf = [{ type: "string" }, { type: "number" }, { type: "boolean" }];
  else out.type = TYPE_MAP[p.type] ?? "string";
  if (p.description) out.description = p.description;
  if (Array.isArray(p.enum)) out.enum = p.enum;
  if (p.items) out.items = toJsonSchema(p.items);
  if (p.properties) {
    out.properties = Object.fromEntries(Object.entries(p.properties).map(([k, v]) => [k, toJsonSchema(v)]));
    if (p.required?.length) out.required = p.required;
  }
  return out;
}

/** A BFCL function as a tool the providers accept (dots in names become underscores). */
export function toToolDefinition(f: BfclFunction): ToolDefinition {
  return { name: safeName(f.name), description: f.description, parameters: toJsonSchema({ ...f.parameters, type: "dict" }) };
}
