// Extractive question answering on ../shared/data/squad (500 answerable + 100 unanswerable SQuAD 2.0
// dev questions): the embedded default answerer against the reference baseline (the top passage's
// sentence sharing most words with the question), measured in the same run, and a model given by
// STRATA_EVAL_MODEL when one is set. Scored by src/eval (SQuAD EM/F1, abstention, ALCE citations by
// Strata's verifier).
//
//   node dist/bench/squad-qa.js [--data <dir>] [--limit n]
//   STRATA_EVAL_MODEL=openai:http://127.0.0.1:11434/v1#qwen2.5:7b node dist/bench/squad-qa.js
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { readQaDataset } from "../src/eval/qa-datasets.js";
import { evaluateQa } from "../src/eval/qa-eval.js";
import type { AnswererName } from "../src/eval/qa-answerers.js";
import { createLanguageModel } from "../src/model/registry.js";
import type { LanguageModel } from "../src/model/types.js";
import { commandLine, describeMachine, fmt, loadNow, machineInfo, note, printTable, repoRoot, writeJson } from "./lib.js";

const { values } = parseArgs({ options: { data: { type: "string" }, limit: { type: "string" } } });
const data = values.data ?? resolve(repoRoot(), "..", "shared", "data", "squad");
const limit = values.limit ? Number(values.limit) : undefined;
const dataset = readQaDataset(data);
const machine = machineInfo();
note(`SQuAD QA on ${data} (${dataset.items.length} questions), ${describeMachine(machine)}, load ${loadNow().toFixed(1)}`);

const systems: { name: string; system: AnswererName; model?: LanguageModel }[] = [
  { name: "Strata extractive (embedded default)", system: "extractive" },
  { name: "baseline: top passage's best-overlapping sentence", system: "baseline" },
];
const ref = process.env.STRATA_EVAL_MODEL;
if (ref) systems.push({ name: `generative: ${ref}`, system: "generative", model: await createLanguageModel(ref, { threads: 2 }) });
else note("STRATA_EVAL_MODEL is not set: the generative row is skipped");

const rows: string[][] = [];
const results: Record<string, unknown> = {};
for (const s of systems) {
  const t0 = performance.now();
  const r = await evaluateQa(dataset, { system: s.system, model: s.model, limit });
  const seconds = (performance.now() - t0) / 1000;
  await s.model?.close();
  const m = r.summary;
  results[s.name] = { ...m, seconds };
  rows.push([s.name, fmt(m.em, 4), fmt(m.f1, 4), fmt(m.has_ans_f1, 4), fmt(m.abstention_precision, 3), fmt(m.abstention_recall, 3), fmt(m.citation_precision, 3), fmt(m.citation_recall, 3), fmt(m.ms_per_question, 1)]);
}
printTable(["system", "EM", "F1", "F1 answerable", "abst. P", "abst. R", "cit. P", "cit. R", "ms/question"], rows);
note(`load after: ${loadNow().toFixed(1)}; wrote ${writeJson("squad-qa", { command: commandLine(), machine, data, results })}`);
