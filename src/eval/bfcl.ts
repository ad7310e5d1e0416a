// Reader for the Berkeley Function Calling Leaderboard's data (BFCL v3/v4): a question file (JSON
// Lines despite the .json name: {id, question: [[{role, content}]], function: [...]}) and its
// possible_answer file ({id, ground_truth: [{function name: {param: [accepted values]}}]}). The
// category — simple, multiple, parallel, parallel_multiple — comes from the file name. Every
// problem names the file, the line and the field.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import type { BfclCategory, BfclFunction, GroundTruth } from "./function-calling.js";
import { numberedLines, parseJsonLine } from "./jsonl.js";

export interface BfclItem {
  id: string;
  category: BfclCategory;
  /** The conversation: turns of messages (the AST categories have one turn). */
  messages: { role: string; content: string }[];
  functions: BfclFunction[];
  truth: GroundTruth;
}

const paramSchema: z.ZodType<unknown> = z.record(z.string(), z.unknown());
const functionSchema = z.object({ name: z.string().min(1), description: z.string().default(""), parameters: z.object({ type: z.string(), properties: z.record(z.string(), paramSchema), required: z.array(z.string()).optional() }) });
const questionSchema = z.object({
  id: z.string().min(1),
  question: z.array(z.array(z.object({ role: z.string(), content: z.string() }))).min(1),
  function: z.array(functionSchema).min(1),
});
const answerSchema = z.object({ id: z.string().min(1), ground_truth: z.array(z.record(z.string(), z.record(z.string(), z.array(z.unknown())))).min(1) });

/** The category a BFCL file name says (BFCL_v4_parallel_multiple.json → parallel_multiple). */
export function bfclCategory(file: string): BfclCategory {
  const name = basename(file).toLowerCase();
  if (name.includes("parallel_multiple")) return "parallel_multiple";
  if (name.includes("parallel")) return "parallel";
  if (name.includes("multiple")) return "multiple";
  if (name.includes("simple")) return "simple";
  throw new StrataError("USAGE", `cannot tell the BFCL category of ${basename(file)}`, "BFCL files are named BFCL_v4_<simple_python|multiple|parallel|parallel_multiple>.json");
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new StrataError("NOT_FOUND", `BFCL file not found: ${path}`, "point at a BFCL_v4_*.json file whose possible_answer/ folder sits beside it");
  }
}

/** Reads a BFCL question file and its possible answers (default: possible_answer/<same name> beside it). */
export function readBfcl(questionsFile: string, answersFile = join(dirname(questionsFile), "possible_answer", basename(questionsFile))): BfclItem[] {
  const category = bfclCategory(questionsFile);
  const qName = basename(questionsFile);
  const aName = `possible_answer/${basename(answersFile)}`;
  if (!existsSync(answersFile)) throw new StrataError("NOT_FOUND", `no possible answers for ${qName} at ${answersFile}`, "BFCL keeps them in possible_answer/ beside the question file");
  const truth = new Map<string, GroundTruth>();
  for (const [line, n] of numberedLines(read(answersFile))) {
    const a = parseJsonLine(answerSchema, line, aName, n, `{"id": "simple_0", "ground_truth": [{"fn": {"x": [1]}}]}`);
    truth.set(a.id, a.ground_truth as GroundTruth);
  }
  const items: BfclItem[] = [];
  for (const [line, n] of numberedLines(read(questionsFile))) {
    const q = parseJsonLine(questionSchema, line, qName, n, `{"id": "simple_0", "question": [[{"role": "user", "content": "..."}]], "function": [...]}`);
    const t = truth.get(q.id);
    if (!t) throw new StrataError("PARSE_FAILED", `${qName} line ${n}: question "${q.id}" has no entry in ${aName}`, "use the possible_answer file of the same BFCL version");
    const names = new Set(q.function.map((f) => f.name));
    const unknown = t.flatMap((e) => Object.keys(e)).find((name) => !names.has(name));
    if (unknown) throw new StrataError("PARSE_FAILED", `${aName}: the answer to "${q.id}" calls ${unknown}, which ${qName} line ${n} does not offer`, "use the question and answer files of the same BFCL version");
    items.push({ id: q.id, category, messages: q.question.flat(), functions: q.function as BfclFunction[], truth: t });
  }
  return items;
}
