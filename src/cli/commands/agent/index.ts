// `strata agent run | resume | approve | reject | show | fork`: agent runs and workflow graphs with
// checkpoints in an agent store (default .strata/agents). A run records how it was started (its
// "spec": goal or graph file, model reference, tools and their settings, budget, variables), so a
// later command in another process — an approval the next morning, a resume after a crash — rebuilds
// the same run and continues it from its last checkpoint.
import type { Command } from "commander";
import { registerApprove } from "./approve.js";
import { registerFork } from "./fork.js";
import { registerReject } from "./reject.js";
import { registerResume } from "./resume.js";
import { registerRun } from "./run.js";
import { registerShow } from "./show.js";

// The exports of the former single-file module, kept for its importers.
export { BUILTIN_TOOLS, type RunSpec } from "../../../agents/run-spec.js";
export { parseBudget } from "./flags.js";
export { runJson } from "./print.js";
export { DEFAULT_STORE } from "./store.js";

export function registerAgent(program: Command): void {
  const agent = program.command("agent").description("run tool-using agents and workflow graphs with checkpoints, approvals, budgets and an audit trail");
  agent.addHelpText("after", "\nExamples:\n  strata agent run --goal \"What is 17.5% of 2,340?\" --model gguf:./models/chat.gguf\n  strata agent show\n  strata agent approve <thread> <call>");

  registerRun(agent);
  registerResume(agent);
  registerApprove(agent);
  registerReject(agent);
  registerShow(agent);
  registerFork(agent);

  // Subcommands are made after main.ts's settings: give them its usage-error handling (exit 2).
  for (const c of agent.commands) c.exitOverride();
}
