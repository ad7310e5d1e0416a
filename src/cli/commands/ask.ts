import type { Command } from "commander";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { parseAccess, parseList, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface AskFlags {
  kb?: string;
  as?: string;
  groups?: string;
  tags?: string;
  k?: string;
  json?: boolean;
}

export function registerAsk(program: Command): void {
  program
    .command("ask")
    .description("answer a question from a knowledge base, citing the exact source span of every sentence")
    .argument("<question>", "the question")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--as <user>", "ask as this user (default: the store's owner, who sees everything)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--tags <tags>", "only documents with one of these tags")
    .option("-k, --k <n>", "chunks to read for the answer (default 8)")
    .option("--json", "print one JSON document: {answer, mode, supported, citations:[…], sentences, trace}")
    .addHelpText(
      "after",
      '\nWithout a model (the default) the answer is extractive: sentences quoted from the sources, each with\nits citation [n]; when no sentence covers the question well enough it says so instead of guessing.\n\nExample:\n  strata ask "How much does an adult ticket cost?" --kb ./kb --as guest',
    )
    .action(withCommand(async (question: string, flags: AskFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const k = parsePositiveInt("-k", flags.k, 8, 100);
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const a = await kb.answer(question, { access, k, filter: { tags: parseList(flags.tags) } });
        if (flags.json) {
          ctx.printJson(a);
          return 0;
        }
        process.stdout.write(`${a.answer}\n\n`);
        process.stdout.write(`mode: extractive (no language model; sentences quoted from the sources)${a.supported ? "" : " — not found"}\n`);
        for (const c of a.citations) {
          process.stdout.write(`[${c.n}] ${c.source}${c.page ? ` p. ${c.page}` : ""} chars ${c.start}–${c.end}: "${c.quote}"\n`);
        }
        return 0;
      } finally {
        kb.close();
      }
    }));
}
