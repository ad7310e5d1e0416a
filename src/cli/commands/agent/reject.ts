// `strata agent reject`: rejects a pending tool call (the model is told why) and resumes the run.
import type { Command } from "commander";
import { decisionCommand } from "./decide.js";

export function registerReject(agent: Command): void {
  decisionCommand(agent, "reject", { description: "reject a pending tool call (the model is told) and resume the run", call: "<call>" })
    .addHelpText("after", "\nExample:\n  strata agent reject thr_0123456789abcdef call_2_1 --comment \"do not file duplicates\"");
}
