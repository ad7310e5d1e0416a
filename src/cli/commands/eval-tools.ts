// `strata eval tools`: function calling on BFCL files (simple, multiple, parallel,
// parallel-multiple), scored by the AST checker; stored and resumable like `eval qa`.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { readBfcl } from "../../eval/bfcl.js";
import { junitXml } from "../../eval/junit.js";
import { publishReport, taskReportInput } from "../../eval/published-reports.js";
import { appendItem, completeRun, createRun, openRun } from "../../eval/run-store.js";
import { runToolsEval, summarizeTools } from "../../eval/tools-eval.js";
import { sha256 } from "../../core/hash.js";
import { createLanguageModel } from "../../model/registry.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parsePositiveInt } from "../options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";
import { codeVersion } from "./eval-qa.js";

interface ToolsFlags {
  data: string[];
  model?: string;
  limit?: string;
  runs: string;
  resume?: string;
  junit?: string;
  publish?: string;
  json?: boolean;
}

export function registerEvalTools(evalCmd: Command): void {
  evalCmd
    .command("tools")
    .description("function calling on BFCL files (simple, multiple, parallel, parallel-multiple), scored by BFCL's AST checker")
    .option("--data <file...>", "BFCL question files; possible_answer/<same name> must sit beside each")
    .option("--model <ref>", "the model that calls the functions")
    .option("--limit <n>", "the first n questions of each file")
    .option("--runs <dir>", "where runs are stored", "eval-runs")
    .option("--resume <run-id>", "continue an interrupted run")
    .option("--junit <file.xml>", "write JUnit XML (one case per question)")
    .option("--publish <data-dir>", "publish the result into a server's data folder (Eval reports page)")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  strata eval tools --data ../shared/data/bfcl/BFCL_v4_simple_python.json ../shared/data/bfcl/BFCL_v4_multiple.json --model openai:http://127.0.0.1:11434/v1#qwen2.5:7b\n  strata eval tools --data BFCL_v4_parallel.json --model gguf:./model.gguf --limit 50 --json")
    .action(
      withCommand(async (flags: ToolsFlags, ctx: CommandContext) => {
        if (!flags.data?.length) throw usageError("--data <file...> is required", "e.g. --data ../shared/data/bfcl/BFCL_v4_simple_python.json");
        if (!flags.model) throw usageError("--model <ref> is required", "e.g. --model openai:http://127.0.0.1:11434/v1#qwen2.5:7b");
        const limit = flags.limit === undefined ? Infinity : parsePositiveInt("--limit", flags.limit, 1, 1e7);
        const items = flags.data.flatMap((f) => readBfcl(f).slice(0, limit));
        const hash = sha256(JSON.stringify(items.map((i) => [i.id, i.messages, i.functions, i.truth])));
        const config = { model: flags.model, data: flags.data, limit: Number.isFinite(limit) ? limit : null };
        const run = flags.resume
          ? openRun(flags.resume, flags.runs)
          : createRun(flags.runs, { kind: "tools", config, dataset: { name: "bfcl", path: flags.data.join(","), hash, items: items.length }, codeVersion: codeVersion(), modelRef: flags.model });
        if (run.run.dataset.hash !== hash) throw usageError(`run ${run.run.id} scored other questions`, "resume with the same --data and --limit");
        const model = await createLanguageModel(flags.model, providerOptions());
        const progress = progressDisplay({ quiet: flags.json });
        try {
          await runToolsEval(items, model, { done: new Set(run.items.map((i) => i.id)), signal: ctx.signal, onProgress: progress.listener, onItem: (i) => appendItem(run, i) });
        } finally {
          progress.stop();
          await model.close();
        }
        const summary = summarizeTools(run.items);
        completeRun(run, summary);
        if (flags.junit) writeFileSync(flags.junit, junitXml("strata eval tools", run.items.map((i) => ({ name: i.id, classname: String(i.detail.category), time: (i.metrics.ms ?? 0) / 1000, ...(i.metrics.correct === 1 ? {} : { failure: { message: `${String(i.detail.verdict)}: ${String(i.detail.reason)}` } }) })), { accuracy: summary.accuracy ?? 0 }));
        const published = flags.publish ? publishTaskRun(flags.publish, "tools", run.run.id, "bfcl", run.items, summary) : undefined;
        if (flags.json) ctx.printJson({ run: run.run.id, summary, ...(published ? { publishedReport: published } : {}) });
        else process.stdout.write(`run ${run.run.id}\n${Object.entries(summary).map(([k, v]) => `  ${k.padEnd(28)} ${v}`).join("\n")}\n`);
        return 0;
      }),
    );
}

/** Publishes a tools or agents run for the server's Eval reports page; returns the report id. */
export function publishTaskRun(dataDir: string, kind: "tools" | "agents", id: string, dataset: string, items: Parameters<typeof taskReportInput>[1]["items"], summary: Record<string, number | null>): string {
  const command = `strata ${process.argv.slice(2).join(" ")}`;
  const published = publishReport(dataDir, taskReportInput(kind, { id, dataset, items, summary }, { command })).id;
  process.stderr.write(`published: report ${published} in ${dataDir}\n`);
  return published;
}
