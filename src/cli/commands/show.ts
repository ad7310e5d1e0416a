import type { Command } from "commander";
import { registerShowCommand } from "./docs.js";

/** `strata show <docId>`: the short form of `strata docs show`. */
export function registerShow(program: Command): void {
  registerShowCommand(program.command("show"));
}
