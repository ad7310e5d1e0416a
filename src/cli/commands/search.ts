import type { Command } from "commander";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { parseAccess, parseList, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface SearchFlags {
  kb?: string;
  k?: string;
  as?: string;
  groups?: string;
  tags?: string;
  source?: string;
  json?: boolean;
}

export function registerSearch(program: Command): void {
  program
    .command("search")
    .description("rank the chunks of a knowledge base for a query (BM25F; only documents the caller may read)")
    .argument("<query>", "what to look for")
    .option("--kb <dir>", "knowledge-base folder")
    .option("-k, --k <n>", "how many results (default 10)")
    .option("--as <user>", "search as this user (default: the store's owner, who sees everything)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--tags <tags>", "only documents with one of these tags")
    .option("--source <prefix>", "only documents whose source starts with this")
    .option("--json", "print one JSON document: {results:[…]}")
    .addHelpText("after", '\nExample:\n  strata search "night tours" --kb ./kb --as guest -k 5')
    .action(withCommand(async (query: string, flags: SearchFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const k = parsePositiveInt("-k", flags.k, 10, 1000);
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const hits = await kb.search(query, { k, access, filter: { tags: parseList(flags.tags), sourcePrefix: flags.source } });
        const results = hits.map((h) => ({ rank: h.rank, score: Number(h.score.toFixed(6)), docId: h.docId, source: h.source, chunkId: h.chunkId, headingPath: h.headingPath, page: h.page, start: h.start, end: h.end, text: h.text }));
        if (flags.json) ctx.printJson({ query, results });
        else if (results.length === 0) process.stdout.write("no results\n");
        else {
          for (const r of results) {
            const where = [r.headingPath.join(" › "), r.page ? `p. ${r.page}` : ""].filter(Boolean).join(", ");
            const snippet = r.text.replace(/\s+/g, " ").slice(0, 200);
            process.stdout.write(`${r.rank}. ${r.source}${where ? ` (${where})` : ""}  score ${r.score.toFixed(3)}\n   ${snippet}${r.text.length > 200 ? "…" : ""}\n`);
          }
        }
        return 0;
      } finally {
        kb.close();
      }
    }));
}
