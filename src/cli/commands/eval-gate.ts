// `strata eval gate`: measures the regression gate's figures and checks them against the recorded
// baselines (exit 1 when one fell), or records new baselines with --update.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { checkGate, measureGate, readBaseline, writeBaseline } from "../../eval/gate.js";
import { junitXml } from "../../eval/junit.js";
import { EXIT } from "../errors.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";
import { codeVersion } from "./eval-qa.js";

interface GateFlags {
  data: string;
  baselines: string;
  update?: boolean;
  junit?: string;
  json?: boolean;
}

export function registerEvalGate(evalCmd: Command): void {
  evalCmd
    .command("gate")
    .description("the regression gate: SciFact nDCG@10 and extractive SQuAD F1 and abstention must not fall below the recorded baselines")
    .option("--data <dir>", "the shared data folder holding scifact/ and squad/", "../shared/data")
    .option("--baselines <file>", "the baseline file", "test/eval/baselines.json")
    .option("--update", "record the measured figures as the new baselines (on purpose only: commit the file)")
    .option("--junit <file.xml>", "write the checks as JUnit XML")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  strata eval gate\n  strata eval gate --update          # after a change that is meant to move the figures")
    .action(
      withCommand(async (flags: GateFlags, ctx: CommandContext) => {
        const progress = progressDisplay({ quiet: flags.json });
        const t0 = Date.now();
        const figures = await measureGate(resolve(flags.data), { signal: ctx.signal, onProgress: progress.listener });
        progress.stop();
        const seconds = (Date.now() - t0) / 1000;
        if (flags.update) {
          const b = writeBaseline(flags.baselines, figures, codeVersion());
          if (flags.json) ctx.printJson({ updated: flags.baselines, baseline: b, seconds });
          else process.stdout.write(`recorded ${flags.baselines}:\n${Object.entries(figures).map(([k, v]) => `  ${k.padEnd(28)} ${v.toFixed(4)}`).join("\n")}\n`);
          return EXIT.ok;
        }
        const checks = checkGate(figures, readBaseline(flags.baselines));
        const failed = checks.filter((c) => !c.ok);
        if (flags.junit) writeFileSync(flags.junit, junitXml("strata eval gate", checks.map((c) => ({ name: c.name, classname: "gate", ...(c.ok ? {} : { failure: { message: `${c.value.toFixed(4)} < baseline ${c.baseline.toFixed(4)}` } }) }))));
        if (flags.json) ctx.printJson({ ok: failed.length === 0, checks, seconds });
        else process.stdout.write(checks.map((c) => `  ${c.ok ? "ok  " : "FELL"} ${c.name.padEnd(28)} ${c.value.toFixed(4)}  (baseline ${c.baseline.toFixed(4)})`).join("\n") + `\n${failed.length === 0 ? "gate passed" : `gate failed: ${failed.length} figure(s) fell`} in ${seconds.toFixed(1)} s\n`);
        return failed.length === 0 ? EXIT.ok : EXIT.error;
      }),
    );
}
