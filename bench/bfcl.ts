// Function-calling accuracy on the Berkeley Function Calling Leaderboard (BFCL v4) "simple (Python)"
// and "multiple" sets, scored by AST match, for the model named in STRATA_BFCL_MODEL (any Strata
// model reference: openai:<base URL>#<model> for an OpenAI-compatible server, gguf:<file>).
// Without it the benchmark says so and exits 0.
//
//   STRATA_BFCL_MODEL=openai:http://127.0.0.1:11434/v1#qwen2.5:7b node --import tsx bench/bfcl.ts [--limit 50] [--tool-mode native|json]
//   node --import tsx bench/bfcl.ts --self-test      (the checker against the ground truth: must be 100%)
//
// Data: ../shared/data/bfcl (see its README). Each question is sent once with its function(s) as
// tools (native tool calls; --tool-mode json asks for the agent runtime's JSON-schema-constrained
// action instead), temperature 0; the first call is compared with the accepted answers the way
// BFCL's AST checker does: the function name; every required parameter present; no unknown
// parameter; each value of the documented type (an integer is accepted for a float) and equal to
// one of the accepted values — strings compared after BFCL's normalisation (lower case, spaces and
// , . / - _ * ^ removed), lists element by element, dicts key by key; a parameter whose accepted
// values include "" may be left out. Function names with dots are sent with underscores (providers
// reject dots) and mapped back.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { jsonActionSchema, parseJsonAction } from "../src/agents/loop/agent.js";
import { defineJsonSchemaTool, ToolBox } from "../src/agents/tools/tool.js";
import { createLanguageModel } from "../src/model/registry.js";
import type { JsonSchema, LanguageModel, ToolCall, ToolDefinition } from "../src/model/types.js";
import { commandLine, describeMachine, fmt, machineInfo, note, printTable, repoRoot, writeJson } from "./lib.js";

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

export interface BfclItem {
  id: string;
  question: Array<Array<{ role: string; content: string }>>;
  function: BfclFunction[];
}

/** Per function name, per parameter: the accepted values ("" = may be omitted). */
export type GroundTruth = Array<Record<string, Record<string, unknown[]>>>;

export type Category = "simple" | "multiple";
const FILES: Record<Category, string> = { simple: "BFCL_v4_simple_python.json", multiple: "BFCL_v4_multiple.json" };

export function readJsonLines<T>(path: string): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export function loadCategory(dir: string, category: Category): Array<{ item: BfclItem; truth: GroundTruth }> {
  const items = readJsonLines<BfclItem>(join(dir, FILES[category]));
  const answers = new Map(readJsonLines<{ id: string; ground_truth: GroundTruth }>(join(dir, "possible_answer", FILES[category])).map((a) => [a.id, a.ground_truth]));
  return items.map((item) => {
    const truth = answers.get(item.id);
    if (!truth) throw new Error(`no possible answer for ${item.id}`);
    return { item, truth };
  });
}

// ---------- schema conversion ----------

/** A provider-safe function name, and the way back. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
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

export function toToolDefinition(f: BfclFunction): ToolDefinition {
  return { name: safeName(f.name), description: f.description, parameters: toJsonSchema({ ...f.parameters, type: "dict" }) };
}

// ---------- the AST checker ----------

export type Verdict = { ok: true } | { ok: false; kind: "no_call" | "wrong_function" | "missing_param" | "unexpected_param" | "wrong_type" | "wrong_value"; detail: string };

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
export function checkCall(call: { name: string; arguments: Record<string, unknown> } | undefined, functions: BfclFunction[], truth: GroundTruth): Verdict {
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
export function oracleCall(truth: GroundTruth, functions: BfclFunction[]): { name: string; arguments: Record<string, unknown> } {
  const [name, params] = Object.entries(truth[0]!)[0]!;
  const required = new Set(functions.find((f) => f.name === name)?.parameters.required ?? []);
  const args: Record<string, unknown> = {};
  for (const [k, alts] of Object.entries(params)) {
    const first = alts.find((a) => a !== "");
    if (first !== undefined && (required.has(k) || !alts.includes(""))) args[k] = materialize(first);
  }
  return { name: safeName(name), arguments: args };
}

// ---------- asking a model ----------

/** The model's first call, or why there is none. */
export async function askModel(model: LanguageModel, item: BfclItem, mode: "native" | "json", maxTokens: number): Promise<{ call?: ToolCall; why?: string }> {
  const messages = item.question[0]!.map((m) => ({ role: m.role as "user" | "system", content: m.content }));
  const defs = item.function.map(toToolDefinition);
  if (mode === "native") {
    const r = await model.generate({ messages, tools: defs, toolChoice: "auto", temperature: 0, maxTokens });
    return r.toolCalls[0] ? { call: r.toolCalls[0] } : { why: `answered in text instead (${r.finishReason}): ${JSON.stringify(r.text.slice(0, 60))}` };
  }
  const box = new ToolBox(defs.map((d) => defineJsonSchemaTool({ name: d.name, description: d.description ?? "", risk: "read", parameters: d.parameters, run: () => null })));
  const system = `Reply with one JSON object: {"action": {"tool": "<name>", "arguments": {...}}} calling one of these functions:\n${defs.map((d) => `- ${d.name}: ${d.description} ${JSON.stringify(d.parameters)}`).join("\n")}`;
  const r = await model.generate({ messages: [{ role: "system", content: system }, ...messages], responseSchema: jsonActionSchema(box), temperature: 0, maxTokens });
  const a = parseJsonAction(r, 1);
  return a.calls[0] ? { call: a.calls[0] } : { why: a.problem ?? `answered instead: ${JSON.stringify((a.answer ?? "").slice(0, 60))}` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { limit: { type: "string" }, "tool-mode": { type: "string", default: "native" }, "self-test": { type: "boolean", default: false }, "max-tokens": { type: "string", default: "256" }, categories: { type: "string", default: "simple,multiple" } } });
  const dataDir = resolve(repoRoot(), "..", "shared", "data", "bfcl");
  const categories = (values.categories ?? "simple,multiple").split(",").map((c) => c.trim()) as Category[];
  const limit = values.limit ? Number(values.limit) : Infinity;
  const mode = values["tool-mode"] === "json" ? "json" : "native";
  if (values["self-test"]) {
    const rows: string[][] = [];
    for (const c of categories) {
      const data = loadCategory(dataDir, c);
      const ok = data.filter(({ item, truth }) => checkCall(oracleCall(truth, item.function), item.function, truth).ok).length;
      // A wrong value in every answer must fail.
      const broken = data.filter(({ item, truth }) => {
        const call = oracleCall(truth, item.function);
        const key = Object.keys(call.arguments)[0];
        if (key !== undefined) call.arguments[key] = "__wrong__";
        return key !== undefined && checkCall(call, item.function, truth).ok;
      }).length;
      rows.push([c, fmt(data.length), `${fmt((100 * ok) / data.length, 1)}%`, fmt(broken)]);
    }
    printTable(["category", "questions", "ground truth accepted", "corrupted answers accepted"], rows);
    return;
  }
  const ref = process.env.STRATA_BFCL_MODEL;
  if (!ref) {
    process.stdout.write("bfcl: skipped — set STRATA_BFCL_MODEL to a model reference, e.g. STRATA_BFCL_MODEL=openai:http://127.0.0.1:11434/v1#qwen2.5:7b (or gguf:./model.gguf)\n");
    return;
  }
  const machine = machineInfo();
  note(`BFCL simple + multiple, model ${ref}, tool mode ${mode}, ${describeMachine(machine)}`);
  const model = await createLanguageModel(ref, {
    apiKey: process.env.STRATA_OPENAI_API_KEY ?? process.env.OPENAI_API_KEY,
    threads: process.env.STRATA_THREADS ? Number(process.env.STRATA_THREADS) : 2,
  });
  const results: Record<string, unknown> = {};
  const rows: string[][] = [];
  try {
    for (const c of categories) {
      const data = loadCategory(dataDir, c).slice(0, limit);
      const kinds = new Map<string, number>();
      let correct = 0;
      const started = performance.now();
      const details: Array<{ id: string; ok: boolean; detail?: string }> = [];
      for (const [i, { item, truth }] of data.entries()) {
        let v: Verdict;
        try {
          const asked = await askModel(model, item, mode, Number(values["max-tokens"]));
          v = checkCall(asked.call, item.function, truth);
          if (!asked.call) v = { ok: false, kind: "no_call", detail: asked.why ?? "no call" };
        } catch (e) {
          v = { ok: false, kind: "no_call", detail: `error: ${(e as Error).message.split("\n")[0]}` };
        }
        if (v.ok) correct++;
        else kinds.set(v.kind, (kinds.get(v.kind) ?? 0) + 1);
        details.push({ id: item.id, ok: v.ok, ...(v.ok ? {} : { detail: v.detail }) });
        if ((i + 1) % 25 === 0) note(`${c}: ${i + 1}/${data.length}, ${correct} correct`);
      }
      const seconds = (performance.now() - started) / 1000;
      results[c] = { n: data.length, correct, accuracy: correct / data.length, errors: Object.fromEntries(kinds), seconds, details };
      rows.push([c, fmt(data.length), `${fmt((100 * correct) / data.length, 1)}%`, [...kinds].map(([k, n]) => `${k} ${n}`).join(", ") || "–", fmt(seconds / data.length, 2)]);
    }
  } finally {
    await model.close();
  }
  const md = printTable(["category", "questions", "AST accuracy", "errors", "s/question"], rows);
  process.stdout.write(`\n${md}\n`);
  writeJson("bfcl", { command: commandLine(), machine, model: ref, toolMode: mode, results });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
