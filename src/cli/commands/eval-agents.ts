// `strata eval agents`: agent task success on Strata's scripted tool environments (stock ordering,
// calendar booking, a transfer), judged on each world's end state; the run is stored like the others.
import type { Command } from "commander";
import { builtinAgentTasks, runAgentTasks, summarizeAgentTasks } from "../../eval/agent-tasks.js";
import { appendItem, completeRun, createRun } from "../../eval/run-store.js";
import { createLanguageModel } from "../../model/registry.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";
import { codeVersion } from "./eval-qa.js";
import { publishTaskRun } from "./eval-tools.js";

export function registerEvalAgents(evalCmd: Command): void {
  evalCmd
    .command("agents")
    .description("agent task success on scripted tool environments, judged on each world's end state")
    .option("--model <ref>", "the model that drives the agent")
    .option("--runs <dir>", "where runs are stored", "eval-runs")
    .option("--publish <data-dir>", "publish the result into a server's data folder (Eval reports page)")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExample:\n  strata eval agents --model openai:http://127.0.0.1:11434/v1#qwen2.5:7b")
    .action(
      withCommand(async (flags: { model?: string; runs: string; publish?: string; json?: boolean }, ctx: CommandContext) => {
        if (!flags.model) throw usageError("--model <ref> is required", "e.g. --model openai:http://127.0.0.1:11434/v1#qwen2.5:7b");
        const tasks = builtinAgentTasks();
        const run = createRun(flags.runs, { kind: "agents", config: { model: flags.model }, dataset: { name: "scripted-worlds", path: "builtin", hash: "builtin-1", items: tasks.length }, codeVersion: codeVersion(), modelRef: flags.model });
        const model = await createLanguageModel(flags.model, providerOptions());
        const progress = progressDisplay({ quiet: flags.json });
        try {
          await runAgentTasks(tasks, model, { signal: ctx.signal, onProgress: progress.listener, onItem: (i) => appendItem(run, i) });
        } finally {
          progress.stop();
          await model.close();
        }
        const summary = summarizeAgentTasks(run.items);
        completeRun(run, summary);
        const published = flags.publish ? publishTaskRun(flags.publish, "agents", run.run.id, "scripted-worlds", run.items, summary) : undefined;
        if (flags.json) ctx.printJson({ run: run.run.id, summary, ...(published ? { publishedReport: published } : {}), tasks: run.items.map((i) => ({ id: i.id, success: i.metrics.success === 1, reason: i.detail.reason })) });
        else process.stdout.write(`run ${run.run.id}: ${summary.success_rate} success over ${summary.tasks} tasks\n${run.items.map((i) => `  ${i.metrics.success ? "ok  " : "FAIL"} ${i.id}: ${String(i.detail.reason)}`).join("\n")}\n`);
        return 0;
      }),
    );
}
