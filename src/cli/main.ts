#!/usr/bin/env node
// The `strata` command: one file per command under commands/; this file only wires them up and
// turns commander's own usage errors into exit code 2 with a hint.
import { Command, CommanderError } from "commander";
import { registerAgent } from "./commands/agent/index.js";
import { registerAsk } from "./commands/ask.js";
import { registerAudit } from "./commands/audit.js";
import { registerChat } from "./commands/chat.js";
import { registerDocs } from "./commands/docs.js";
import { registerEmbed } from "./commands/embed.js";
import { registerEval } from "./commands/eval.js";
import { registerExport } from "./commands/export.js";
import { registerGenerate } from "./commands/generate.js";
import { registerIndex } from "./commands/index-cmd.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerGuardrails } from "./commands/guardrails.js";
import { registerIngest } from "./commands/ingest.js";
import { registerMcp } from "./commands/mcp.js";
import { registerModels } from "./commands/models.js";
import { registerSearch } from "./commands/search.js";
import { registerServe } from "./commands/serve.js";
import { registerShow } from "./commands/show.js";
import { registerTrace } from "./commands/trace.js";
import { registerTrain } from "./commands/train.js";
import { EXIT } from "./errors.js";

// `strata … | head` closes the pipe early: that is the reader being done, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT.ok);
    throw e;
  });
}

const program = new Command();
program
  .name("strata")
  .description("Strata: a generative-AI stack you run on your own machine. Knowledge bases with cited answers, models (GGUF, OpenAI-compatible, our own engine), training, agents, evaluation and a server with a web UI.")
  .version("0.1.0")
  .option("--debug", "print stack traces for errors")
  .showHelpAfterError("(run with --help for usage)")
  .addHelpText("after", '\nExample:\n  strata ingest ./docs --kb ./kb && strata ask "How do I reset my password?" --kb ./kb')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`error: ${str.replace(/^error:\s*/, "")}`) });

registerIngest(program);
registerIndex(program);
registerMigrate(program);
registerEmbed(program);
registerSearch(program);
registerAsk(program);
registerChat(program);
registerShow(program);
registerDocs(program);
registerGuardrails(program);
registerTrace(program);
registerTrain(program);
registerEval(program);
registerGenerate(program);
registerExport(program);
registerModels(program);
registerMcp(program);
registerServe(program);
registerAgent(program);
registerAudit(program);
for (const c of program.commands) c.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    const ok = e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help";
    process.exitCode = ok ? EXIT.ok : EXIT.usage;
  } else throw e;
}
