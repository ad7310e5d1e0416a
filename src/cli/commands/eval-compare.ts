// `strata eval compare A B`: what got better and what got worse between two stored runs, with
// paired bootstrap 95% intervals, the items that changed most, and (with --judge) a
// position-swapped pairwise preference.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { compareRuns, type RunComparison } from "../../eval/compare.js";
import { compareReportInput, publishReport } from "../../eval/published-reports.js";
import { renderCompareReport } from "../../eval/qa-report-html.js";
import { openRun } from "../../eval/run-store.js";
import { createLanguageModel } from "../../model/registry.js";
import { providerOptions } from "../model-options.js";
import { parsePositiveInt } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface CompareFlags {
  runs: string;
  by?: string;
  top?: string;
  judge?: string;
  judgeLimit?: string;
  report?: string;
  publish?: string;
  json?: boolean;
}

const f = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : "—");
const signed = (x: number): string => (x >= 0 ? `+${f(x)}` : f(x));

function print(c: RunComparison): void {
  const out = [`A ${c.a.id} (${c.a.dataset}, ${c.a.items} items)  →  B ${c.b.id} (${c.b.dataset}, ${c.b.items} items); ${c.common} in common`, "", `  ${"metric".padEnd(24)} ${"A".padStart(8)} ${"B".padStart(8)} ${"Δ (B−A)".padStart(9)}  95% CI (paired bootstrap)`];
  for (const m of c.metrics) out.push(`  ${m.metric.padEnd(24)} ${f(m.meanA).padStart(8)} ${f(m.meanB).padStart(8)} ${signed(m.delta).padStart(9)}  [${f(m.low)}, ${f(m.high)}]${m.verdict ? `  ${m.verdict}` : ""}`);
  if (c.pairwise) {
    const p = c.pairwise;
    out.push("", `  judge prefers A ${p.a} · B ${p.b} · tie ${p.tie} · inconsistent ${p.inconsistent} · failed ${p.failed}; position consistency ${f(p.positionConsistency, 3)}`);
  }
  out.push("", `  items that changed most (${c.by}):`);
  for (const i of c.changed) out.push(`    ${i.id.padEnd(28)} ${f(i.a, 3)} → ${f(i.b, 3)} (${i.delta > 0 ? "+" : ""}${f(i.delta, 3)})  ${i.question.slice(0, 70)}`);
  if (c.changed.length === 0) out.push("    none");
  process.stdout.write(out.join("\n") + "\n");
}

export function registerEvalCompare(evalCmd: Command): void {
  evalCmd
    .command("compare <a> <b>")
    .description("compare two stored runs: per-metric deltas with paired bootstrap 95% intervals, and the items that changed most")
    .option("--runs <dir>", "where the runs are stored (runs may also be given as folders)", "eval-runs")
    .option("--by <metric>", "metric that ranks the changed items (default f1)")
    .option("--top <n>", "how many changed items to list (default 10)")
    .option("--judge <ref>", "also ask a judge model which answer is better, in both orders")
    .option("--judge-limit <n>", "judge at most n items pairwise")
    .option("--report <file.html>", "write the comparison as an HTML page")
    .option("--publish <data-dir>", "publish it to a server's Eval reports page")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  strata eval compare 20261207-171500-1a2b3c4d 20261207-172210-5e6f7a8b\n  strata eval compare runs/a runs/b --by citation_recall --report diff.html")
    .action(
      withCommand(async (a: string, b: string, flags: CompareFlags, ctx: CommandContext) => {
        const A = openRun(a, flags.runs);
        const B = openRun(b, flags.runs);
        const judge = flags.judge ? await createLanguageModel(flags.judge, providerOptions()) : undefined;
        try {
          const c = await compareRuns(A, B, { by: flags.by, top: parsePositiveInt("--top", flags.top, 10, 1000), judge, judgeLimit: flags.judgeLimit === undefined ? undefined : parsePositiveInt("--judge-limit", flags.judgeLimit, 1, 1e7), signal: ctx.signal });
          const command = `strata ${process.argv.slice(2).join(" ")}`;
          const html = flags.report || flags.publish ? renderCompareReport(c, { command }) : undefined;
          if (flags.report && html) {
            writeFileSync(flags.report, html);
            process.stderr.write(`report: ${flags.report}\n`);
          }
          let published: string | undefined;
          if (flags.publish) {
            published = publishReport(flags.publish, compareReportInput(c, { command }), html ? { html } : {}).id;
            process.stderr.write(`published: report ${published} in ${flags.publish}\n`);
          }
          if (flags.json) ctx.printJson({ ...c, ...(published ? { publishedReport: published } : {}) });
          else print(c);
          return 0;
        } finally {
          await judge?.close();
        }
      }),
    );
}
