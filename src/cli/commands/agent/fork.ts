// `strata agent fork`: starts a new run from a checkpoint of another, optionally with changed state.
import type { Command } from "commander";
import { forkRun } from "../../../agents/graph/runtime.js";
import { usageError } from "../../errors.js";
import { type CommandContext, withCommand } from "../../run.js";
import { resumeThread } from "./execute.js";
import { actor, collect, type RunFlags } from "./flags.js";
import { reportRun } from "./print.js";
import { DEFAULT_STORE, openStore } from "./store.js";

export function registerFork(agent: Command): void {
  agent
    .command("fork")
    .description("start a new run from a checkpoint of another (to try another path, or after changing its state)")
    .argument("<checkpoint>", "checkpoint id (listed by `strata agent show <thread> --checkpoints`)")
    .option("--set <key=json>", "replace a state key in the fork (repeatable), e.g. --set 'goal=\"shorter\"'", collect)
    .option("--run", "resume the fork right away")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--by <name>", "who forks, for the audit log")
    .option("--quiet", "no progress lines on stderr")
    .option("--json", "print one JSON document: {threadId, forkedFrom} (with --run: the run's result)")
    .addHelpText("after", "\nExample:\n  strata agent fork ckpt_000003_9f2c1a7b --set 'plan=[\"check the invoice\"]' --run")
    .action(withCommand(async (checkpointId: string, flags: RunFlags & { set?: string[]; run?: boolean }, ctx: CommandContext) => {
      const update: Record<string, unknown> = {};
      for (const s of flags.set ?? []) {
        const i = s.indexOf("=");
        if (i <= 0) throw usageError(`--set: "${s}" is not key=json`, `e.g. --set 'goal="…"'`);
        try {
          update[s.slice(0, i)] = JSON.parse(s.slice(i + 1));
        } catch (e) {
          throw usageError(`--set ${s.slice(0, i)}: the value is not JSON: ${(e as Error).message}`, `quote strings: --set 'goal="…"'`);
        }
      }
      const store = openStore(flags);
      try {
        const threadId = forkRun(store, checkpointId, { update: Object.keys(update).length ? update : undefined, actor: actor(flags), auditKey: process.env.STRATA_AUDIT_KEY || undefined });
        if (!flags.run) {
          if (flags.json) ctx.printJson({ threadId, forkedFrom: checkpointId });
          else process.stdout.write(`forked ${checkpointId} as ${threadId}; continue with: strata agent resume ${threadId}\n`);
          return 0;
        }
        const r = await resumeThread(store, threadId, flags, ctx);
        return reportRun(r, store.location, { json: flags.json, printJson: ctx.printJson });
      } finally {
        store.close();
      }
    }));
}
