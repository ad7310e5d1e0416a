// What `strata agent approve` and `strata agent reject` share: their common options, and recording
// the decision, then resuming the run once no call is left pending.
import type { Command } from "commander";
import { StrataError } from "../../../core/errors.js";
import { decide, runState } from "../../../agents/graph/runtime.js";
import { buildRun } from "../../../agents/run-spec.js";
import type { ToolBox } from "../../../agents/tools/tool.js";
import type { JsonValue } from "../../../agents/types.js";
import { usageError } from "../../errors.js";
import { type CommandContext, withCommand } from "../../run.js";
import { importModule, openResources, resumeThread } from "./execute.js";
import { actor, type RunFlags } from "./flags.js";
import { printRun, reportRun, runJson } from "./print.js";
import { DEFAULT_STORE, openStore, readSpec } from "./store.js";

/** Declares `approve` or `reject` with the options both take and the action; the caller adds its own options and examples. */
export function decisionCommand(agent: Command, name: "approve" | "reject", surface: { description: string; call: string }): Command {
  return agent
    .command(name)
    .description(surface.description)
    .argument("<thread>", "the run's thread id")
    .argument(surface.call, "the pending call's id (listed by run, resume and show)")
    .option("--comment <text>", "why (kept in the audit log; a rejection's reason is shown to the model)")
    .option("--by <name>", "who decides, for the audit log (default: your user name)")
    .option("--no-resume", "only record the decision; resume later")
    .option("--store <dir>", `agent store folder (default ${DEFAULT_STORE})`)
    .option("--quiet", "no progress lines on stderr")
    .option("--json", "print one JSON document: {threadId, status, pending, result, usage}")
    .action(withCommand(async (threadId: string, callId: string | undefined, flags: RunFlags & { comment?: string; resume?: boolean; args?: string; all?: boolean }, ctx: CommandContext) => {
      const store = openStore(flags);
      try {
        const t = store.requireThread(threadId);
        let args: JsonValue | undefined;
        if (flags.args !== undefined) {
          try {
            args = JSON.parse(flags.args) as JsonValue;
          } catch (e) {
            throw usageError(`--args is not JSON: ${(e as Error).message}`, `e.g. --args '{"title": "…"}'`);
          }
          if (flags.all) throw usageError("--args edits one call; it cannot go with --all", "approve the calls one by one");
        }
        const ids = flags.all ? store.approvalsOfRun(t.rootId, "pending").map((a) => a.callId) : callId ? [callId] : [];
        if (ids.length === 0) {
          if (flags.all) throw new StrataError("NOT_PENDING", `run ${threadId} has no calls waiting for approval`, "see the run with `strata agent show <thread>`");
          throw usageError("name the call to approve, or pass --all", `list pending calls with: strata agent show ${threadId}`);
        }
        const by = actor(flags);
        let tools: ToolBox | undefined;
        if (args !== undefined && t.spec !== null) {
          const spec = readSpec(t.spec, t.threadId);
          const res = await openResources({ ...spec, model: null }, { needModel: false }).catch(() => undefined);
          if (res) {
            tools = (await buildRun(spec, res.tools, { importModule }).catch(() => undefined))?.tools ?? res.tools;
            await res.close();
          }
        }
        for (const id of ids) decide(store, t.rootId, id, { approve: name === "approve", by, args, comment: flags.comment, auditKey: process.env.STRATA_AUDIT_KEY || undefined, tools });
        if (flags.resume === false) {
          const r = runState(store, t.rootId);
          if (flags.json) ctx.printJson(runJson(r));
          else process.stdout.write(`recorded: ${ids.join(", ")} ${name === "approve" ? "approved" : "rejected"} by ${by}; continue with: strata agent resume ${t.rootId}\n`);
          return 0;
        }
        const stillPending = store.approvalsOfRun(t.rootId, "pending");
        if (stillPending.length) {
          const r = runState(store, t.rootId);
          if (flags.json) ctx.printJson(runJson(r));
          else {
            process.stdout.write(`recorded: ${ids.join(", ")} ${name === "approve" ? "approved" : "rejected"} by ${by}; the run resumes when every pending call is decided\n`);
            printRun(r, store.location);
          }
          return 0;
        }
        const r = await resumeThread(store, t.rootId, { ...flags, by }, ctx);
        return reportRun(r, store.location, { json: flags.json, printJson: ctx.printJson });
      } finally {
        store.close();
      }
    }));
}
