// `strata audit verify <thread>`: recomputes a run's hash-chained audit log and reports any entry
// that was edited, removed or moved, or entries cut off its end.
import type { Command } from "commander";
import { resolve } from "node:path";
import { AgentStore } from "../../agents/store/agent-store.js";
import { AuditLog } from "../../agents/store/audit.js";
import { EXIT } from "../errors.js";
import { type CommandContext, withCommand } from "../run.js";
import { DEFAULT_STORE } from "./agent/index.js";

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("check the tamper-evident audit trail of agent runs");
  audit
    .command("verify")
    .description("recompute a run's hash chain: exit 0 when intact, 1 naming every entry that was edited, deleted or reordered")
    .argument("<thread>", "the run's thread id")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--json", "print one JSON document: {threadId, ok, entries, head, problems:[{seq, problem}]}")
    .addHelpText(
      "after",
      "\nThe chain is SHA-256, or HMAC-SHA-256 when STRATA_AUDIT_KEY was set for the run (set the same key here).\nKeep the printed head hash elsewhere to detect even a rewrite of the whole log.\n\nExample:\n  strata audit verify thr_0123456789abcdef --store ./uat/agents",
    )
    .action(withCommand(async (threadId: string, flags: { store?: string; json?: boolean }, ctx: CommandContext) => {
      const store = AgentStore.open(resolve(flags.store ?? DEFAULT_STORE), {});
      try {
        const t = store.requireThread(threadId);
        const v = new AuditLog(store, process.env.STRATA_AUDIT_KEY || undefined).verify(t.rootId);
        if (flags.json) ctx.printJson({ threadId: t.rootId, ...v });
        else if (v.ok) process.stdout.write(`audit log of ${t.rootId}: intact (${v.entries} entries, head ${v.head})\n`);
        else {
          process.stdout.write(`audit log of ${t.rootId}: BROKEN (${v.entries} entries)\n`);
          for (const p of v.problems) process.stdout.write(`  entry ${p.seq}: ${p.problem}\n`);
        }
        if (!v.ok) process.stderr.write(`error: the audit log of ${t.rootId} does not verify\nhint: restore the store from a backup; the listed entries were changed after they were written\n`);
        return v.ok ? EXIT.ok : EXIT.error;
      } finally {
        store.close();
      }
    }));
  for (const c of audit.commands) c.exitOverride();
}
