// `strata agent resume`: continues a run from its last checkpoint.
import type { Command } from "commander";
import { type CommandContext, withCommand } from "../../run.js";
import { resumeThread } from "./execute.js";
import type { RunFlags } from "./flags.js";
import { reportRun } from "./print.js";
import { DEFAULT_STORE, openStore } from "./store.js";

export function registerResume(agent: Command): void {
  agent
    .command("resume")
    .description("continue a run from its last checkpoint (after approvals, a budget stop, an error or a crash)")
    .argument("<thread>", "the run's thread id")
    .option("--budget <limits>", "new limits (replacing the named ones): tokens=N, cost=USD, calls=N, seconds=N")
    .option("--max-steps <n>", "new limit of model calls (goal runs)")
    .option("--model <ref>", "use this model reference from now on (e.g. the file moved)")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--by <name>", "who resumes, for the audit log")
    .option("--quiet", "no progress lines on stderr")
    .option("--json", "print one JSON document: {threadId, status, pending, result, usage}")
    .addHelpText("after", "\nExamples:\n  strata agent resume thr_0123456789abcdef\n  strata agent resume thr_0123456789abcdef --budget tokens=50000 --json")
    .action(withCommand(async (threadId: string, flags: RunFlags, ctx: CommandContext) => {
      const store = openStore(flags);
      try {
        const r = await resumeThread(store, threadId, flags, ctx);
        return reportRun(r, store.location, { json: flags.json, printJson: ctx.printJson });
      } finally {
        store.close();
      }
    }));
}
