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
// action instead), temperature 0; the first call is scored by the AST checker in
// src/eval/function-calling.ts (as BFCL's own does it). Function names with dots are sent with
// underscores (providers reject dots) and mapped back.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { jsonActionSchema, parseJsonAction } from "../src/agents/loop/agent.js";
import { defineJsonSchemaTool, ToolBox } from "../src/agents/tools/tool.js";
import { checkCall, oracleCall, toJsonSchema, toToolDefinition, type BfclFunction, type FunctionCallVerdict, type GroundTruth } from "../src/eval/function-calling.js";
import { createLanguageModel } from "../src/model/registry.js";
import type { LanguageModel, ToolCall } from "../src/model/types.js";
import { commandLine, describeMachine, fmt, machineInfo, note, printTable, repoRoot, writeJson } from "./lib.js";

export interface BfclItem {
  id: string;
  question: Array<Array<{ role: string; content: string }>>;
  function: BfclFunction[];
}

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

// Schema conversion lives with the checker (src/eval/function-calling.ts), shared with `strata eval tools`.
export { toJsonSchema, toToolDefinition };

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
        let v: FunctionCallVerdict;
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
