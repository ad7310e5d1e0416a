// The regression gate: figures that may not fall below recorded baselines — SciFact nDCG@10 of the
// knowledge base's lexical search, and the embedded extractive answerer's F1 and abstention
// (precision and recall) on the SQuAD 2.0 subset. The baselines live in a small JSON file in the
// repository (test/eval/baselines.json), read by a test in `npm test` and re-recorded only on
// purpose with `strata eval gate --update` (or `node dist/src/cli/main.js eval gate --update`).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { readBeir } from "./beir.js";
import { evaluateKnowledgeRetrieval } from "./knowledge-retrieval.js";
import { readQaDataset } from "./qa-datasets.js";
import { evaluateQa } from "./qa-eval.js";

export const GATE_FORMAT_VERSION = 1;

/** Gate figures: all "higher is better". */
export interface GateFigures {
  scifact_ndcg_at_10: number;
  squad_f1: number;
  squad_abstention_precision: number;
  squad_abstention_recall: number;
}

const figuresSchema = z.object({ scifact_ndcg_at_10: z.number(), squad_f1: z.number(), squad_abstention_precision: z.number(), squad_abstention_recall: z.number() }).strict();
const baselineSchema = z.object({
  formatVersion: z.literal(GATE_FORMAT_VERSION),
  /** Allowed shortfall, for floating-point noise only: the figures are deterministic. */
  tolerance: z.number().min(0).max(0.1),
  recordedAt: z.string(),
  codeVersion: z.string(),
  how: z.string(),
  figures: figuresSchema,
});
export type GateBaseline = z.infer<typeof baselineSchema>;

export interface GateCheck {
  name: keyof GateFigures;
  value: number;
  baseline: number;
  ok: boolean;
}

export function readBaseline(file: string): GateBaseline {
  if (!existsSync(file)) throw new StrataError("NOT_FOUND", `no gate baseline at ${file}`, "record one with `strata eval gate --update`");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `${file} is not valid JSON (${(e as Error).message})`, "restore it from git, or record it again with `strata eval gate --update`");
  }
  const r = baselineSchema.safeParse(raw);
  if (!r.success) throw new StrataError("PARSE_FAILED", `${file}: field "${r.error.issues[0]?.path.join(".")}" is invalid (${r.error.issues[0]?.message})`, "restore it from git, or record it again with `strata eval gate --update`");
  return r.data;
}

export function writeBaseline(file: string, figures: GateFigures, codeVersion: string, now = new Date()): GateBaseline {
  const b: GateBaseline = { formatVersion: GATE_FORMAT_VERSION, tolerance: 0.0005, recordedAt: now.toISOString(), codeVersion, how: "strata eval gate --update (SciFact test split, lexical search; ../shared/data/squad, extractive answerer)", figures };
  writeFileSync(file, JSON.stringify(b, null, 2) + "\n");
  return b;
}

/** Measures the gate's figures from the shared data folder (holding scifact/ and squad/). */
export async function measureGate(dataDir: string, opts: LongOperationOptions = {}): Promise<GateFigures> {
  const scifactDir = join(dataDir, "scifact");
  const squadDir = join(dataDir, "squad");
  const scifact = await evaluateKnowledgeRetrieval(await readBeir(scifactDir, "test", opts), opts);
  const qa = await evaluateQa(readQaDataset(squadDir), { system: "extractive", ...opts });
  const s = qa.summary;
  const need = (k: string): number => {
    const v = s[k];
    if (typeof v !== "number") throw new StrataError("INTERNAL", `the SQuAD run produced no ${k}`, "check that the dataset has answerable and unanswerable questions");
    return v;
  };
  return { scifact_ndcg_at_10: scifact.ndcg_at_10, squad_f1: need("f1"), squad_abstention_precision: need("abstention_precision"), squad_abstention_recall: need("abstention_recall") };
}

/** Each figure against its baseline: ok when it is no more than `tolerance` below. */
export function checkGate(figures: GateFigures, baseline: GateBaseline): GateCheck[] {
  return (Object.keys(baseline.figures) as (keyof GateFigures)[]).map((name) => ({ name, value: figures[name], baseline: baseline.figures[name], ok: figures[name] >= baseline.figures[name] - baseline.tolerance }));
}
