// `strata eval qa` and `strata eval rag`: answer every question of a QA dataset from a knowledge
// base built of its passages, score the answers (EM/F1, abstention, citations, RAG metrics, a judge
// model's rubric), store the run (resumable by id), and write an HTML report, JUnit XML or a
// published report for the server's Eval reports page.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Option, type Command } from "commander";
import type { SearchMode } from "../../knowledge/knowledge-base.js";
import { KnowledgeBase, SEARCH_MODES } from "../../knowledge/knowledge-base.js";
import { qaJunit } from "../../eval/junit.js";
import { publishReport, qaReportInput, strataVersion } from "../../eval/published-reports.js";
import type { AnswererName } from "../../eval/qa-answerers.js";
import { readQaDataset } from "../../eval/qa-datasets.js";
import { evaluateQa } from "../../eval/qa-eval.js";
import { renderQaReport } from "../../eval/qa-report-html.js";
import { createEmbeddingModel, createLanguageModel } from "../../model/registry.js";
import type { EmbeddingModel, LanguageModel } from "../../model/types.js";
import { EXIT, usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parsePositiveInt, requireKb } from "../options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";

interface EvalQaFlags {
  data?: string;
  model?: string;
  system?: AnswererName;
  mode?: SearchMode;
  embed?: string;
  kb?: string;
  k?: string;
  judge?: string;
  judgeRepeats?: string;
  supportBy?: "verifier" | "judge";
  limit?: string;
  runs: string;
  resume?: string;
  report?: string;
  junit?: string;
  publish?: string;
  json?: boolean;
}

/** The code that ran: the package version and, in a git checkout, the commit. */
export function codeVersion(): string {
  let commit = "";
  try {
    commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: dirname(fileURLToPath(import.meta.url)), stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).toString().trim();
  } catch {
    // not a git checkout (an installed package): the version alone
  }
  return commit ? `${strataVersion()}+${commit}` : strataVersion();
}

const f = (x: number | null | undefined, d = 4): string => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "—");

function printSummary(s: Record<string, number | null>, runId: string | null, dataset: string): void {
  const lines = [
    `${dataset}: ${s.questions} questions (${s.answerable} answerable, ${s.unanswerable} unanswerable)${runId ? ` · run ${runId}` : ""}`,
    `  EM                  ${f(s.em)}   (answerable only ${f(s.has_ans_em)})`,
    `  F1                  ${f(s.f1)}   (answerable only ${f(s.has_ans_f1)})`,
    `  abstention          precision ${f(s.abstention_precision)}  recall ${f(s.abstention_recall)}  (${s.abstained} declined)`,
    `  citations (ALCE)    recall ${f(s.citation_recall)}  precision ${f(s.citation_precision)}`,
  ];
  if (s.evidence_f1 !== null && s.evidence_f1 !== undefined) lines.push(`  evidence F1 (ExpMRC) ${f(s.evidence_f1)}`);
  lines.push(`  RAG                 faithfulness ${f(s.faithfulness)}  answer relevancy ${f(s.answer_relevancy)}  context precision ${f(s.context_precision)}  context recall ${f(s.context_recall)}`);
  if (s.judge_relevance !== null && s.judge_relevance !== undefined) lines.push(`  judge (1-5)         relevance ${f(s.judge_relevance, 2)}  coherence ${f(s.judge_coherence, 2)}  factual accuracy ${f(s.judge_factual_accuracy, 2)}  failed ${s.judge_failed}${s.judge_self_agreement !== undefined ? `  self-agreement ${f(s.judge_self_agreement, 3)}` : ""}`);
  lines.push(`  time                ${f(s.ms_per_question, 1)} ms/question${s.errors ? `  · ${s.errors} errors` : ""}`);
  process.stdout.write(lines.join("\n") + "\n");
}

const HELP = `
Datasets: a SQuAD 1.1/2.0 .json file (ExpMRC files add evidence sentences), a folder with corpus.jsonl
+ questions.jsonl (+ unanswerable.jsonl) like ../shared/data/squad, or a .jsonl file with one
{"question", "answers", "contexts", "reference"} a line. The passages become a throw-away knowledge base.

Systems: extractive (default: Strata's embedded answerer, no model), generative (--model), baseline
(the top passage's sentence sharing most words with the question).

Every run is stored under --runs with its configuration, dataset hash, code version and per-item
results; an interrupted run continues with --resume <id>. Compare two with \`strata eval compare A B\`.

Examples:
  strata eval qa --data ../shared/data/squad --report squad.html
  strata eval qa --data ../shared/data/squad --system baseline --json
  strata eval qa --data qa.jsonl --model openai:http://127.0.0.1:11434/v1#qwen2.5 --judge openai:http://127.0.0.1:11434/v1#llama3.1 --junit qa.xml
  strata eval qa --data ../shared/data/squad --resume 20261207-171500-1a2b3c4d
  strata eval qa --data my-questions.jsonl --kb ./kb --model gguf:./model.gguf`;

function register(evalCmd: Command, name: "qa" | "rag"): void {
  evalCmd
    .command(name)
    .description(name === "qa" ? "question answering: SQuAD EM/F1, abstention, ALCE citation recall/precision, RAG metrics, judge rubric" : "RAG quality (RAGAS faithfulness, answer relevancy, context precision/recall, citations); gold answers optional")
    .option("--data <path>", "the dataset (.json SQuAD, .jsonl, or a SQuAD-layout folder)")
    .addOption(new Option("--system <name>", "what answers").choices(["extractive", "generative", "baseline"]))
    .option("--model <ref>", "answer with this model (implies --system generative)")
    .addOption(new Option("--mode <mode>", "retrieval for --model or baseline (default lexical)").choices(SEARCH_MODES))
    .option("--embed <ref>", "embedding model for --mode dense or hybrid")
    .option("--kb <dir>", "answer from this existing knowledge base instead of one built from the dataset's passages")
    .option("--k <n>", "passages retrieved per question (default 8)")
    .option("--judge <ref>", "judge model: relevance, coherence and factual accuracy (1-5) per answer")
    .option("--judge-repeats <n>", "judge each answer this many times (2 reports the judge's self-agreement)")
    .addOption(new Option("--support-by <who>", "who decides whether a citation supports a sentence (default verifier)").choices(["verifier", "judge"]))
    .option("--limit <n>", "score only n questions, spread over the dataset")
    .option("--runs <dir>", "where runs are stored", "eval-runs")
    .option("--resume <run-id>", "continue an interrupted run (same data and options)")
    .option("--report <file.html>", "write an HTML report with charts and a per-question drill-down")
    .option("--junit <file.xml>", "write JUnit XML (a question fails below F1 0.5)")
    .option("--publish <data-dir>", "publish the report into a server's data folder (Eval reports page)")
    .option("--json", "print one JSON document: {run, dataset, summary}")
    .addHelpText("after", HELP)
    .action(
      withCommand(async (flags: EvalQaFlags, ctx: CommandContext) => {
        if (!flags.data) throw usageError("--data <path> is required", "e.g. --data ../shared/data/squad");
        const system: AnswererName = flags.system ?? (flags.model ? "generative" : "extractive");
        if (system === "generative" && !flags.model) throw usageError("--system generative needs --model <ref>", "e.g. --model gguf:./model.gguf");
        if (flags.mode && flags.mode !== "lexical" && !flags.embed) throw usageError(`--mode ${flags.mode} needs --embed <ref>`, "name an embedding model");
        const k = parsePositiveInt("--k", flags.k, 8, 100);
        const limit = flags.limit === undefined ? undefined : parsePositiveInt("--limit", flags.limit, 1, 10_000_000);
        const judgeRepeats = parsePositiveInt("--judge-repeats", flags.judgeRepeats, 1, 5);
        if (flags.supportBy === "judge" && !flags.judge) throw usageError("--support-by judge needs --judge <ref>", "pass a judge model, or leave support to the verifier");
        const dataset = readQaDataset(flags.data, { requireGold: name === "qa" });
        const config = { system, model: flags.model ?? null, mode: flags.mode ?? "lexical", embed: flags.embed ?? null, kb: flags.kb ?? null, k, judge: flags.judge ?? null, judgeRepeats, supportBy: flags.supportBy ?? "verifier", limit: limit ?? null };
        const progress = progressDisplay({ quiet: flags.json });
        const opened: { close(): Promise<void> }[] = [];
        try {
          const model: LanguageModel | undefined = flags.model ? await createLanguageModel(flags.model, providerOptions()) : undefined;
          if (model) opened.push(model);
          const judge: LanguageModel | undefined = flags.judge ? await createLanguageModel(flags.judge, providerOptions()) : undefined;
          if (judge) opened.push(judge);
          const embedder: EmbeddingModel | undefined = flags.embed ? await createEmbeddingModel(flags.embed, providerOptions()) : undefined;
          if (embedder) opened.push(embedder);
          const kb = flags.kb ? KnowledgeBase.open(requireKb(flags.kb)) : undefined;
          if (kb) opened.push({ close: async () => kb.close() });
          const r = await evaluateQa(dataset, {
            system,
            model,
            judge,
            embedder,
            kb,
            mode: flags.mode,
            k,
            judgeRepeats,
            supportBy: flags.supportBy,
            limit,
            store: { runsDir: flags.runs, resume: flags.resume, codeVersion: codeVersion(), modelRef: flags.model ?? (system === "baseline" ? "baseline" : "extractive"), config, onRun: (id) => process.stderr.write(`run ${id} (stored in ${flags.runs}; if interrupted, continue with --resume ${id})\n`) },
            signal: ctx.signal,
            onProgress: progress.listener,
          });
          progress.stop();
          const runId = r.run?.run.id ?? null;
          if (r.resumed > 0) process.stderr.write(`resumed run ${runId}: ${r.resumed} questions were already scored\n`);
          const command = `strata ${process.argv.slice(2).join(" ")}`;
          const title = `QA: ${dataset.name} · ${system}${flags.model ? ` (${flags.model})` : ""}`;
          const html = flags.report || flags.publish ? renderQaReport(r.items, r.summary, { title, command, generatedAt: new Date().toISOString(), runId: runId ?? undefined, config }) : undefined;
          if (flags.report && html) {
            writeFileSync(flags.report, html);
            process.stderr.write(`report: ${flags.report}\n`);
          }
          if (flags.junit) {
            writeFileSync(flags.junit, qaJunit(`strata eval ${name} ${dataset.name}`, r.items, r.summary));
            process.stderr.write(`junit: ${flags.junit}\n`);
          }
          let published: string | undefined;
          if (flags.publish) {
            published = publishReport(flags.publish, qaReportInput({ id: runId ?? "unsaved", dataset: dataset.name, items: r.items, summary: r.summary }, { title, command }), html ? { html } : {}).id;
            process.stderr.write(`published: report ${published} in ${flags.publish}\n`);
          }
          if (flags.json) ctx.printJson({ run: runId, dataset: { name: dataset.name, format: dataset.format, hash: dataset.hash, questions: dataset.items.length }, config, summary: r.summary, ...(published ? { publishedReport: published } : {}) });
          else printSummary(r.summary, runId, dataset.name);
          return r.errors > 0 ? EXIT.partial : EXIT.ok;
        } finally {
          progress.stop();
          for (const m of opened) await m.close();
        }
      }),
    );
}

export function registerEvalQa(evalCmd: Command): void {
  register(evalCmd, "qa");
  register(evalCmd, "rag");
}
