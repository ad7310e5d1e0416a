import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import type { Command } from "commander";
import { readBeir } from "../../eval/beir.js";
import { evaluateKnowledgeRetrieval } from "../../eval/knowledge-retrieval.js";
import { publishReport, retrievalReportInput } from "../../eval/published-reports.js";
import { renderRetrievalReport } from "../../eval/report-html.js";
import { storeFinishedRun } from "../../eval/run-store.js";
import { sha256 } from "../../core/hash.js";
import { codeVersion } from "./eval-qa.js";
import { usageError } from "../errors.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";
import { registerEvalLm } from "./eval-lm.js";
import { registerEvalAgents } from "./eval-agents.js";
import { registerEvalCompare } from "./eval-compare.js";
import { registerEvalGate } from "./eval-gate.js";
import { registerEvalQa } from "./eval-qa.js";
import { registerEvalTools } from "./eval-tools.js";

interface EvalRetrievalFlags {
  beir?: string;
  split?: string;
  report?: string;
  publish?: string;
  runs: string;
  k1?: string;
  b?: string;
  titleWeight?: string;
  json?: boolean;
}

function parseNumber(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw usageError(`${name} must be a number from ${min} to ${max}, got "${value}"`, `e.g. ${name} ${min === 0 ? 0.4 : 1}`);
  return n;
}

export function registerEval(program: Command): void {
  const evalCmd = program
    .command("eval")
    .description("measure Strata on standard datasets")
    .addHelpText("after", "\nExample:\n  strata eval retrieval --beir ../shared/data/scifact --split test --report scifact.html");
  evalCmd
    .command("retrieval")
    .description("retrieval quality on a BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv): nDCG@10, Recall@100, MRR@10")
    .option("--beir <dir>", "the BEIR dataset folder")
    .option("--split <name>", "qrels split to score (default test)", "test")
    .option("--report <file.html>", "also write an HTML report with a per-query chart")
    .option("--publish <data-dir>", "also publish the report into a server's data folder (strata serve --data <dir>), for the web UI's Eval reports page")
    .option("--runs <dir>", "where the run is stored, for `strata eval compare`", "eval-runs")
    .option("--k1 <n>", "BM25 term-frequency saturation (default 0.9)")
    .option("--b <n>", "BM25 length normalisation (default 0.4)")
    .option("--title-weight <n>", "weight of title/heading matches against body matches (default 1)")
    .option("--json", "print one JSON document: {dataset, split, queries, ndcg_at_10, recall_at_100, mrr_at_10, ms_per_query, …}")
    .addHelpText("after", "\nExamples:\n  strata eval retrieval --beir ../shared/data/scifact --split test --report scifact.html\n  strata eval retrieval --beir ../shared/data/scifact --publish ./strata-data")
    .action(withCommand(async (flags: EvalRetrievalFlags, ctx: CommandContext) => {
      if (!flags.beir) throw usageError("--beir <dir> is required", "point it at a folder with corpus.jsonl, queries.jsonl and qrels/");
      const k1 = parseNumber("--k1", flags.k1, 0, 10);
      const b = parseNumber("--b", flags.b, 0, 1);
      const weightTitle = parseNumber("--title-weight", flags.titleWeight, 0, 100);
      const bm25 = { ...(k1 !== undefined ? { k1 } : {}), ...(b !== undefined ? { b, bTitle: b } : {}), ...(weightTitle !== undefined ? { weightTitle } : {}) };
      const progress = progressDisplay();
      const dataset = await readBeir(flags.beir, flags.split ?? "test", { signal: ctx.signal, onProgress: progress.listener });
      const result = await evaluateKnowledgeRetrieval(dataset, { bm25, signal: ctx.signal, onProgress: progress.listener });
      progress.stop();
      const { perQuery, ...summary } = result;
      const runId = storeFinishedRun(
        flags.runs,
        {
          kind: "retrieval",
          config: { split: result.split, bm25: Object.keys(bm25).length > 0 ? bm25 : "default" },
          dataset: { name: dataset.name, path: flags.beir, hash: sha256(JSON.stringify([...dataset.qrels].map(([q, r]) => [q, dataset.queries.get(q), [...r]]))), items: perQuery.length },
          codeVersion: codeVersion(),
          modelRef: null,
        },
        perQuery.map((q) => ({ id: q.id, metrics: { ndcg_at_10: q.ndcg_at_10, recall_at_100: q.recall_at_100, mrr_at_10: q.mrr_at_10 }, detail: { top: q.top } })),
        { queries: result.queries, ndcg_at_10: result.ndcg_at_10, recall_at_100: result.recall_at_100, mrr_at_10: result.mrr_at_10, ms_per_query: result.ms_per_query },
      );
      const command = `strata ${process.argv.slice(2).join(" ")}`;
      const html = flags.report || flags.publish ? renderRetrievalReport(result, { command, machine: `${cpus().length}-core ${process.arch}, Node ${process.versions.node}`, generatedAt: new Date().toISOString() }) : undefined;
      if (flags.report && html !== undefined) {
        writeFileSync(flags.report, html);
        process.stderr.write(`report: ${flags.report}\n`);
      }
      let publishedId: string | undefined;
      if (flags.publish) {
        const published = publishReport(flags.publish, retrievalReportInput(result, { command }), html === undefined ? {} : { html });
        publishedId = published.id;
        process.stderr.write(`published: report ${published.id} in ${flags.publish} (Eval reports in the web UI of \`strata serve --data ${flags.publish}\`)\n`);
      }
      if (flags.json) ctx.printJson({ run: runId, ...summary, bm25: Object.keys(bm25).length > 0 ? bm25 : "default", perQuery: perQuery.map((q) => ({ id: q.id, ndcg_at_10: q.ndcg_at_10, firstRelevantRank: q.firstRelevantRank })), ...(publishedId ? { publishedReport: publishedId } : {}) });
      else {
        process.stdout.write(
          `${summary.dataset} (${summary.split}, ${summary.queries} queries)\n  nDCG@10    ${summary.ndcg_at_10.toFixed(4)}\n  Recall@100 ${summary.recall_at_100.toFixed(4)}\n  MRR@10     ${summary.mrr_at_10.toFixed(4)}\n  ms/query   ${summary.ms_per_query} (p50 ${summary.p50_ms}, p95 ${summary.p95_ms})\nstored as run ${runId}\n`,
        );
      }
      return 0;
    }));
  registerEvalLm(evalCmd);
  registerEvalQa(evalCmd);
  registerEvalCompare(evalCmd);
  registerEvalGate(evalCmd);
  registerEvalTools(evalCmd);
  registerEvalAgents(evalCmd);
}
