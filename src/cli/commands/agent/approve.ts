// `strata agent approve`: approves pending tool calls (optionally with edited arguments) and resumes the run.
import type { Command } from "commander";
import { decisionCommand } from "./decide.js";

export function registerApprove(agent: Command): void {
  decisionCommand(agent, "approve", { description: "approve a pending tool call (optionally with edited arguments) and resume the run", call: "[call]" })
    .option("--args <json>", "approve with these arguments instead (JSON object)")
    .option("--all", "approve every pending call of the run")
    .addHelpText("after", "\nExamples:\n  strata agent approve thr_0123456789abcdef call_2_1\n  strata agent approve thr_0123456789abcdef call_2_1 --args '{\"title\": \"Login with SSO\"}' --comment \"shorter title\"\n  strata agent approve thr_0123456789abcdef --all --json");
}
