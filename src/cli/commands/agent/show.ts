// `strata agent show`: a run's timeline, pending calls and checkpoints, or without a thread the recent runs.
import type { Command } from "commander";
import { runState } from "../../../agents/graph/runtime.js";
import { AuditLog } from "../../../agents/store/audit.js";
import { parsePositiveInt } from "../../options.js";
import { type CommandContext, withCommand } from "../../run.js";
import { describeStatus, printRun, runJson } from "./print.js";
import { DEFAULT_STORE, openStore } from "./store.js";
import { formatEntry } from "./timeline.js";

export function registerShow(agent: Command): void {
  agent
    .command("show")
    .description("a run's timeline (model calls, tool calls, approvals, budget events), pending calls and checkpoints; without a thread, the recent runs")
    .argument("[thread]", "the run's thread id")
    .option("--checkpoints", "also list every checkpoint (id, step, nodes that ran, nodes next)")
    .option("--limit <n>", "without a thread: how many runs to list (default 20)")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--json", "print one JSON document: {thread, status, pending, result, usage, timeline:[…], checkpoints:[…]} (or {runs:[…]})")
    .addHelpText("after", "\nExamples:\n  strata agent show\n  strata agent show thr_0123456789abcdef --checkpoints")
    .action(withCommand(async (threadId: string | undefined, flags: { store?: string; json?: boolean; checkpoints?: boolean; limit?: string }, ctx: CommandContext) => {
      const store = openStore(flags);
      try {
        if (threadId === undefined) {
          const runs = store.listThreads(parsePositiveInt("--limit", flags.limit, 20, 10_000)).map((t) => ({ threadId: t.threadId, graph: t.graph, status: t.status, createdAt: t.createdAt, updatedAt: t.updatedAt, pending: store.approvalsOfRun(t.threadId, "pending").length }));
          if (flags.json) ctx.printJson({ runs });
          else if (runs.length === 0) process.stdout.write(`no runs in ${store.location}\n`);
          else for (const r of runs) process.stdout.write(`${r.threadId}  ${describeStatus(r.status, r.pending).padEnd(20)}  ${r.graph.padEnd(16)}  ${r.createdAt}${r.pending ? `  ${r.pending} pending` : ""}\n`);
          return 0;
        }
        const t = store.requireThread(threadId);
        const state = runState(store, t.rootId);
        const timeline = new AuditLog(store).entries(t.rootId);
        const checkpoints = flags.checkpoints || flags.json ? store.threadsOfRun(t.rootId).flatMap((th) => store.listCheckpoints(th.threadId).map((c) => ({ checkpointId: c.checkpointId, threadId: c.threadId, step: c.step, ran: c.ran, next: c.next, createdAt: c.createdAt }))) : [];
        if (flags.json) {
          ctx.printJson({ thread: { threadId: t.threadId, graph: t.graph, status: t.status, createdAt: t.createdAt, forkedFrom: t.forkedFrom, spec: t.spec }, ...runJson(state), timeline, checkpoints });
          return 0;
        }
        process.stdout.write(`run ${t.threadId} · graph ${t.graph} · ${describeStatus(t.status, state.pending.length)}${t.forkedFrom ? ` · forked from ${t.forkedFrom}` : ""} · started ${t.createdAt}\n\n`);
        for (const e of timeline) process.stdout.write(formatEntry(e) + "\n");
        process.stdout.write("\n");
        printRun(state, store.location);
        if (flags.checkpoints) {
          process.stdout.write("\ncheckpoints:\n");
          for (const c of checkpoints) process.stdout.write(`  ${c.checkpointId}  ${c.threadId === t.rootId ? "" : `${c.threadId}  `}step ${c.step}  ran ${c.ran.join(", ") || "(input)"}  → ${c.next.join(", ") || "END"}\n`);
        }
        return 0;
      } finally {
        store.close();
      }
    }));
}
