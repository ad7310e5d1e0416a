import type { Command } from "commander";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { parseAccess, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface ShowFlags {
  kb?: string;
  as?: string;
  groups?: string;
  json?: boolean;
}

export function registerShow(program: Command): void {
  program
    .command("show")
    .description("show a document's lineage, access list and extracted text (the text citations point into)")
    .argument("<docId>", "document id, as in search results and citations")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--as <user>", "read as this user (default: the store's owner)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--json", "print one JSON document: {docId, source, version, hash, acl, text, …}")
    .addHelpText("after", "\nExample:\n  strata show doc_0123456789abcdef --kb ./kb --json")
    .action(withCommand(async (docId: string, flags: ShowFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const d = kb.getDocument(docId, access);
        if (flags.json) ctx.printJson({ docId: d.docId, source: d.source, title: d.title, mime: d.mime, version: d.version, hash: d.hash, ingestedAt: d.ingestedAt, tags: d.tags, acl: d.acl, text: d.text });
        else {
          const acl = d.acl.users.length + d.acl.groups.length === 0 ? "public" : `users [${d.acl.users.join(", ")}], groups [${d.acl.groups.join(", ")}]`;
          process.stdout.write(`${d.title}\nsource: ${d.source}\nversion ${d.version}, sha256 ${d.hash}, ingested ${d.ingestedAt}\naccess: ${acl}\ntags: ${d.tags.join(", ") || "none"}\n\n${d.text}\n`);
        }
        return 0;
      } finally {
        kb.close();
      }
    }));
}
